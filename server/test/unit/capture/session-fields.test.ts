import { describe, expect, it } from 'vitest';
import { CaptureState } from '../../../src/capture/index.js';
import { flush, harness } from './fakes.js';

describe('CaptureSession: per-field timers and attempts (CaptureConfig.fields)', () => {
  it('a field with its own maxAttempts ends the attempt at its count while the others keep theirs', async () => {
    const h = harness({ config: { maxAttempts: 3, fields: { expiry: { maxAttempts: 1 } } } });
    await h.session.start();
    await flush();
    await h.key('4111111111111112#');
    expect(h.of('field.failed')).toMatchObject([{ field: 'pan', reason: 'luhn', attemptsLeft: 2 }]);
    await h.key('4111111111111111#0120');
    expect(h.of('field.failed').at(-1)).toMatchObject({ field: 'expiry', reason: 'expired', attemptsLeft: 0 });
    const result = await h.session.done;
    expect(result).toMatchObject({ outcome: 'failed', reason: 'too-many-attempts' });
  });

  it('a field with its own first-digit timeout times out then, the others at the session-wide one', async () => {
    const h = harness({ config: { firstDigitMs: 10_000, fields: { expiry: { firstDigitMs: 3_000 } } } });
    await h.session.start();
    await flush();
    h.clock.advance(9_999);
    await flush();
    expect(h.of('field.failed')).toEqual([]);
    await h.key('4111111111111111#');
    expect(h.session.state).toBe(CaptureState.Expiry);
    h.clock.advance(2_999);
    await flush();
    expect(h.of('field.failed')).toEqual([]);
    h.clock.advance(1);
    await flush();
    expect(h.of('field.failed')).toMatchObject([{ field: 'expiry', reason: 'no-input', attemptsLeft: 2 }]);
  });

  it('panLength 16-16 refuses a valid 15-digit Amex as bad-length and submits a 16-digit card at its 16th digit', async () => {
    const h = harness({ config: { panLength: { min: 16, max: 16 } } });
    await h.session.start();
    await flush();
    expect(h.of('field.started')[0]).toMatchObject({ field: 'pan', length: { min: 16, max: 16 } });
    await h.key('378282246310005#');
    expect(h.of('field.failed')).toMatchObject([{ field: 'pan', reason: 'bad-length', attemptsLeft: 2 }]);
    await h.key('4111111111111111');
    expect(h.session.state).toBe(CaptureState.Expiry);
  });

  it('the re-prompt after a failure says the attempts left under the configured count; an agent retry does not', async () => {
    const h = harness({ config: { maxAttempts: 5 } });
    await h.session.start();
    await flush();
    await h.key('4111111111111112#');
    expect(h.port.plays.at(-1)!.items).toEqual(['invalid.pan', { id: 'attempts.left', n: 4 }, 'enter.pan']);
    expect(h.of('prompt.playing').at(-1)!.prompts).toContain('attempts.left');
    await h.key('4111111111111111#');
    expect(h.session.onAgentCommand({ type: 'field.retry', field: 'pan' })).toEqual({ ok: true });
    await flush();
    expect(h.port.plays.at(-1)!.items).toEqual(['agent.retry', 'enter.pan']);
  });

  it('panTerminator none: the prompt does not ask for #, # does not end the number, a pause does', async () => {
    const h = harness({ config: { panTerminator: 'none' } });
    await h.session.start();
    await flush();
    expect(h.port.plays.at(-1)!.items).toEqual(['enter.pan.no-hash', 'star.clears']);
    await h.key('4111111111111111#');
    expect(h.session.state).toBe(CaptureState.Pan);
    expect(h.of('field.failed')).toEqual([]);
    h.clock.advance(5_000);
    await flush();
    expect(h.session.state).toBe(CaptureState.Expiry);
    expect(h.of('field.completed').map((e) => e.field)).toEqual(['pan']);
  });
});

import { describe, expect, it } from 'vitest';
import { CaptureRegistry, type LiveCapture } from '../../../../src/calls/payment/capture-registry.js';
import type { CommandResult } from '../../../../src/capture/port.js';

function capture(id: string, answer: CommandResult, result?: unknown): LiveCapture & { got: unknown[] } {
  const got: unknown[] = [];
  return { id, result, got, onAgentCommand: (c) => (got.push(c), answer) };
}

describe('CaptureRegistry', () => {
  it('routes a command to the capture with that session id', () => {
    const reg = new CaptureRegistry();
    const a = capture('s1', { ok: true });
    const b = capture('s2', { ok: true });
    reg.add(a);
    reg.add(b);
    expect(reg.command('s2', { type: 'session.cancel' })).toEqual({ ok: true });
    expect(a.got).toEqual([]);
    expect(b.got).toEqual([{ type: 'session.cancel' }]);
  });

  it('an unknown or removed session is not-found', () => {
    const reg = new CaptureRegistry();
    const a = capture('s1', { ok: true });
    expect(reg.command('s1', { type: 'session.cancel' })).toMatchObject({ ok: false, error: 'not-found' });
    reg.add(a);
    reg.remove(a);
    expect(reg.command('s1', { type: 'session.cancel' })).toMatchObject({ ok: false, error: 'not-found' });
    expect(reg.size).toBe(0);
  });

  it("a capture's refusal is refused with its reason", () => {
    const reg = new CaptureRegistry();
    reg.add(capture('s1', { ok: false, reason: 'not allowed while paying' }));
    expect(reg.command('s1', { type: 'session.cancel' })).toEqual({ ok: false, error: 'refused', message: 'the capture refused it: not allowed while paying' });
  });

  it('a capture whose outcome is decided is refused without being asked', () => {
    const reg = new CaptureRegistry();
    const a = capture('s1', { ok: true }, { outcome: 'paid' });
    reg.add(a);
    expect(reg.command('s1', { type: 'field.retry', field: 'pan' })).toMatchObject({ ok: false, error: 'refused' });
    expect(a.got).toEqual([]);
  });

  it('removing an older capture does not remove a newer one under the same id', () => {
    const reg = new CaptureRegistry();
    const old = capture('s1', { ok: true });
    const next = capture('s1', { ok: true });
    reg.add(old);
    reg.add(next);
    reg.remove(old);
    expect(reg.command('s1', { type: 'session.cancel' })).toEqual({ ok: true });
    expect(next.got).toHaveLength(1);
  });
});

import { describe, expect, it } from 'vitest';
import { CaptureState } from '../../../src/capture/index.js';
import { DltError } from '../../../src/providers/dlt.js';
import { ProviderError } from '../../../src/providers/errors.js';
import { SmsRoutesFailedError } from '../../../src/providers/sms-client.js';
import { BreakerState, CircuitBreaker, DEFAULT_BREAKER } from '../../../src/providers/resilience/circuit-breaker.js';
import { FakeClock } from '../../support/fake-clock.js';
import { FakePort, flush, harness, toOtp } from './fakes.js';

const pe = (code: ConstructorParameters<typeof ProviderError>[0]) => new ProviderError(code, true, { provider: 'payment' });

describe('CaptureSession: provider fallbacks', () => {
  it('OTP generation fails (after the client retries): customer and agent told, failed, handed back', async () => {
    const h = harness();
    h.payment.generate.push(pe('server-error'));
    await toOtp(h);
    const r = await h.session.done;
    expect(r).toEqual({ outcome: 'failed', reason: 'otp-unavailable' });
    expect(h.of('provider.issue')).toMatchObject([{ step: 'otp-generate', code: 'server-error', action: 'ended' }]);
    expect(h.port.heard()).toEqual(expect.arrayContaining(['otp.unavailable', 'handback']));
    expect(h.port.ends).toEqual(['failed']);
    expect(h.port.modes.at(-1)).toBe('normal');
  });

  it.each<[string, { min: number; max: number } | undefined, string]>([
    ['no range: any length the provider gives', undefined, '918273'],
    ['a 6-digit OTP within 4-6', { min: 4, max: 6 }, '918273'],
    ['a 4-digit OTP within 4-4', { min: 4, max: 4 }, '9182'],
  ])('capture policy otpLength, %s: the OTP is sent and keyed', async (_name, otpLength, otp) => {
    const h = harness({ config: otpLength ? { otpLength } : {} });
    h.payment.otp = otp;
    await toOtp(h);
    expect(h.session.state).toBe(CaptureState.OtpEntry);
    await h.key(otp);
    expect(await h.session.done).toMatchObject({ outcome: 'paid' });
  });

  it.each<[string, { min: number; max: number }, string]>([
    ['longer than the range', { min: 4, max: 4 }, '918273'],
    ['shorter than the range', { min: 8, max: 8 }, '918273'],
  ])('capture policy otpLength: an OTP %s is never sent; the step ends as unavailable', async (_name, otpLength, otp) => {
    const h = harness({ config: { otpLength } });
    h.payment.otp = otp;
    await toOtp(h);
    expect(await h.session.done).toEqual({ outcome: 'failed', reason: 'otp-unavailable' });
    expect(h.of('provider.issue')).toMatchObject([{ step: 'otp-generate', code: 'otp-length', action: 'ended' }]);
    expect(h.sms.texts).toEqual([]);
    expect(h.payment.issued[0]!.disposed).toBe(true);
    expect(h.port.heard()).toEqual(expect.arrayContaining(['otp.unavailable']));
  });

  it('every SMS route fails: the customer is offered a resend with #, which works', async () => {
    const h = harness();
    h.sms.script.push(new SmsRoutesFailedError([{ route: 'primary', code: 'server-error' }, { route: 'secondary', code: 'timeout' }]));
    await toOtp(h);
    expect(h.session.state).toBe(CaptureState.OtpEntry);
    expect(h.of('provider.issue')).toMatchObject([{ step: 'sms', code: 'all-routes-failed', action: 'offer-resend' }]);
    expect(h.port.plays.at(-1)!.items).toEqual(['otp.sms-failed']);
    expect(h.payment.issued[0]!.disposed).toBe(true);
    await h.key('#');
    expect(h.of('otp.sent')).toMatchObject([{ resend: 1 }]);
    await h.key('918273');
    expect(await h.session.done).toMatchObject({ outcome: 'paid' });
  });

  it('an SMS the DLT template refuses cannot be helped by a resend: failed', async () => {
    const h = harness();
    h.sms.script.push(new DltError('var-too-long', 3));
    await toOtp(h);
    expect(await h.session.done).toEqual({ outcome: 'failed', reason: 'sms-failed' });
    expect(h.of('provider.issue')).toMatchObject([{ step: 'sms', code: 'dlt-invalid', action: 'ended' }]);
  });

  it('OTP validation unavailable (after the client retries): fails clean', async () => {
    const h = harness();
    h.payment.validate.push(pe('timeout'));
    await toOtp(h);
    await h.key('918273');
    expect(await h.session.done).toEqual({ outcome: 'failed', reason: 'otp-validation-unavailable' });
    expect(h.payment.payCalls).toEqual([]);
    expect(h.digits.every((d) => d.disposed)).toBe(true);
  });

  it('payment outcome unknown after the status query: failed with needsReconciliation, agent told', async () => {
    const h = harness();
    h.payment.decisions.push((req) => ({ outcome: 'failed', reason: 'timeout', needsReconciliation: true, idempotencyKey: req.idempotencyKey!, attempts: 1 }));
    await toOtp(h);
    await h.key('918273');
    expect(await h.session.done).toEqual({ outcome: 'failed', reason: 'timeout', needsReconciliation: true });
    expect(h.of('provider.issue')).toMatchObject([{ step: 'payment', code: 'timeout', action: 'reconcile' }]);
    expect(h.port.heard()).toContain('outcome.unknown');
    const rec = await h.store.get(h.session.id);
    expect(rec).toMatchObject({ outcome: 'failed', failureReason: 'timeout', needsReconciliation: true, idempotencyKey: expect.any(String) });
  });

  it('breaker open: the payment is refused up front, the agent is never muted', async () => {
    const h = harness();
    h.payment.breaker = { state: 'open', refusing: true };
    await h.session.start();
    expect(await h.session.done).toEqual({ outcome: 'failed', reason: 'provider-unavailable' });
    expect(h.port.modes).toEqual(['normal']);
    expect(h.port.plays).toEqual([]);
    expect(h.port.ends).toEqual(['failed']);
    expect(h.types()).toEqual(['session.started', 'provider.issue', 'session.ended']);
  });

  it.each([
    ['goodbye', ['payments.unavailable', 'goodbye']],
    ['handback', ['payments.unavailable', 'handback']],
  ] as const)('breaker open, announced (transfer mode, closing %s): the customer hears %j, then the call ends; the agent is never muted', async (closingPrompt, heard) => {
    const h = harness({ config: { announceRefusal: true, closingPrompt } });
    h.payment.breaker = { state: 'open', refusing: true };
    await h.session.start();
    expect(await h.session.done).toEqual({ outcome: 'failed', reason: 'provider-unavailable' });
    expect(h.port.plays).toHaveLength(1);
    expect(h.port.plays[0]).toMatchObject({ items: heard, bargeIn: false });
    expect(h.port.modes).toEqual(['normal']);
    expect(h.port.ends).toEqual(['failed']);
    expect(h.types()).toEqual(['session.started', 'provider.issue', 'session.ended', 'prompt.playing']);
    expect(await h.store.get(h.session.id)).toMatchObject({ state: 'done', outcome: 'failed', failureReason: 'provider-unavailable', endedAt: expect.any(String) });
  });

  it('the customer hangs up during the announced refusal: the call ends at once, the session stays failed', async () => {
    const port = new FakePort();
    port.autoDone = false;
    const h = harness({ port, config: { announceRefusal: true, closingPrompt: 'goodbye' } });
    h.payment.breaker = { state: 'open', refusing: true };
    await h.session.start();
    h.session.onHangup();
    expect(await h.session.done).toEqual({ outcome: 'failed', reason: 'provider-unavailable' });
    expect(h.port.ends).toEqual(['failed']);
  });

  it('breaker open past its cooldown: the session goes ahead and its OTP request is the probe that closes it', async () => {
    const clock = new FakeClock();
    const breaker = new CircuitBreaker('payment', clock, DEFAULT_BREAKER);
    for (let i = 0; i < DEFAULT_BREAKER.failureThreshold; i++) breaker.failure(breaker.acquire());
    expect(breaker.state).toBe(BreakerState.Open);
    const refused = harness();
    refused.payment.breaker = breaker;
    await refused.session.start();
    expect(await refused.session.done).toEqual({ outcome: 'failed', reason: 'provider-unavailable' });

    clock.advance(DEFAULT_BREAKER.cooldownMs);
    expect(breaker.state).toBe(BreakerState.Open); // nothing has acquired yet
    const h = harness();
    h.payment.breaker = breaker;
    const generate = h.payment.generateOtp.bind(h.payment);
    h.payment.generateOtp = async () => {
      const t = breaker.acquire(); // what the real client does: this is the probe
      const r = await generate();
      breaker.success(t);
      return r;
    };
    await toOtp(h);
    expect(h.of('provider.issue')).toEqual([]);
    expect(h.session.state).toBe(CaptureState.OtpEntry);
    expect(breaker.state).toBe(BreakerState.Closed);
  });

  it('declined by the bank: outcome declined with the reason', async () => {
    const h = harness();
    h.payment.decisions.push((req) => ({ outcome: 'declined', reason: 'do-not-honour', paymentId: 'pay_9', idempotencyKey: req.idempotencyKey!, attempts: 1 }));
    await toOtp(h, '4000000000000002');
    await h.key('918273');
    expect(await h.session.done).toEqual({ outcome: 'declined', reason: 'do-not-honour', paymentId: 'pay_9' });
    expect(h.port.heard()).toContain('outcome.declined');
  });

  it('approved but the confirmation fails: failed, needs reconciliation, payment id kept', async () => {
    const h = harness();
    h.payment.confirmFails = pe('server-error');
    await toOtp(h);
    await h.key('918273');
    expect(await h.session.done).toEqual({ outcome: 'failed', reason: 'confirm-failed', paymentId: 'pay_1', needsReconciliation: true });
  });
});

describe('CaptureSession: hang-up, agent commands, timeouts', () => {
  it('caller hangs up mid-card: abandoned, every buffer wiped, no outcome prompt', async () => {
    const h = harness();
    await h.session.start();
    await flush();
    await h.key('41111111');
    h.session.onHangup();
    expect(await h.session.done).toEqual({ outcome: 'abandoned', reason: 'customer-hung-up' });
    expect(h.digits).toHaveLength(4);
    expect(h.digits.every((d) => d.disposed)).toBe(true);
    expect(h.port.heard()).not.toContain('outcome.failed');
    expect((await h.store.get(h.session.id))!.outcome).toBe('abandoned');
  });

  it('caller hangs up while the payment is in flight: the payment finishes and decides the outcome', async () => {
    const h = harness();
    let release!: () => void;
    h.payment.decisions.push((req) => new Promise((r) => (release = () => r({ outcome: 'approved', paymentId: 'pay_2', idempotencyKey: req.idempotencyKey!, attempts: 1 }))));
    await toOtp(h);
    await h.key('918273');
    expect(h.session.state).toBe(CaptureState.Paying);
    h.session.onHangup();
    expect(h.session.state).toBe(CaptureState.Paying);
    expect(h.digits.some((d) => !d.disposed)).toBe(true);
    release();
    expect(await h.session.done).toEqual({ outcome: 'paid', reason: 'approved', paymentId: 'pay_2' });
    expect(h.port.heard()).not.toContain('outcome.paid');
    expect(h.digits.every((d) => d.disposed)).toBe(true);
  });

  it('agent field.retry from CVV goes back to the card number and forgets the masked card', async () => {
    const h = harness();
    await h.session.start();
    await flush();
    await h.key('4111111111111111#1230');
    expect(h.session.onAgentCommand({ type: 'field.retry', field: 'pan' })).toEqual({ ok: true });
    await flush();
    expect(h.session.state).toBe(CaptureState.Pan);
    expect(h.port.plays.at(-1)!.items).toEqual(['agent.retry', 'enter.pan']);
    expect(h.of('field.started').at(-1)).toMatchObject({ field: 'pan', why: 'agent-retry', attempt: 1 });
    expect((await h.store.get(h.session.id))!.card).toBeNull();
    await h.key('5555555555554444#1230123');
    expect(h.session.state).toBe(CaptureState.OtpEntry);
  });

  it('agent commands that are malformed or not allowed now are refused without disturbing the capture', async () => {
    const h = harness();
    await h.session.start();
    await flush();
    expect(h.session.onAgentCommand({ type: 'field.retry', field: 'cvv' })).toMatchObject({ ok: false });
    expect(h.session.onAgentCommand({ type: 'rm -rf' })).toEqual({ ok: false, reason: 'not a valid command' });
    expect(h.session.onAgentCommand('{"type":"session.cancel"}')).toMatchObject({ ok: false });
    expect(h.session.state).toBe(CaptureState.Pan);
  });

  it('agent session.cancel: cancelled, the customer hears it and goes back', async () => {
    const h = harness();
    await h.session.start();
    await flush();
    await h.key('4111');
    expect(h.session.onAgentCommand({ type: 'session.cancel' })).toEqual({ ok: true });
    expect(await h.session.done).toEqual({ outcome: 'cancelled', reason: 'agent-cancelled' });
    expect(h.port.heard()).toContain('outcome.cancelled');
    expect(h.digits.every((d) => d.disposed)).toBe(true);
  });

  it('a cancel while a prompt is still playing stops it first: the customer hears the outcome next, not the rest of the old prompt', async () => {
    const h = harness();
    await h.session.start();
    await flush();
    h.port.autoDone = false;
    await h.key('4111111111111111#'); // the expiry prompt starts and is still playing
    const stopsBefore = h.port.stops;
    expect(h.session.onAgentCommand({ type: 'session.cancel' })).toEqual({ ok: true });
    expect(h.port.stops).toBe(stopsBefore + 1);
    expect(h.port.plays.at(-1)!.items).toContain('outcome.cancelled');
  });

  it('the agent cannot cancel while money is moving', async () => {
    const h = harness();
    h.payment.decisions.push(() => new Promise(() => {}));
    await toOtp(h);
    await h.key('918273');
    expect(h.session.onAgentCommand({ type: 'session.cancel' })).toMatchObject({ ok: false, reason: 'not allowed while paying' });
  });

  it('the whole-session timeout ends a capture that drags on', async () => {
    const h = harness({ config: { sessionMs: 60_000, firstDigitMs: 50_000 } });
    await h.session.start();
    await flush();
    await h.key('4');
    h.clock.advance(60_000);
    await flush();
    expect(h.session.result).toEqual({ outcome: 'failed', reason: 'session-timeout' });
    expect(h.port.heard()).toContain('outcome.timeout');
  });

  it('close() is idempotent and ends a live capture', async () => {
    const h = harness();
    await h.session.start();
    const a = h.session.close();
    const b = h.session.close();
    expect(await a).toEqual(await b);
    expect(h.port.ends).toEqual(['abandoned']);
  });

  it('close() before start() wipes the buffers and start() is then refused', async () => {
    const h = harness();
    expect(await h.session.close()).toEqual({ outcome: 'abandoned', reason: 'closed-before-start' });
    expect(h.digits.every((d) => d.disposed)).toBe(true);
    await expect(h.session.start()).rejects.toThrow(/not allowed/);
    expect(h.port.modes).toEqual([]);
  });

  it('no event, store record or log line carries the PAN, expiry, CVV or OTP', async () => {
    const h = harness();
    await toOtp(h, '5555555555554444', '0731', '482');
    await h.key('111111918273');
    await h.session.done;
    const all = [JSON.stringify(h.events), JSON.stringify(await h.store.list()), ...h.logs].join('\n');
    for (const secret of ['5555555555554444', '0731', '482', '918273', '111111']) {
      expect(new RegExp(`(?<![\\w-])${secret}(?![\\w-])`).test(all), secret).toBe(false);
    }
    expect(h.of('card.identified').at(-1)).toMatchObject({ first6: '555555', last4: '4444' });
  });
});

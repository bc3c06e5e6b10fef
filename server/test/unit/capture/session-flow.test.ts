import { describe, expect, it } from 'vitest';
import { CaptureState } from '../../../src/capture/index.js';
import { flush, harness, toOtp } from './fakes.js';

describe('CaptureSession: the keypad flow', () => {
  it('a Visa payment: greeting with the amount, card, OTP by DLT SMS, paid, agent unmuted, card data wiped', async () => {
    const h = harness();
    await toOtp(h);
    expect(h.session.state).toBe(CaptureState.OtpEntry);
    expect(h.sms.texts).toEqual(['918273 is your OTP to pay INR 1499.00 for order ORD-1001. Do not share it. - Tonegate']);
    await h.key('918273');
    const result = await h.session.done;

    expect(result).toEqual({ outcome: 'paid', reason: 'approved', paymentId: 'pay_1' });
    expect(h.payment.payCalls).toEqual([{ pan: '4111111111111111', expiry: '1230', cvv: '913', key: expect.any(String) }]);
    expect(h.port.modes).toEqual(['capture', 'normal']);
    expect(h.port.ends).toEqual(['paid']);
    expect(h.port.plays[0]!.items).toEqual(['greeting.secure', 'greeting.amount', { amount: '1499.00', currency: 'INR' }]);
    expect(h.port.heard()).toEqual(expect.arrayContaining(['enter.pan', 'enter.expiry', 'enter.cvv', 'otp.sending', 'enter.otp', 'processing', 'outcome.paid', 'handback']));
    expect(h.digits.length).toBeGreaterThanOrEqual(4);
    expect(h.digits.every((d) => d.disposed)).toBe(true);
    expect(h.payment.issued.every((d) => d.disposed)).toBe(true);

    const rec = await h.store.get(h.session.id);
    expect(rec).toMatchObject({ state: 'done', outcome: 'paid', paymentId: 'pay_1', dtmfTransport: 'rfc4733', card: { brand: 'visa', first6: '411111', last4: '1111' } });
    expect(rec!.endedAt).not.toBeNull();
    expect(rec!.idempotencyKey).toBe(h.payment.payCalls[0]!.key);

    const types = h.types();
    expect(types[0]).toBe('session.started');
    expect(types.filter((t) => t !== 'prompt.playing').at(-1)).toBe('session.ended');
    expect(h.events.map((e) => e.seq)).toEqual(h.events.map((_e, i) => i + 1));
    expect(h.of('digit.entered').filter((e) => e.field === 'pan').map((e) => e.count)).toEqual([...Array(16).keys()].map((i) => i + 1));
    expect(h.of('card.identified')).toMatchObject([
      { brand: 'visa', complete: false },
      { brand: 'visa', complete: true, first6: '411111', last4: '1111' },
    ]);
    expect(h.of('otp.sent')).toMatchObject([{ mobile: '+91•••••0001', route: 'primary', resend: 0 }]);
    expect(h.of('field.completed').map((e) => e.field)).toEqual(['pan', 'expiry', 'cvv', 'otp']);
    expect(h.of('session.ended')).toMatchObject([{ outcome: 'paid', reason: 'approved', paymentId: 'pay_1' }]);
  });

  it('Amex asks for a 4-digit CVV and does not submit at 3', async () => {
    const h = harness();
    await h.session.start();
    await flush();
    await h.key('378282246310005#1230');
    expect(h.port.plays.at(-1)!.items).toEqual([{ id: 'enter.cvv', n: 4 }]);
    await h.key('742');
    expect(h.session.state).toBe(CaptureState.Cvv);
    await h.key('1');
    expect(h.session.state).toBe(CaptureState.OtpEntry);
    expect(h.of('field.started').find((e) => e.field === 'cvv')!.length).toEqual({ min: 4, max: 4 });
  });

  it('digits typed during the greeting cut it short and count as the card number', async () => {
    const h = harness();
    h.port.autoDone = false;
    await h.session.start();
    await h.key('41');
    expect(h.session.state).toBe(CaptureState.Pan);
    expect(h.port.stops).toBeGreaterThanOrEqual(1);
    expect(h.of('digit.entered').map((e) => e.count)).toEqual([1, 2]);
  });

  it('* clears the card number and the customer keys it again', async () => {
    const h = harness();
    await h.session.start();
    await flush();
    await h.key('4000*4111111111111111#');
    expect(h.of('field.cleared')).toMatchObject([{ field: 'pan', by: 'customer' }]);
    expect(h.session.state).toBe(CaptureState.Expiry);
  });

  it('an invalid Luhn is re-prompted with attempts left, then a valid card goes on', async () => {
    const h = harness();
    await h.session.start();
    await flush();
    await h.key('4111111111111112#');
    expect(h.of('field.failed')).toMatchObject([{ field: 'pan', reason: 'luhn', attemptsLeft: 2 }]);
    expect(h.port.plays.at(-1)!.items).toEqual(['invalid.pan', { id: 'attempts.left', n: 2 }, 'enter.pan']);
    expect(h.of('field.started').at(-1)).toMatchObject({ field: 'pan', attempt: 2, why: 'after-failure' });
    await h.key('4111111111111111#');
    expect(h.session.state).toBe(CaptureState.Expiry);
  });

  it('three failures on one field end the attempt as failed', async () => {
    const h = harness();
    await h.session.start();
    await flush();
    await h.key('4111111111111112#4111111111111113#4111111111111114#');
    await flush();
    expect(h.session.result).toEqual({ outcome: 'failed', reason: 'too-many-attempts' });
    expect(h.port.heard()).toContain('outcome.too-many');
    expect(await h.session.done).toMatchObject({ outcome: 'failed' });
    expect(h.digits.every((d) => d.disposed)).toBe(true);
  });

  it('an expired card is refused, then a future expiry is accepted; absurdly far is refused', async () => {
    const h = harness();
    await h.session.start();
    await flush();
    await h.key('4111111111111111#0124');
    expect(h.of('field.failed')).toMatchObject([{ field: 'expiry', reason: 'expired' }]);
    expect(h.port.plays.at(-1)!.items).toEqual(['invalid.expired', { id: 'attempts.left', n: 2 }, 'enter.expiry']);
    await h.key('1260');
    expect(h.of('field.failed').at(-1)).toMatchObject({ field: 'expiry', reason: 'too-far' });
    await h.key('1230');
    expect(h.session.state).toBe(CaptureState.Cvv);
  });

  it("a brand outside the merchant's allow-list is refused", async () => {
    const h = harness({ config: { allowedBrands: () => ['rupay'] } });
    await h.session.start();
    await flush();
    await h.key('4111111111111111#');
    expect(h.of('field.failed')).toMatchObject([{ field: 'pan', reason: 'brand-not-allowed' }]);
    expect(h.port.plays.at(-1)!.items[0]).toBe('invalid.brand');
  });

  it('no digit within the first-digit timeout is a failure; a 16-digit PAN without # is taken after the pause', async () => {
    const h = harness();
    await h.session.start();
    await flush();
    h.clock.advance(10_000);
    await flush();
    expect(h.of('field.failed')).toMatchObject([{ field: 'pan', reason: 'no-input', attemptsLeft: 2 }]);
    await h.key('4111111111111111');
    expect(h.session.state).toBe(CaptureState.Pan);
    h.clock.advance(5_000);
    expect(h.session.state).toBe(CaptureState.Expiry);
  });

  it('an expiry cut short by the inter-digit timeout is incomplete', async () => {
    const h = harness();
    await h.session.start();
    await flush();
    await h.key('4111111111111111#12');
    h.clock.advance(5_000);
    await flush();
    expect(h.of('field.failed')).toMatchObject([{ field: 'expiry', reason: 'incomplete' }]);
  });

  it('nothing typed before the OTP prompt counts as OTP', async () => {
    const h = harness();
    let release!: () => void;
    h.payment.generate.push(() => new Promise<'ok'>((r) => (release = () => r('ok'))));
    await toOtp(h);
    expect(h.session.state).toBe(CaptureState.OtpRequest);
    await h.key('918'); // keyed while the OTP is being generated: dropped
    release();
    await flush();
    expect(h.session.state).toBe(CaptureState.OtpEntry);
    expect(h.of('digit.entered').filter((e) => e.field === 'otp')).toEqual([]);
    await h.key('918273');
    expect(await h.session.done).toMatchObject({ outcome: 'paid' });
  });

  it('a wrong OTP is re-asked with the attempts left, then the right one pays', async () => {
    const h = harness();
    await toOtp(h);
    await h.key('111111');
    expect(h.of('field.failed')).toMatchObject([{ field: 'otp', reason: 'otp-invalid', attemptsLeft: 2 }]);
    expect(h.port.plays.at(-1)!.items).toEqual(['invalid.otp', { id: 'attempts.left', n: 2 }, { id: 'enter.otp', n: 6 }]);
    await h.key('918273');
    expect(await h.session.done).toMatchObject({ outcome: 'paid' });
  });

  it('# during OTP entry sends a new OTP, up to maxResends, then says no more', async () => {
    const h = harness({ config: { maxResends: 1 } });
    await toOtp(h);
    await h.key('#');
    expect(h.of('otp.sent').map((e) => e.resend)).toEqual([0, 1]);
    expect(h.of('field.started').at(-1)).toMatchObject({ field: 'otp', why: 'new-otp' });
    expect(h.port.heard()).toContain('otp.resent');
    await h.key('#');
    expect(h.payment.issued).toHaveLength(2);
    expect(h.port.plays.at(-1)!.items).toEqual(['otp.no-more-resends', { id: 'enter.otp', n: 6 }]);
    await h.key('918273');
    expect(await h.session.done).toMatchObject({ outcome: 'paid' });
  });

  it('prompts are in the handoff language, with a token per playback; a stale promptDone is ignored', async () => {
    const h = harness({ txn: { ...(await import('./fakes.js')).TXN, language: 'hi' } });
    h.port.autoDone = false;
    await h.session.start();
    expect(h.port.plays[0]!.language).toBe('hi');
    const greetingToken = h.port.plays[0]!.token;
    h.session.onPromptDone(greetingToken + 99);
    expect(h.session.state).toBe(CaptureState.Greeting);
    h.session.onPromptDone(greetingToken);
    expect(h.session.state).toBe(CaptureState.Pan);
  });

  it('a prompt whose promptDone never comes is taken as done after promptMaxMs', async () => {
    const h = harness();
    h.port.autoDone = false;
    await h.session.start();
    h.clock.advance(45_000);
    expect(h.session.state).toBe(CaptureState.Pan);
    h.clock.advance(45_000); // the PAN prompt's watchdog, then the first-digit timeout
    h.clock.advance(10_000);
    await flush();
    expect(h.of('field.failed')).toMatchObject([{ reason: 'no-input' }]);
  });

  it('records the DTMF transport as it changes', async () => {
    const h = harness();
    await h.session.start();
    await flush();
    await h.key('41', 'inband');
    expect((await h.store.get(h.session.id))!.dtmfTransport).toBe('inband');
    await h.key('1', 'info');
    await flush();
    expect((await h.store.get(h.session.id))!.dtmfTransport).toBe('info');
  });
});

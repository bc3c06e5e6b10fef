import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEMO_BANK_SMS } from '../../../src/demo/issuer.js';
import { startDemoProvider, type DemoProvider } from '../../../src/demo/index.js';
import { createLogger } from '../../../src/observability/logger.js';
import { PaymentProviderClient } from '../../../src/providers/index.js';
import { SensitiveDigits } from '../../../src/security/sensitive-digits.js';
import { LogSink } from '../../support/gateway.js';

/** The demo provider's issuer (native) OTP flow over real HTTP, through the gateway's own client. */
const logs = new LogSink();
let pg: DemoProvider;
let client: PaymentProviderClient;
let clock = Date.parse('2026-05-15T10:00:00Z');
let n = 0;

beforeAll(async () => {
  pg = await startDemoProvider({ port: 0, logger: createLogger('trace', logs), now: () => clock, otpTtlMs: 60_000, otpMaxAttempts: 2 });
  client = new PaymentProviderClient({ baseUrl: pg.url, logger: createLogger('silent', new LogSink()), otpModes: { default: 'issuer', merchants: new Map([['M-X', 'none']]) } });
});
afterAll(() => pg.close());

const digits = (s: string) => SensitiveDigits.fromString(s);
const card = (pan = '4111111111111111') => ({ pan: digits(pan), expiry: digits('1230'), cvv: digits('123') });
function start(pan?: string, key = `key-${++n}`) {
  const orderRef = `ORD-I${n}`;
  return { orderRef, key, run: () => client.startIssuerOtp({ orderRef, merchantId: 'M-1', amount: '10.00', currency: 'INR', customerMobile: '+919800000009', idempotencyKey: key, card: card(pan) }) };
}
const otpOf = (orderRef: string) => {
  const m = pg.smsMessages().filter((s) => s.text.includes(`order ${orderRef}.`)).at(-1);
  return /^(\d{6}) /.exec(m?.text ?? '')?.[1];
};

describe('demo provider: issuer OTP', () => {
  it('the OTP mode is per merchant with a provider default', () => {
    expect(client.otpModeFor('M-1')).toBe('issuer');
    expect(client.otpModeFor('M-X')).toBe('none');
  });

  it('starting authentication texts the OTP from the bank into the sink and never logs it', async () => {
    const s = start();
    const r = await s.run();
    expect(r).toMatchObject({ status: 'otp-required', challenge: { length: 6, resendsLeft: 2 } });
    const sms = pg.smsMessages().filter((m) => m.text.includes(s.orderRef));
    expect(sms).toHaveLength(1);
    expect(sms[0]).toMatchObject({ to: '+919800000009', ...DEMO_BANK_SMS });
    const otp = otpOf(s.orderRef)!;
    expect(logs.lines.some((l) => l.includes(otp))).toBe(false);
    expect(pg.payments().filter((p) => p.orderRef === s.orderRef)).toMatchObject([{ status: 'pending' }]);
  });

  it('a retried start with the same Idempotency-Key gets the same payment and no second SMS', async () => {
    const s = start();
    const a = await s.run();
    const b = await s.run();
    expect(a).toEqual(b);
    expect(pg.smsMessages().filter((m) => m.text.includes(s.orderRef))).toHaveLength(1);
  });

  it('the right OTP approves the payment; confirm and the status by key follow', async () => {
    const s = start();
    const r = await s.run();
    if (r.status !== 'otp-required') throw new Error('expected a challenge');
    const paid = await client.submitIssuerOtp(r.challenge.paymentId, digits(otpOf(s.orderRef)!), s.key);
    expect(paid).toEqual({ status: 'approved', paymentId: r.challenge.paymentId });
    expect(await client.paymentStatus(s.key)).toEqual({ status: 'approved', paymentId: r.challenge.paymentId });
    expect(await client.confirm(r.challenge.paymentId)).toEqual({ paymentId: r.challenge.paymentId, status: 'confirmed' });
  });

  it('a wrong OTP counts down, then the OTP is spent; a resend sends a new one with fresh attempts', async () => {
    const s = start();
    const r = await s.run();
    if (r.status !== 'otp-required') throw new Error('expected a challenge');
    const id = r.challenge.paymentId;
    expect(await client.submitIssuerOtp(id, digits('000000'), s.key)).toEqual({ status: 'invalid', attemptsLeft: 1 });
    expect(await client.submitIssuerOtp(id, digits('000001'), s.key)).toEqual({ status: 'invalid', attemptsLeft: 0 });
    expect(await client.submitIssuerOtp(id, digits(otpOf(s.orderRef)!), s.key)).toEqual({ status: 'expired' });
    const again = await client.resendIssuerOtp(id);
    expect(again).toMatchObject({ paymentId: id, resendsLeft: 1 });
    expect(pg.smsMessages().filter((m) => m.text.includes(s.orderRef))).toHaveLength(2);
    expect(await client.submitIssuerOtp(id, digits(otpOf(s.orderRef)!), s.key)).toMatchObject({ status: 'approved' });
  });

  it('an OTP past its expiry is refused as expired; resends run out with 409', async () => {
    const s = start();
    const r = await s.run();
    if (r.status !== 'otp-required') throw new Error('expected a challenge');
    const id = r.challenge.paymentId;
    clock += 61_000;
    expect(await client.submitIssuerOtp(id, digits(otpOf(s.orderRef)!), s.key)).toEqual({ status: 'expired' });
    await client.resendIssuerOtp(id);
    await client.resendIssuerOtp(id);
    await expect(client.resendIssuerOtp(id)).rejects.toMatchObject({ code: 'conflict', providerCode: 'no-resends-left' });
  });

  it('test cards: 0002 is declined at the OTP, an invalid card is declined before any SMS', async () => {
    const d = start('4000000000000002');
    const r = await d.run();
    if (r.status !== 'otp-required') throw new Error('expected a challenge');
    expect(await client.submitIssuerOtp(r.challenge.paymentId, digits(otpOf(d.orderRef)!), d.key)).toMatchObject({ status: 'declined', reason: 'do-not-honour' });
    const bad = start('4111111111111112');
    expect(await bad.run()).toMatchObject({ status: 'declined', reason: 'invalid-card' });
    expect(pg.smsMessages().filter((m) => m.text.includes(bad.orderRef))).toHaveLength(0);
  });

  it('a 500 on the OTP submission is settled by the status query (pending: reconcile, never a second charge)', async () => {
    const s = start('4000000000000119');
    const r = await s.run();
    if (r.status !== 'otp-required') throw new Error('expected a challenge');
    expect(await client.submitIssuerOtp(r.challenge.paymentId, digits(otpOf(s.orderRef)!), s.key)).toEqual({ status: 'failed', reason: 'server-error', needsReconciliation: true });
  });
});

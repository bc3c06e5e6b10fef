import { Writable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEMO_CARDS, startDemoProvider, type DemoProvider } from '../../src/demo/index.js';
import { createLogger, type Logger } from '../../src/observability/logger.js';
import {
  BreakerState,
  PAYMENT_POLICY,
  PaymentProviderClient,
  READ_POLICY,
  SmsClient,
  type DltTemplate,
  type PaymentProviderOptions,
} from '../../src/providers/index.js';
import { SensitiveDigits } from '../../src/security/sensitive-digits.js';
import { FakeClock } from '../support/fake-clock.js';

// Everything the demo provider and the clients log goes here; the last test scans it.
const logLines: string[] = [];
const logger: Logger = createLogger(
  'trace',
  new Writable({
    write(chunk: Buffer, _enc, cb) {
      logLines.push(chunk.toString('utf8'));
      cb();
    },
  }),
);

const DEMO_OTP = '918273';
const MOBILE = '+919800000001';
const OTP_TEMPLATE: DltTemplate = {
  templateId: '1107161234567890123',
  peId: '1101159876543210987',
  senderId: 'TNGATE',
  text: '{#var#} is your OTP to pay {#var#} {#var#} for order {#var#}. Do not share it. - Tonegate',
};

// Every PAN and CVV used below, for the leak scan. CVVs picked to look like nothing else in a log.
const secrets = new Set<string>([DEMO_OTP]);
const card = (pan: string, cvv = '913', expiry = '1230') => {
  secrets.add(pan);
  secrets.add(cvv);
  return { pan: SensitiveDigits.fromString(pan, 19), expiry: SensitiveDigits.fromString(expiry, 4), cvv: SensitiveDigits.fromString(cvv, 4) };
};

let pg: DemoProvider;
let smsDown: DemoProvider;
let client: PaymentProviderClient;
let sms: SmsClient;

const clientFor = (o: Partial<PaymentProviderOptions> = {}) =>
  new PaymentProviderClient({
    baseUrl: pg.url,
    logger,
    timeouts: { defaultMs: 2_000, paymentMs: 2_000, statusMs: 2_000 },
    readPolicy: { ...READ_POLICY, baseDelayMs: 20 },
    paymentPolicy: { ...PAYMENT_POLICY, baseDelayMs: 20 },
    ...o,
  });

beforeAll(async () => {
  pg = await startDemoProvider({ port: 0, otp: DEMO_OTP, logger, retryAfterSeconds: 1 });
  smsDown = await startDemoProvider({ port: 0, logger, smsDown: true });
  client = clientFor();
  sms = new SmsClient({ routes: [{ name: 'primary', baseUrl: pg.url }], logger });
});

afterAll(async () => {
  await Promise.all([pg?.close(), smsDown?.close()]);
});

let orders = 0;
/** The OTP leg as capture will run it: generate, SMS it, the customer keys what the SMS says, validate. */
async function otpFlow(orderRef: string): Promise<string> {
  const issued = await client.generateOtp({ orderRef, customerMobile: MOBILE });
  await sms.send({ to: MOBILE, template: OTP_TEMPLATE, vars: [issued.otp, 'INR', '1499.00', orderRef] });
  issued.otp.dispose();
  const text = pg.smsMessages().at(-1)!.text;
  const keyed = SensitiveDigits.fromString(/^(\d+) is your OTP/.exec(text)![1]!);
  expect(await client.validateOtp(issued.otpId, keyed)).toMatchObject({ status: 'valid' });
  return issued.otpId;
}

async function pay(c: PaymentProviderClient, pan: string, cvv?: string) {
  const orderRef = `ORD-IT-${++orders}`;
  const otpId = await otpFlow(orderRef);
  const d = await c.pay({ orderRef, merchantId: 'M-DEMO-01', amount: '1499.00', currency: 'INR', otpId, card: card(pan, cvv) });
  return { d, orderRef, records: pg.payments().filter((p) => p.orderRef === orderRef) };
}

describe('payment client against the real demo provider', () => {
  it('looks up a transaction by reference, and an unknown one is null', async () => {
    expect(await client.lookupTransaction('TXN-1001')).toMatchObject({ amount: '1499.00', currency: 'INR', orderRef: 'ORD-1001' });
    expect(await client.lookupTransaction('TXN-NOPE')).toBeNull();
  });

  it.each([
    ['visa', '4111111111111111', '913'],
    ['mastercard', '5555555555554444', '913'],
    ['mastercard', '2223003122003222', '913'],
    ['amex', '378282246310005', '9137'],
    ['rupay', '6074825972083818', '913'],
    ['rupay', '6521500000000006', '913'],
  ])('approves a %s card (%s) with exactly one charge, then confirms it', async (brand, pan, cvv) => {
    const { d, records } = await pay(client, pan, cvv);
    expect(d).toMatchObject({ outcome: 'approved', attempts: 1 });
    expect(records).toHaveLength(1);
    expect(records[0]).toMatchObject({ status: 'approved', brand, last4: pan.slice(-4) });
    if (d.outcome === 'approved') expect(await client.confirm(d.paymentId)).toEqual({ paymentId: d.paymentId, status: 'confirmed' });
  });

  it('sends the card RSA-OAEP encrypted with the provider key', async () => {
    const enc = clientFor({ cardEncryption: { mode: 'provider-key' } });
    const { d, records } = await pay(enc, '4111111111111111');
    expect(d.outcome).toBe('approved');
    expect(records).toMatchObject([{ encrypted: true, status: 'approved' }]);
  });

  it('declines 4000000000000002', async () => {
    const { d, records } = await pay(client, DEMO_CARDS.decline);
    expect(d).toMatchObject({ outcome: 'declined', reason: 'do-not-honour' });
    expect(records).toMatchObject([{ status: 'declined' }]);
  });

  it('500 -> status query -> not-found -> same key again -> failed, and nothing was charged', async () => {
    const { d, records } = await pay(client, DEMO_CARDS.serverError);
    expect(d).toMatchObject({ outcome: 'failed', reason: 'server-error', needsReconciliation: false, attempts: 3 });
    expect(records).toHaveLength(0);
    const seen = pg.requests().filter((r) => r.path === '/v1/payments').slice(-6);
    expect(seen.map((r) => `${r.method} ${r.status}`)).toEqual(['POST 500', 'GET 200', 'POST 500', 'GET 200', 'POST 500', 'GET 200']);
  });

  it('no answer -> timeout -> status pending -> failed with needsReconciliation; at most one charge', async () => {
    const hurried = clientFor({ timeouts: { defaultMs: 2_000, paymentMs: 300, statusMs: 2_000 } });
    const started = performance.now();
    const { d, records } = await pay(hurried, DEMO_CARDS.noAnswer);
    expect(d).toMatchObject({ outcome: 'failed', reason: 'timeout', needsReconciliation: true, attempts: 1 });
    expect(performance.now() - started).toBeGreaterThanOrEqual(290);
    expect(records.length).toBeLessThanOrEqual(1);
    expect(records.filter((r) => r.status === 'approved')).toHaveLength(0);
    expect(await hurried.paymentStatus(d.idempotencyKey)).toMatchObject({ status: 'pending' });
    await expect.poll(() => pg.heldRequests()).toBe(0); // the provider let go when the client gave up
  });

  it('429 twice then approved, waiting the Retry-After each time', async () => {
    const started = performance.now();
    const { d, records } = await pay(client, DEMO_CARDS.rateLimited);
    const elapsed = performance.now() - started;
    expect(d).toMatchObject({ outcome: 'approved', attempts: 3 });
    expect(records).toHaveLength(1);
    expect(elapsed).toBeGreaterThanOrEqual(2 * 1_000 - 20);
    expect(elapsed).toBeLessThan(2 * 1_000 + 1_500);
  });

  it('a wrong OTP is invalid, the right one valid; no payment without it', async () => {
    const issued = await client.generateOtp({ orderRef: 'ORD-IT-OTP', customerMobile: MOBILE });
    expect(issued.length).toBe(6);
    expect(await client.validateOtp(issued.otpId, SensitiveDigits.fromString('000000'))).toEqual({ status: 'invalid', attemptsLeft: 2 });
    const d = await client.pay({ orderRef: 'ORD-IT-OTP', merchantId: 'M', amount: '1.00', currency: 'INR', otpId: issued.otpId, card: card('4111111111111111') });
    expect(d).toMatchObject({ outcome: 'declined', reason: 'otp-not-verified' });
    expect(await client.validateOtp(issued.otpId, issued.otp)).toEqual({ status: 'valid', attemptsLeft: 2 });
  });

  it('opens the breaker after repeated failures and then refuses fast, until a probe succeeds', async () => {
    const clock = new FakeClock();
    const fragile = clientFor({
      clock,
      breaker: { failureThreshold: 3, windowMs: 60_000, cooldownMs: 10_000 },
      paymentPolicy: { ...PAYMENT_POLICY, attempts: 1 },
    });
    for (let i = 0; i < 3; i++) expect((await pay(fragile, DEMO_CARDS.serverError)).d).toMatchObject({ outcome: 'failed', reason: 'server-error' });
    expect(fragile.breaker.state).toBe(BreakerState.Open);

    const before = pg.requests().length;
    const started = performance.now();
    const d = await fragile.pay({ orderRef: 'ORD-IT-BRK', merchantId: 'M', amount: '1.00', currency: 'INR', otpId: 'x', card: card('4111111111111111') });
    expect(performance.now() - started).toBeLessThan(50);
    expect(d).toMatchObject({ outcome: 'failed', reason: 'breaker-open', needsReconciliation: false, attempts: 0 });
    await expect(fragile.lookupTransaction('TXN-1001')).rejects.toMatchObject({ code: 'breaker-open' });
    expect(pg.requests().length).toBe(before);

    clock.advance(10_000);
    expect(await fragile.lookupTransaction('TXN-1001')).not.toBeNull(); // the half-open probe
    expect(fragile.breaker.state).toBe(BreakerState.Closed);
  });
});

describe('SMS client against the real SMS sink', () => {
  it('delivers the DLT-rendered OTP SMS to /demo/sms with PE ID, header and template ID', async () => {
    const otp = SensitiveDigits.fromString(DEMO_OTP);
    const sent = await sms.send({ to: MOBILE, template: OTP_TEMPLATE, vars: [otp, 'INR', '250.50', 'ORD-1002'] });
    expect(sent).toMatchObject({ route: 'primary', failedRoutes: [] });
    const res = await fetch(`${pg.url}/demo/sms`);
    const { messages } = (await res.json()) as { messages: Record<string, string>[] };
    expect(messages.at(-1)).toMatchObject({
      to: MOBILE,
      senderId: 'TNGATE',
      peId: '1101159876543210987',
      templateId: '1107161234567890123',
      text: `${DEMO_OTP} is your OTP to pay INR 250.50 for order ORD-1002. Do not share it. - Tonegate`,
    });
    expect(Date.parse(messages.at(-1)!.sentAt!)).not.toBeNaN();
  });

  it('falls back to the second route when the first one fails', async () => {
    const twoRoutes = new SmsClient({
      routes: [
        { name: 'primary', baseUrl: smsDown.url },
        { name: 'backup', baseUrl: pg.url },
      ],
      logger,
    });
    const count = pg.smsMessages().length;
    const sent = await twoRoutes.send({ to: MOBILE, template: OTP_TEMPLATE, vars: [DEMO_OTP, 'INR', '1.00', 'ORD-FB'] });
    expect(sent).toMatchObject({ route: 'backup', failedRoutes: [{ route: 'primary', code: 'server-error' }] });
    expect(smsDown.smsMessages()).toHaveLength(0);
    expect(pg.smsMessages()).toHaveLength(count + 1);
  });

  it('refuses a variable over the DLT limit before sending anything', async () => {
    const count = pg.smsMessages().length;
    await expect(sms.send({ to: MOBILE, template: OTP_TEMPLATE, vars: [DEMO_OTP, 'INR', '1.00', 'O'.repeat(31)] })).rejects.toMatchObject({
      code: 'dlt-invalid',
      problem: 'var-too-long',
    });
    expect(pg.smsMessages()).toHaveLength(count);
  });
});

describe('card data never reaches a log', () => {
  it('no PAN, CVV or OTP in anything the demo provider or the clients logged', () => {
    const all = logLines.join('');
    expect(logLines.length).toBeGreaterThan(50);
    expect(all).toContain('payment decided'); // the scan does see the client's lines
    expect(all).toContain('demo payment recorded'); // ... and the provider's
    const hits: string[] = [];
    for (const s of secrets) {
      // A whole token: not inside a longer number, ID or timestamp.
      const re = new RegExp(`(?<![\\w-])${s}(?![\\w-])`);
      if (s.length >= 12 ? all.includes(s) : re.test(all)) hits.push(s);
    }
    expect(hits).toEqual([]);
  });
});

import { Writable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { CaptureSession, CaptureState, type SessionEvent } from '../../src/capture/index.js';
import type { Transaction } from '../../src/handoff/index.js';
import { DEMO_CARDS, startDemoProvider, type DemoProvider } from '../../src/demo/index.js';
import { systemClock } from '../../src/lib/clock.js';
import { createLogger } from '../../src/observability/logger.js';
import { CircuitBreaker, PAYMENT_POLICY, PaymentProviderClient, READ_POLICY, SmsClient, type PaymentProviderOptions } from '../../src/providers/index.js';
import { SensitiveDigits } from '../../src/security/sensitive-digits.js';
import { MemoryEventBus, MemorySessionStore } from '../../src/store/index.js';
import { FakeClock } from '../support/fake-clock.js';
import { FakePort, OTP_TEMPLATE } from '../unit/capture/fakes.js';

// A CaptureSession against the real demo provider over HTTP; only the call side (port) and the
// session's keypad timers (clock) are fakes. Everything logged, published and stored is kept for
// the leak scan at the end.
const logLines: string[] = [];
const logger = createLogger('trace', new Writable({ write: (c: Buffer, _e, cb) => (logLines.push(c.toString()), cb()) }));
const events: SessionEvent[] = [];
const store = new MemorySessionStore();
const bus = new MemoryEventBus<SessionEvent>();
void bus.subscribe((e) => events.push(e));

const DEMO_OTP = '604917';
const secrets = new Set<string>([DEMO_OTP]);

/** Completes a 15-digit prefix with its Luhn check digit. */
function withLuhn(prefix: string): string {
  for (let d = 0; d <= 9; d++) {
    const pan = prefix + d;
    let sum = 0;
    for (let i = 0; i < pan.length; i++) {
      let n = Number(pan[pan.length - 1 - i]);
      if (i % 2 === 1) n = n * 2 > 9 ? n * 2 - 9 : n * 2;
      sum += n;
    }
    if (sum % 10 === 0) return pan;
  }
  throw new Error('unreachable');
}
const RUPAY = withLuhn('652150000000000');

let pg: DemoProvider;
let smsDown: DemoProvider;
let orders = 0;

beforeAll(async () => {
  pg = await startDemoProvider({ port: 0, otp: DEMO_OTP, logger, retryAfterSeconds: 1 });
  smsDown = await startDemoProvider({ port: 0, logger, smsDown: true });
});
afterAll(async () => {
  await Promise.all([pg?.close(), smsDown?.close()]);
});

/** Real fetch, except that paths matching `fail` answer 503 (a provider endpoint that is down). */
const failing = (fail: RegExp): typeof fetch => (async (input: string | URL | Request, init?: RequestInit) =>
  fail.test(String(input)) ? new Response('{"error":{"code":"down"}}', { status: 503 }) : fetch(input, init)) as typeof fetch;

function run(o: { client?: Partial<PaymentProviderOptions>; smsRoutes?: { name: string; baseUrl: string }[]; maxResends?: number } = {}) {
  const payment = new PaymentProviderClient({
    baseUrl: pg.url,
    logger,
    timeouts: { defaultMs: 2_000, paymentMs: 800, statusMs: 2_000 },
    readPolicy: { ...READ_POLICY, baseDelayMs: 20 },
    paymentPolicy: { ...PAYMENT_POLICY, baseDelayMs: 20 },
    ...o.client,
  });
  const sms = new SmsClient({ routes: o.smsRoutes ?? [{ name: 'primary', baseUrl: pg.url }], logger });
  const port = new FakePort();
  const buffers: SensitiveDigits[] = [];
  const txn: Transaction = { amount: '1499.00', currency: 'INR', merchantId: 'M-DEMO-01', orderRef: `ORD-IT-${++orders}`, customerMobile: '+919800000001', agentId: 'agent-1' };
  const session = new CaptureSession({
    txn,
    port,
    payment,
    sms,
    templates: { otp: OTP_TEMPLATE },
    clock: new FakeClock(),
    bus,
    store,
    logger,
    config: { maxResends: o.maxResends ?? 2 },
    digits: (cap) => {
      const d = new SensitiveDigits(cap);
      buffers.push(d);
      return d;
    },
  });
  port.session = session;
  const key = (keys: string) => {
    for (const k of keys) session.onDigit(k, 'rfc4733');
  };
  const until = (s: CaptureState) => vi.waitFor(() => expect(session.state).toBe(s), { timeout: 10_000, interval: 5 });
  /** The OTP as the customer reads it from the SMS sink. */
  const otpFromSms = () => /^(\d+) is your OTP/.exec(pg.smsMessages().at(-1)!.text)![1]!;
  const card = async (pan: string, expiry = '1230', cvv = '913') => {
    [pan, expiry, cvv].forEach((s) => secrets.add(s));
    await session.start();
    await until(CaptureState.Pan);
    key(`${pan}#${expiry}${cvv}`);
  };
  return { session, port, buffers, txn, key, until, otpFromSms, card, payments: () => pg.payments().filter((p) => p.orderRef === txn.orderRef) };
}

describe('CaptureSession against the demo provider over HTTP', () => {
  it.each([
    ['Visa', '4111111111111111', '913'],
    ['Mastercard', '5555555555554444', '913'],
    ['Amex (4-digit CVV)', '378282246310005', '7314'],
    ['RuPay', RUPAY, '913'],
  ])('%s is approved and confirmed', async (_name, pan, cvv) => {
    const r = run();
    await r.card(pan, '1230', cvv);
    await r.until(CaptureState.OtpEntry);
    r.key(r.otpFromSms());
    expect(await r.session.done).toMatchObject({ outcome: 'paid', reason: 'approved' });
    expect(r.payments()).toMatchObject([{ status: 'approved', confirmed: true, last4: pan.slice(-4) }]);
    expect(r.buffers.every((b) => b.disposed)).toBe(true);
  });

  it('the decline card is declined', async () => {
    const r = run();
    await r.card(DEMO_CARDS.decline);
    await r.until(CaptureState.OtpEntry);
    r.key(r.otpFromSms());
    expect(await r.session.done).toMatchObject({ outcome: 'declined', reason: 'do-not-honour' });
  });

  it('a wrong OTP, then the right one, pays', async () => {
    const r = run();
    await r.card('4111111111111111');
    await r.until(CaptureState.OtpEntry);
    r.key('000000');
    await vi.waitFor(() => expect(events.some((e) => e.sessionId === r.session.id && e.type === 'field.failed')).toBe(true));
    await r.until(CaptureState.OtpEntry);
    r.key(r.otpFromSms());
    expect(await r.session.done).toMatchObject({ outcome: 'paid' });
  });

  it('HTTP 500 on payment: failed, nothing charged', async () => {
    const r = run();
    await r.card(DEMO_CARDS.serverError);
    await r.until(CaptureState.OtpEntry);
    r.key(r.otpFromSms());
    expect(await r.session.done).toMatchObject({ outcome: 'failed', reason: 'server-error' });
    expect(r.payments()).toEqual([]);
  });

  it('payment timeout: status query, failed with needsReconciliation, and one payment at the provider (no double charge)', async () => {
    const r = run();
    await r.card(DEMO_CARDS.noAnswer);
    await r.until(CaptureState.OtpEntry);
    r.key(r.otpFromSms());
    expect(await r.session.done).toEqual({ outcome: 'failed', reason: 'timeout', needsReconciliation: true });
    const rec = await store.get(r.session.id);
    expect(r.payments()).toHaveLength(1);
    expect(r.payments()[0]!.idempotencyKey).toBe(rec!.idempotencyKey);
  });

  it('429 twice, then approved, under one Idempotency-Key', async () => {
    const r = run();
    await r.card(DEMO_CARDS.rateLimited);
    await r.until(CaptureState.OtpEntry);
    r.key(r.otpFromSms());
    expect(await r.session.done).toMatchObject({ outcome: 'paid' });
    expect(r.payments()).toHaveLength(1);
  });

  it('* re-entry, an invalid Luhn and an expired card are re-asked, then the payment goes through', async () => {
    const r = run();
    secrets.add('4111111111111112');
    await r.session.start();
    await r.until(CaptureState.Pan);
    r.key('4000*4111111111111112#4111111111111111#0124');
    r.key('1230913');
    await r.until(CaptureState.OtpEntry);
    const failed = events.filter((e) => e.sessionId === r.session.id && e.type === 'field.failed').map((e) => (e as { reason: string }).reason);
    expect(failed).toEqual(['luhn', 'expired']);
    r.key(r.otpFromSms());
    expect(await r.session.done).toMatchObject({ outcome: 'paid' });
  });

  it('the caller hangs up mid-card: abandoned, every sensitive buffer wiped', async () => {
    const r = run();
    await r.session.start();
    await r.until(CaptureState.Pan);
    r.key('41111111');
    r.session.onHangup();
    expect(await r.session.done).toEqual({ outcome: 'abandoned', reason: 'customer-hung-up' });
    expect(r.buffers).toHaveLength(4);
    for (const b of r.buffers) {
      expect(b.disposed).toBe(true);
      expect(() => b.withValue((v) => v.length)).toThrow(/after dispose/);
    }
    expect(r.payments()).toEqual([]);
  });

  describe('fallbacks', () => {
    it('OTP generation down: failed, the customer told, handed back', async () => {
      const r = run({ client: { fetch: failing(/\/v1\/otp$/) } });
      await r.card('4111111111111111');
      expect(await r.session.done).toEqual({ outcome: 'failed', reason: 'otp-unavailable' });
      expect(r.port.heard()).toContain('otp.unavailable');
    });

    it('first SMS route down: the second route delivers', async () => {
      const r = run({ smsRoutes: [{ name: 'down', baseUrl: smsDown.url }, { name: 'backup', baseUrl: pg.url }] });
      await r.card('4111111111111111');
      await r.until(CaptureState.OtpEntry);
      expect(events.filter((e) => e.sessionId === r.session.id && e.type === 'otp.sent')).toMatchObject([{ route: 'backup', failedRoutes: ['down'] }]);
      r.key(r.otpFromSms());
      expect(await r.session.done).toMatchObject({ outcome: 'paid' });
    });

    it('every SMS route down: resend offered, and when resends run out, failed', async () => {
      const r = run({ smsRoutes: [{ name: 'down', baseUrl: smsDown.url }], maxResends: 1 });
      await r.card('4111111111111111');
      await r.until(CaptureState.OtpEntry);
      expect(r.port.plays.at(-1)!.items).toEqual(['otp.sms-failed']);
      r.key('#');
      expect(await r.session.done).toEqual({ outcome: 'failed', reason: 'sms-failed' });
    });

    it('OTP validation down (after retries): fails clean, nothing charged', async () => {
      const r = run({ client: { fetch: failing(/\/validate$/) } });
      await r.card('4111111111111111');
      await r.until(CaptureState.OtpEntry);
      r.key(r.otpFromSms());
      expect(await r.session.done).toEqual({ outcome: 'failed', reason: 'otp-validation-unavailable' });
      expect(r.payments()).toEqual([]);
    });

    it('payment breaker open: refused up front, the agent never muted', async () => {
      const breaker = new CircuitBreaker('payment', systemClock, { failureThreshold: 1, windowMs: 60_000, cooldownMs: 60_000 });
      breaker.failure(breaker.acquire());
      const r = run({ client: { breaker } });
      await r.session.start();
      expect(await r.session.done).toEqual({ outcome: 'failed', reason: 'provider-unavailable' });
      expect(r.port.modes).toEqual(['normal']);
    });
  });

  it('no event, store record or log line holds a PAN, CVV, expiry or OTP', async () => {
    const all = [JSON.stringify(events), JSON.stringify(await store.list()), ...logLines].join('\n');
    expect(events.length).toBeGreaterThan(200);
    const hits = [...secrets].filter((s) => (s.length >= 12 ? all.includes(s) : new RegExp(`(?<![\\w.-])${s}(?![\\w-])`).test(all)));
    expect(hits).toEqual([]);
  });
});

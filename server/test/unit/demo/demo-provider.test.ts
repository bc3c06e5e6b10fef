import { networkInterfaces } from 'node:os';
import { Writable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEMO_CARDS, startDemoProvider, type DemoProvider } from '../../../src/demo/index.js';
import { createLogger } from '../../../src/observability/logger.js';
import { encryptCard } from '../../../src/security/card-crypto.js';
import { SensitiveDigits } from '../../../src/security/sensitive-digits.js';

const logLines: string[] = [];
const sink = new Writable({
  write(chunk: Buffer, _e, cb) {
    logLines.push(chunk.toString('utf8'));
    cb();
  },
});
let pg: DemoProvider;
let clock = Date.parse('2026-05-15T10:00:00Z');

beforeAll(async () => {
  pg = await startDemoProvider({ port: 0, otp: '424242', logger: createLogger('trace', sink), retryAfterSeconds: 1, now: () => clock });
});
afterAll(() => pg.close());

async function call(method: string, path: string, body?: unknown, headers: Record<string, string> = {}) {
  const res = await fetch(pg.url + path, {
    method,
    headers: { 'content-type': 'application/json', ...headers },
    body: body === undefined ? null : typeof body === 'string' ? body : JSON.stringify(body),
  });
  const text = await res.text();
  return { status: res.status, headers: res.headers, json: (text ? JSON.parse(text) : undefined) as Record<string, unknown> };
}

async function verifiedOtp(orderRef: string): Promise<string> {
  const o = await call('POST', '/v1/otp', { orderRef, customerMobile: '+919800000001' });
  const otpId = o.json.otpId as string;
  expect((await call('POST', `/v1/otp/${otpId}/validate`, { otp: '424242' })).json.status).toBe('valid');
  return otpId;
}

let seq = 0;
async function payment(pan: string, opts: { cvv?: string; expiry?: string; otpId?: string; key?: string; orderRef?: string } = {}) {
  const orderRef = opts.orderRef ?? `ORD-U${++seq}`;
  const otpId = opts.otpId ?? (await verifiedOtp(orderRef));
  const body = { orderRef, merchantId: 'M-1', amount: '10.00', currency: 'INR', otpId, card: { pan, expiry: opts.expiry ?? '1230', cvv: opts.cvv ?? '123' } };
  const key = opts.key ?? `key-${seq}-${Math.random()}`;
  return { key, body, res: await call('POST', '/v1/payments', body, { 'idempotency-key': key }) };
}

describe('demo provider: lookup, key, OTP', () => {
  it('looks up seeded transactions and 404s others', async () => {
    expect((await call('GET', '/v1/transactions/TXN-1001')).json).toMatchObject({ amount: '1499.00', currency: 'INR', orderRef: 'ORD-1001', customerMobile: '+919800000001' });
    expect((await call('GET', '/v1/transactions/NOPE')).status).toBe(404);
  });

  it('publishes its card key', async () => {
    const k = await call('GET', '/v1/keys/card');
    expect(k.json).toMatchObject({ algorithm: 'RSA-OAEP-256', publicKeyPem: pg.publicKeyPem });
  });

  it('issues DEMO_OTP, validates right and wrong answers, and limits attempts', async () => {
    const o = await call('POST', '/v1/otp', { orderRef: 'ORD-OTP', customerMobile: '+919800000001' });
    expect(o.status).toBe(201);
    expect(o.json).toMatchObject({ otp: '424242', length: 6, expiresAt: '2026-05-15T10:05:00.000Z' });
    const v = (otp: string) => call('POST', `/v1/otp/${o.json.otpId as string}/validate`, { otp });
    expect((await v('111111')).json).toEqual({ status: 'invalid', attemptsLeft: 2 });
    expect((await v('424242')).json).toEqual({ status: 'valid', attemptsLeft: 2 });
    expect((await v('424242')).json).toEqual({ status: 'valid', attemptsLeft: 2 });
    expect((await v('111111')).json).toEqual({ status: 'invalid', attemptsLeft: 1 });
    expect((await v('111111')).json).toEqual({ status: 'invalid', attemptsLeft: 0 });
    expect((await v('424242')).json).toEqual({ status: 'expired', attemptsLeft: 0 });
    expect((await call('POST', '/v1/otp/otp_nope/validate', { otp: '1' })).status).toBe(404);
  });

  it('expires an unverified OTP after its lifetime', async () => {
    const o = await call('POST', '/v1/otp', { orderRef: 'ORD-TTL', customerMobile: '+919800000001' });
    clock += 5 * 60_000 + 1;
    try {
      expect((await call('POST', `/v1/otp/${o.json.otpId as string}/validate`, { otp: '424242' })).json.status).toBe('expired');
    } finally {
      clock -= 5 * 60_000 + 1;
    }
  });

  it('without DEMO_OTP issues 6 random digits', async () => {
    const other = await startDemoProvider({ port: 0, logger: createLogger('silent') });
    try {
      const r = await fetch(`${other.url}/v1/otp`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ orderRef: 'O', customerMobile: '+919800000001' }) });
      expect(((await r.json()) as { otp: string }).otp).toMatch(/^\d{6}$/);
    } finally {
      await other.close();
    }
  });
});

describe('demo provider: payments', () => {
  it('approves, and the same key with the same body replays without charging again', async () => {
    const { key, body, res } = await payment('5555555555554444');
    expect(res.json).toMatchObject({ status: 'approved', card: { brand: 'mastercard', last4: '4444' } });
    const again = await call('POST', '/v1/payments', body, { 'idempotency-key': key });
    expect(again.json).toEqual(res.json);
    expect(pg.payments().filter((p) => p.idempotencyKey === key)).toHaveLength(1);
    const other = await call('POST', '/v1/payments', { ...body, amount: '11.00' }, { 'idempotency-key': key });
    expect(other.status).toBe(409);
    expect(other.json).toEqual({ error: { code: 'idempotency-key-reused' } });
    const status = await call('GET', `/v1/payments?idempotencyKey=${key}`);
    expect(status.json).toEqual({ status: 'approved', paymentId: res.json.paymentId });
  });

  it('needs an Idempotency-Key and a well-formed body', async () => {
    expect((await call('POST', '/v1/payments', { orderRef: 'x' })).json).toEqual({ error: { code: 'idempotency-key-required' } });
    const bad = await call('POST', '/v1/payments', { orderRef: 'x', card: { pan: '4111111111111111' } }, { 'idempotency-key': 'k' });
    expect(bad.status).toBe(400);
    expect(JSON.stringify(bad.json)).not.toContain('4111');
  });

  it.each([
    ['4111111111111112', {}, 'invalid-card'],
    ['4111111111111111', { expiry: '0426' }, 'expired-card'],
    ['378282246310005', { cvv: '123' }, 'invalid-cvv'],
    [DEMO_CARDS.decline, {}, 'do-not-honour'],
  ] as const)('declines %s %j: %s', async (pan, opts, reason) => {
    const { res } = await payment(pan, opts);
    expect(res.json).toMatchObject({ status: 'declined', declineReason: reason });
  });

  it('declines without a validated OTP, and an OTP pays only once', async () => {
    const o = await call('POST', '/v1/otp', { orderRef: 'ORD-NV', customerMobile: '+919800000001' });
    expect((await payment('4111111111111111', { otpId: o.json.otpId as string, orderRef: 'ORD-NV' })).res.json.declineReason).toBe('otp-not-verified');
    const otpId = await verifiedOtp('ORD-ONCE');
    expect((await payment('4111111111111111', { otpId, orderRef: 'ORD-ONCE' })).res.json.status).toBe('approved');
    expect((await payment('4111111111111111', { otpId, orderRef: 'ORD-ONCE' })).res.json.declineReason).toBe('otp-used');
  });

  it('accepts encryptedCard; a retry re-encrypted under the same key is the same charge', async () => {
    const otpId = await verifiedOtp('ORD-ENC');
    const card = () => ({ pan: SensitiveDigits.fromString('378282246310005'), expiry: SensitiveDigits.fromString('1230'), cvv: SensitiveDigits.fromString('1234') });
    const body = () => ({ orderRef: 'ORD-ENC', merchantId: 'M-1', amount: '10.00', currency: 'INR', otpId, encryptedCard: encryptCard(pg.publicKeyPem, card()) });
    const a = await call('POST', '/v1/payments', body(), { 'idempotency-key': 'enc-1' });
    const b = await call('POST', '/v1/payments', body(), { 'idempotency-key': 'enc-1' });
    expect(a.json).toMatchObject({ status: 'approved', card: { brand: 'amex', last4: '0005' } });
    expect(b.json).toEqual(a.json);
    expect(pg.payments().filter((p) => p.idempotencyKey === 'enc-1')).toMatchObject([{ encrypted: true }]);
    const broken = await call('POST', '/v1/payments', { ...body(), encryptedCard: 'AAAA' }, { 'idempotency-key': 'enc-2' });
    expect(broken.json).toEqual({ error: { code: 'bad-encrypted-card' } });
  });

  it('4000000000000119 answers 500 and records nothing', async () => {
    const { key, res } = await payment(DEMO_CARDS.serverError);
    expect(res.status).toBe(500);
    expect((await call('GET', `/v1/payments?idempotencyKey=${key}`)).json).toEqual({ status: 'not-found' });
  });

  it('4000000000000333 answers 429 with Retry-After twice per key, then approves', async () => {
    const first = await payment(DEMO_CARDS.rateLimited);
    expect(first.res.status).toBe(429);
    expect(first.res.headers.get('retry-after')).toBe('1');
    const again = () => call('POST', '/v1/payments', first.body, { 'idempotency-key': first.key });
    expect((await again()).status).toBe(429);
    expect((await again()).json).toMatchObject({ status: 'approved' });
  });

  it('4000000000000259 never answers: pending, held until the client gives up', async () => {
    const orderRef = 'ORD-HANG';
    const otpId = await verifiedOtp(orderRef);
    const body = { orderRef, merchantId: 'M-1', amount: '10.00', currency: 'INR', otpId, card: { pan: DEMO_CARDS.noAnswer, expiry: '1230', cvv: '123' } };
    const ctl = new AbortController();
    const pending = fetch(`${pg.url}/v1/payments`, { method: 'POST', signal: ctl.signal, headers: { 'content-type': 'application/json', 'idempotency-key': 'hang-1' }, body: JSON.stringify(body) });
    await expect.poll(() => pg.heldRequests()).toBe(1);
    expect((await call('GET', '/v1/payments?idempotencyKey=hang-1')).json).toMatchObject({ status: 'pending' });
    expect((await call('POST', '/v1/payments', body, { 'idempotency-key': 'hang-1' })).json).toEqual({ error: { code: 'request-in-progress' } });
    ctl.abort();
    await expect(pending).rejects.toThrow();
    await expect.poll(() => pg.heldRequests()).toBe(0);
    expect(pg.requests().some((r) => r.path === '/v1/payments' && r.status === 0)).toBe(true);
  });

  it('confirms approved payments only', async () => {
    const { res } = await payment('4111111111111111');
    const id = res.json.paymentId as string;
    expect((await call('POST', `/v1/payments/${id}/confirm`, {})).json).toEqual({ paymentId: id, status: 'confirmed' });
    expect(pg.payments().find((p) => p.paymentId === id)!.confirmed).toBe(true);
    const declined = (await payment(DEMO_CARDS.decline)).res.json.paymentId as string;
    expect((await call('POST', `/v1/payments/${declined}/confirm`, {})).status).toBe(409);
    expect((await call('POST', '/v1/payments/pay_nope/confirm', {})).status).toBe(404);
  });

  const external = Object.values(networkInterfaces()).flat().find((i) => i && i.family === 'IPv4' && !i.internal);
  it.skipIf(!external)('refuses a plain card from a non-loopback address', async () => {
    const open = await startDemoProvider({ port: 0, host: '0.0.0.0', logger: createLogger('silent') });
    try {
      const port = new URL(open.url).port;
      const r = await fetch(`http://${external!.address}:${port}/v1/payments`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'idempotency-key': 'k' },
        body: JSON.stringify({ orderRef: 'O', merchantId: 'M', amount: '1.00', currency: 'INR', otpId: 'o', card: { pan: '4111111111111111', expiry: '1230', cvv: '123' } }),
      });
      expect(await r.json()).toEqual({ error: { code: 'plain-card-refused' } });
    } finally {
      await open.close();
    }
  });
});

describe('demo provider: SMS sink, errors, logs, close', () => {
  it('records SMS at /demo/sms, newest last', async () => {
    const sms = { to: '+919800000001', senderId: 'TNGATE', peId: '1101159876543210987', templateId: '1107161234567890123' };
    expect((await call('POST', '/v1/sms', { ...sms, text: 'first' })).status).toBe(202);
    expect((await call('POST', '/v1/sms', { ...sms, text: 'second' })).json).toMatchObject({ status: 'accepted' });
    const list = (await call('GET', '/demo/sms')).json.messages as { text: string; sentAt: string }[];
    expect(list.slice(-2).map((m) => m.text)).toEqual(['first', 'second']);
    expect(list.at(-1)).toMatchObject({ ...sms, sentAt: '2026-05-15T10:00:00.000Z' });
    expect((await call('POST', '/v1/sms', { ...sms, senderId: 'TOOLONG', text: 'x' })).status).toBe(400);
  });

  it('a broken JSON body is a 400 whose log line does not quote it', async () => {
    const r = await call('POST', '/v1/payments', '{"card":{"pan":"4111111111111111"', { 'idempotency-key': 'bj' });
    expect(r).toMatchObject({ status: 400, json: { error: { code: 'bad-json' } } });
  });

  it('logged no card number, CVV or OTP', () => {
    const all = logLines.join('');
    expect(all.length).toBeGreaterThan(0);
    for (const secret of ['4111111111111111', '5555555555554444', '378282246310005', '424242', '"cvv"']) expect(all).not.toContain(secret);
  });

  it('close() is idempotent and drops held requests', async () => {
    const p = await startDemoProvider({ port: 0, logger: createLogger('silent') });
    const o = await (await fetch(`${p.url}/v1/otp`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ orderRef: 'O', customerMobile: '+919800000001' }) })).json() as { otpId: string };
    const held = fetch(`${p.url}/v1/payments`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'idempotency-key': 'h' },
      body: JSON.stringify({ orderRef: 'O', merchantId: 'M', amount: '1.00', currency: 'INR', otpId: o.otpId, card: { pan: DEMO_CARDS.noAnswer, expiry: '1230', cvv: '123' } }),
    });
    await expect.poll(() => p.heldRequests()).toBe(1);
    const started = performance.now();
    await Promise.all([p.close(), p.close()]);
    expect(performance.now() - started).toBeLessThan(1_000);
    await expect(held).rejects.toThrow();
    await expect(fetch(`${p.url}/healthz`)).rejects.toThrow();
  });
});

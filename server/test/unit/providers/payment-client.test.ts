import { describe, expect, it } from 'vitest';
import { silentLogger } from '../../../src/observability/logger.js';
import { ProviderError } from '../../../src/providers/errors.js';
import { PaymentProviderClient, type PaymentProviderOptions } from '../../../src/providers/payment-client.js';
import type { PaymentRequest } from '../../../src/providers/pay.js';
import { BreakerState } from '../../../src/providers/resilience/circuit-breaker.js';
import { PAYMENT_POLICY, READ_POLICY } from '../../../src/providers/resilience/retry.js';
import { cardKeyFingerprint, decryptCard, generateCardKeyPair } from '../../../src/security/card-crypto.js';
import { SensitiveDigits } from '../../../src/security/sensitive-digits.js';
import { FakeClock } from '../../support/fake-clock.js';
import { fakeFetch, type Scripted, type SeenRequest } from './fake-fetch.js';

const APPROVED = { paymentId: 'pay_1', status: 'approved', amount: '1499.00', currency: 'INR', orderRef: 'ORD-1', card: { brand: 'visa', last4: '1111' } };
const DECLINED = { ...APPROVED, status: 'declined', declineReason: 'do-not-honour' };

function request(extra: Partial<PaymentRequest> = {}): PaymentRequest {
  return {
    orderRef: 'ORD-1',
    merchantId: 'M-1',
    amount: '1499.00',
    currency: 'INR',
    otpId: 'otp_1',
    card: {
      pan: SensitiveDigits.fromString('4111111111111111', 19),
      expiry: SensitiveDigits.fromString('1230', 4),
      cvv: SensitiveDigits.fromString('123', 4),
    },
    ...extra,
  };
}

function setup(route: (req: SeenRequest, n: number) => Scripted, extra: Partial<PaymentProviderOptions> = {}) {
  const ff = fakeFetch(route);
  const sleeps: number[] = [];
  const client = new PaymentProviderClient({
    baseUrl: 'https://pg.test/api',
    logger: silentLogger,
    fetch: ff.fetch,
    sleep: async (ms) => void sleeps.push(ms),
    random: () => 0.5,
    timeouts: { defaultMs: 40, paymentMs: 40, statusMs: 40 },
    clock: new FakeClock(),
    nowEpochMs: () => Date.parse('2026-05-15T10:00:00Z'),
    ...extra,
  });
  const calls = () => ff.seen.map((r) => `${r.method} ${new URL(r.url).pathname}`);
  return { client, seen: ff.seen, sleeps, calls };
}

const isPost = (r: SeenRequest) => r.method === 'POST' && r.url.endsWith('/v1/payments');

describe('PaymentProviderClient.pay: a card is never charged twice', () => {
  it('approves on a clean 200, sending an Idempotency-Key and the card', async () => {
    const { client, seen } = setup(() => ({ status: 200, body: APPROVED }));
    const d = await client.pay(request());
    expect(d).toMatchObject({ outcome: 'approved', paymentId: 'pay_1', attempts: 1 });
    expect(seen).toHaveLength(1);
    expect(seen[0]!.url).toBe('https://pg.test/api/v1/payments');
    expect(seen[0]!.headers['idempotency-key']).toMatch(/^[0-9a-f-]{36}$/);
    expect(seen[0]!.headers['idempotency-key']).toBe(d.idempotencyKey);
    expect(JSON.parse(seen[0]!.body!)).toMatchObject({ card: { pan: '4111111111111111', expiry: '1230', cvv: '123' }, otpId: 'otp_1' });
  });

  it('a decline is a decision, not an error', async () => {
    const { client } = setup(() => ({ status: 200, body: DECLINED }));
    expect(await client.pay(request())).toMatchObject({ outcome: 'declined', reason: 'do-not-honour' });
  });

  it('timeout -> the status query comes first and settles it: approved, one POST only', async () => {
    const { client, calls } = setup((r) => (isPost(r) ? { hang: true } : { status: 200, body: { status: 'approved', paymentId: 'pay_9' } }));
    const d = await client.pay(request());
    expect(d).toMatchObject({ outcome: 'approved', paymentId: 'pay_9', attempts: 1 });
    expect(calls()).toEqual(['POST /api/v1/payments', 'GET /api/v1/payments']);
  });

  it('500 -> status not-found -> retried with the same key and the same body', async () => {
    const { client, seen, calls, sleeps } = setup((r, n) =>
      isPost(r) ? (n === 1 ? { status: 500, body: { error: { code: 'internal-error' } } } : { status: 200, body: APPROVED }) : { status: 200, body: { status: 'not-found' } },
    );
    const d = await client.pay(request({ idempotencyKey: 'key-123' }));
    expect(d).toMatchObject({ outcome: 'approved', attempts: 2, idempotencyKey: 'key-123' });
    expect(calls()).toEqual(['POST /api/v1/payments', 'GET /api/v1/payments', 'POST /api/v1/payments']);
    expect(seen[1]!.url).toContain('idempotencyKey=key-123');
    expect(seen[2]!.headers['idempotency-key']).toBe('key-123');
    expect(seen[2]!.body).toBe(seen[0]!.body);
    expect(sleeps).toHaveLength(1);
  });

  it('timeout -> status pending -> failed with needsReconciliation, no second POST', async () => {
    const { client, seen } = setup((r) => (isPost(r) ? { hang: true } : { status: 200, body: { status: 'pending', paymentId: 'pay_3' } }));
    const d = await client.pay(request());
    expect(d).toEqual({ outcome: 'failed', reason: 'timeout', needsReconciliation: true, idempotencyKey: d.idempotencyKey, attempts: 1, chargeSent: true });
    expect(seen.filter(isPost)).toHaveLength(1);
  });

  it('timeout -> status query unanswerable -> failed with needsReconciliation', async () => {
    const { client, seen } = setup((r) => (isPost(r) ? { hang: true } : { status: 503 }));
    const d = await client.pay(request());
    expect(d).toMatchObject({ outcome: 'failed', reason: 'timeout', needsReconciliation: true });
    expect(seen.filter(isPost)).toHaveLength(1);
    expect(seen.length).toBe(1 + 3); // the status query has its own retries
  });

  it('timeouts with not-found every time: all attempts use one key, then failed + needsReconciliation', async () => {
    const { client, seen } = setup((r) => (isPost(r) ? { hang: true } : { status: 200, body: { status: 'not-found' } }));
    const d = await client.pay(request());
    expect(d).toMatchObject({ outcome: 'failed', reason: 'timeout', needsReconciliation: true, attempts: 3 });
    expect(new Set(seen.filter(isPost).map((r) => r.headers['idempotency-key'])).size).toBe(1);
  });

  it('500 with not-found every time -> failed, the provider having nothing to reconcile', async () => {
    const { client } = setup((r) => (isPost(r) ? { status: 502 } : { status: 200, body: { status: 'not-found' } }));
    expect(await client.pay(request())).toMatchObject({ outcome: 'failed', reason: 'server-error', needsReconciliation: false, attempts: 3 });
  });

  it('429 -> waits Retry-After (seconds) and retries the same key without a status query', async () => {
    const { client, calls, sleeps, seen } = setup((_r, n) => (n === 1 ? { status: 429, headers: { 'retry-after': '2' } } : { status: 200, body: APPROVED }));
    expect(await client.pay(request())).toMatchObject({ outcome: 'approved', attempts: 2 });
    expect(sleeps).toEqual([2_000]);
    expect(calls()).toEqual(['POST /api/v1/payments', 'POST /api/v1/payments']);
    expect(seen[1]!.headers['idempotency-key']).toBe(seen[0]!.headers['idempotency-key']);
  });

  it('429 with an HTTP-date Retry-After waits until that date', async () => {
    const { client, sleeps } = setup((_r, n) => (n === 1 ? { status: 429, headers: { 'retry-after': 'Fri, 15 May 2026 10:00:03 GMT' } } : { status: 200, body: APPROVED }));
    await client.pay(request());
    expect(sleeps).toEqual([3_000]);
  });

  it('429 asking for longer than the cap -> failed rate-limited without waiting', async () => {
    const { client, sleeps } = setup(() => ({ status: 429, headers: { 'retry-after': '3600' } }));
    expect(await client.pay(request())).toMatchObject({ outcome: 'failed', reason: 'rate-limited', needsReconciliation: false });
    expect(sleeps).toEqual([]);
  });

  it('409 -> settled by status, never by a new key', async () => {
    const { client, calls } = setup((r) => (isPost(r) ? { status: 409, body: { error: { code: 'request-in-progress' } } } : { status: 200, body: { status: 'approved', paymentId: 'pay_7' } }));
    expect(await client.pay(request())).toMatchObject({ outcome: 'approved', paymentId: 'pay_7' });
    expect(calls()).toEqual(['POST /api/v1/payments', 'GET /api/v1/payments']);
  });

  it('a malformed 200 is a bad-response: resolved by status, as the charge may have happened', async () => {
    const { client } = setup((r) => (isPost(r) ? { status: 200, body: { paymentId: 'x', status: 'maybe' } } : { status: 200, body: { status: 'declined', paymentId: 'pay_8', declineReason: 'do-not-honour' } }));
    expect(await client.pay(request())).toMatchObject({ outcome: 'declined', paymentId: 'pay_8', reason: 'do-not-honour' });
  });

  it('connection refused (nothing sent) -> backs off and retries without a status query', async () => {
    const { client, calls } = setup((_r, n) => (n === 1 ? { error: 'refused' } : { status: 200, body: APPROVED }));
    expect(await client.pay(request())).toMatchObject({ outcome: 'approved', attempts: 2 });
    expect(calls()).toEqual(['POST /api/v1/payments', 'POST /api/v1/payments']);
  });

  it('the policy decides which errors earn another POST: without server-error, a 500 is final', async () => {
    const { client, calls } = setup((r) => (isPost(r) ? { status: 500 } : { status: 200, body: { status: 'not-found' } }), {
      paymentPolicy: { ...PAYMENT_POLICY, retryOn: ['rate-limited'] },
    });
    expect(await client.pay(request())).toMatchObject({ outcome: 'failed', reason: 'server-error', attempts: 1 });
    expect(calls()).toEqual(['POST /api/v1/payments', 'GET /api/v1/payments']);
  });

  it('400 -> failed rejected, no retry, nothing to reconcile', async () => {
    const { client, seen } = setup(() => ({ status: 400, body: { error: { code: 'bad-request' } } }));
    expect(await client.pay(request())).toMatchObject({ outcome: 'failed', reason: 'rejected', needsReconciliation: false });
    expect(seen).toHaveLength(1);
  });

  it('breaker open -> refused up front, nothing sent', async () => {
    const { client, seen } = setup(() => ({ status: 500 }), { breaker: { failureThreshold: 2, windowMs: 10_000, cooldownMs: 10_000 } });
    await expect(client.lookupTransaction('T')).rejects.toMatchObject({ code: 'breaker-open' });
    expect(client.breaker.state).toBe(BreakerState.Open);
    const before = seen.length;
    expect(await client.pay(request())).toMatchObject({ outcome: 'failed', reason: 'breaker-open', needsReconciliation: false, attempts: 0 });
    expect(seen.length).toBe(before);
    // ...but a status query, which settles payments already sent, still goes out
    seen.length = 0;
    await expect(client.paymentStatus('k')).rejects.toMatchObject({ code: 'server-error' });
    expect(seen.length).toBe(3);
  });

  it('encrypts the card with the configured key, and a retry resends the very same ciphertext', async () => {
    const keys = generateCardKeyPair();
    const { client, seen } = setup((r, n) => (isPost(r) ? (n === 1 ? { status: 503 } : { status: 200, body: APPROVED }) : { status: 200, body: { status: 'not-found' } }), {
      cardEncryption: { mode: 'key', publicKeyPem: keys.publicKeyPem },
    });
    expect(await client.pay(request())).toMatchObject({ outcome: 'approved' });
    const first = JSON.parse(seen[0]!.body!) as { card?: unknown; encryptedCard: string };
    expect(first.card).toBeUndefined();
    expect(seen[0]!.body).not.toContain('4111111111111111');
    expect(decryptCard(keys.privateKeyPem, first.encryptedCard)).toEqual({ pan: '4111111111111111', expiry: '1230', cvv: '123' });
    expect(seen[2]!.body).toBe(seen[0]!.body);
  });

  it('fetches the provider key once in provider-key mode', async () => {
    const keys = generateCardKeyPair();
    const keyAnswer = { keyId: 'k1', algorithm: 'RSA-OAEP-256', publicKeyPem: keys.publicKeyPem };
    const { client, calls } = setup(
      (r) => (r.url.endsWith('/v1/keys/card') ? { status: 200, body: keyAnswer } : { status: 200, body: APPROVED }),
      { cardEncryption: { mode: 'provider-key' } },
    );
    await client.pay(request());
    await client.pay(request());
    expect(calls()).toEqual(['GET /api/v1/keys/card', 'POST /api/v1/payments', 'POST /api/v1/payments']);
  });

  it('provider-key with a matching pinned fingerprint encrypts with that key', async () => {
    const keys = generateCardKeyPair();
    const keyAnswer = { keyId: 'k1', algorithm: 'RSA-OAEP-256', publicKeyPem: keys.publicKeyPem };
    const { client, seen } = setup((r) => (r.url.endsWith('/v1/keys/card') ? { status: 200, body: keyAnswer } : { status: 200, body: APPROVED }), {
      cardEncryption: { mode: 'provider-key', pinnedSha256: cardKeyFingerprint(keys.publicKeyPem) },
    });
    expect(await client.pay(request())).toMatchObject({ outcome: 'approved' });
    const sent = JSON.parse(seen[1]!.body!) as { encryptedCard: string };
    expect(decryptCard(keys.privateKeyPem, sent.encryptedCard)).toMatchObject({ pan: '4111111111111111' });
  });

  it('a provider key that is not the pinned one fails clearly and no payment is sent', async () => {
    const served = generateCardKeyPair();
    const pinned = generateCardKeyPair();
    const keyAnswer = { keyId: 'k1', algorithm: 'RSA-OAEP-256', publicKeyPem: served.publicKeyPem };
    const { client, calls } = setup((r) => (r.url.endsWith('/v1/keys/card') ? { status: 200, body: keyAnswer } : { status: 200, body: APPROVED }), {
      cardEncryption: { mode: 'provider-key', pinnedSha256: cardKeyFingerprint(pinned.publicKeyPem) },
    });
    expect(await client.pay(request())).toMatchObject({ outcome: 'failed', reason: 'card-key-mismatch', needsReconciliation: false, attempts: 0 });
    expect(calls()).toEqual(['GET /api/v1/keys/card']);
  });

  it('the payment body is bytes, zeroed once the exchange is over', async () => {
    const { client, seen } = setup(() => ({ status: 200, body: APPROVED }));
    await client.pay(request());
    expect(seen[0]!.body).toContain('4111111111111111'); // it was on the wire (plain mode, HTTPS)
    expect(seen[0]!.raw).toBeInstanceOf(Uint8Array);
    expect(seen[0]!.raw!.every((b) => b === 0)).toBe(true);
  });

  it('sends X-API-Key and a Bearer token when both are configured', async () => {
    const { client, seen } = setup(() => ({ status: 200, body: APPROVED }), { apiKeyHeader: 'key-123', apiKey: 'bearer-456' });
    await client.pay(request());
    expect(seen[0]!.headers).toMatchObject({ 'x-api-key': 'key-123', authorization: 'Bearer bearer-456' });
  });

  it('a named provider\'s API key goes in its own header (auth.header), and each call has its own timeout', async () => {
    const { client, seen } = setup((r) => (r.url.endsWith('/v1/otp') ? { hang: true } : { status: 200, body: APPROVED }), {
      apiKeyHeader: 'key-9', apiKeyHeaderName: 'X-Acme-Key', timeouts: { defaultMs: 5_000, paymentMs: 5_000, statusMs: 5_000, otpMs: 30 }, readPolicy: { ...READ_POLICY, attempts: 1 },
    });
    await client.pay(request());
    expect(seen[0]!.headers).toMatchObject({ 'x-acme-key': 'key-9' });
    expect(seen[0]!.headers['x-api-key']).toBeUndefined();
    await expect(client.generateOtp({ orderRef: 'O', customerMobile: '+919800000001' })).rejects.toMatchObject({ code: 'timeout' });
  });
});

describe('PaymentProviderClient: the other calls', () => {
  it('lookupTransaction parses the answer, and 404 is null', async () => {
    const txn = { ref: 'TXN-1', amount: '10.00', currency: 'INR', merchantId: 'M', orderRef: 'O', customerMobile: '+919800000001' };
    const { client, seen } = setup((r) => (r.url.endsWith('TXN-1') ? { status: 200, body: txn } : { status: 404 }), { apiKey: 'sekrit' });
    expect(await client.lookupTransaction('TXN-1')).toEqual(txn);
    expect(await client.lookupTransaction('a/b')).toBeNull();
    expect(seen[1]!.url).toBe('https://pg.test/api/v1/transactions/a%2Fb');
    expect(seen[0]!.headers.authorization).toBe('Bearer sekrit');
  });

  it('a malformed answer is ProviderError(bad-response, retryable=false) and is not retried', async () => {
    const { client, seen } = setup(() => ({ status: 200, body: { ref: 'TXN-1', amount: 'ten' } }));
    const err = await client.lookupTransaction('TXN-1').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ProviderError);
    expect(err).toMatchObject({ code: 'bad-response', retryable: false });
    expect(seen).toHaveLength(1);
    const { client: c2 } = setup(() => ({ status: 200, body: '<html>' }));
    await expect(c2.lookupTransaction('x')).rejects.toMatchObject({ code: 'bad-response' });
  });

  it('every call times out: a hanging lookup ends as ProviderError(timeout) after its retries', async () => {
    const { client, seen } = setup(() => ({ hang: true }));
    const started = performance.now();
    await expect(client.lookupTransaction('T')).rejects.toMatchObject({ code: 'timeout', retryable: true });
    expect(seen).toHaveLength(3);
    expect(performance.now() - started).toBeLessThan(2_000);
  });

  it('generateOtp returns the OTP in a SensitiveDigits and validateOtp sends it', async () => {
    const { client, seen } = setup((r) =>
      r.url.endsWith('/v1/otp')
        ? { status: 201, body: { otpId: 'otp_1', otp: '482913', length: 6, expiresAt: '2026-05-15T10:05:00.000Z' } }
        : { status: 200, body: { status: 'valid', attemptsLeft: 3 } },
    );
    const issued = await client.generateOtp({ orderRef: 'O', customerMobile: '+919800000001' });
    expect(issued).toMatchObject({ otpId: 'otp_1', length: 6 });
    expect(issued.expiresAt.toISOString()).toBe('2026-05-15T10:05:00.000Z');
    expect(JSON.stringify(issued)).not.toContain('482913');
    expect(await client.validateOtp('otp_1', issued.otp)).toEqual({ status: 'valid', attemptsLeft: 3 });
    expect(seen[1]!.url).toBe('https://pg.test/api/v1/otp/otp_1/validate');
    expect(JSON.parse(seen[1]!.body!)).toEqual({ otp: '482913' });
  });

  it('an OTP whose length disagrees with the answer is a bad-response', async () => {
    const { client } = setup(() => ({ status: 201, body: { otpId: 'o', otp: '12345', length: 6, expiresAt: '2026-05-15T10:05:00Z' } }));
    await expect(client.generateOtp({ orderRef: 'O', customerMobile: '+919800000001' })).rejects.toMatchObject({ code: 'bad-response' });
  });

  it('confirm posts to the payment', async () => {
    const { client, calls } = setup(() => ({ status: 200, body: { paymentId: 'pay_1', status: 'confirmed' } }));
    expect(await client.confirm('pay_1')).toEqual({ paymentId: 'pay_1', status: 'confirmed' });
    expect(calls()).toEqual(['POST /api/v1/payments/pay_1/confirm']);
  });

  it.each([
    ['http://pg.example.com', false, true],
    ['http://pg.example.com', true, false],
    ['http://127.0.0.1:8090', false, false],
    ['http://localhost:8090', false, false],
    ['http://[::1]:8090', false, false],
    ['https://pg.example.com', false, false],
    ['ftp://pg.example.com', true, true],
  ] as const)('base URL %s (allowPlainHttp=%s) refused=%s', (baseUrl, allowPlainHttp, refused) => {
    const make = () => new PaymentProviderClient({ baseUrl, allowPlainHttp, logger: silentLogger });
    if (refused) expect(make).toThrow(expect.objectContaining({ code: 'insecure-transport' }) as Error);
    else expect(make).not.toThrow();
  });
});

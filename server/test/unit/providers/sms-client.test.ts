import { describe, expect, it } from 'vitest';
import { silentLogger } from '../../../src/observability/logger.js';
import type { DltTemplate } from '../../../src/providers/dlt.js';
import { ProviderError } from '../../../src/providers/errors.js';
import { BreakerState } from '../../../src/providers/resilience/circuit-breaker.js';
import { SmsClient, SmsRoutesFailedError, maskMobile } from '../../../src/providers/sms-client.js';
import { SensitiveDigits } from '../../../src/security/sensitive-digits.js';
import { FakeClock } from '../../support/fake-clock.js';
import { fakeFetch, type Scripted, type SeenRequest } from './fake-fetch.js';

const TEMPLATE: DltTemplate = {
  templateId: '1107161234567890123',
  peId: '1101159876543210987',
  senderId: 'TNGATE',
  text: '{#var#} is your OTP for order {#var#}. - Tonegate',
};
const ACCEPTED = { messageId: 'sms_1', status: 'accepted' };

function setup(route: (req: SeenRequest, n: number) => Scripted) {
  const ff = fakeFetch(route);
  const sms = new SmsClient({
    routes: [
      { name: 'primary', baseUrl: 'https://sms-a.test' },
      { name: 'backup', baseUrl: 'https://sms-b.test', timeoutMs: 40 },
    ],
    logger: silentLogger,
    fetch: ff.fetch,
    clock: new FakeClock(),
    breaker: { failureThreshold: 2, windowMs: 60_000, cooldownMs: 60_000 },
  });
  return { sms, seen: ff.seen };
}

const message = () => ({ to: '+919800000001', template: TEMPLATE, vars: [SensitiveDigits.fromString('482913'), 'ORD-1001'] });

describe('SmsClient', () => {
  it('sends the rendered DLT message with its PE ID, header and template ID on the first route', async () => {
    const { sms, seen } = setup(() => ({ status: 202, body: ACCEPTED }));
    expect(await sms.send(message())).toEqual({ route: 'primary', messageId: 'sms_1', failedRoutes: [] });
    expect(seen).toHaveLength(1);
    expect(seen[0]!.url).toBe('https://sms-a.test/v1/sms');
    expect(JSON.parse(seen[0]!.body!)).toEqual({
      to: '+919800000001',
      senderId: 'TNGATE',
      peId: '1101159876543210987',
      templateId: '1107161234567890123',
      text: '482913 is your OTP for order ORD-1001. - Tonegate',
    });
  });

  it.each<[string, Scripted]>([
    ['answers 503', { status: 503 }],
    ['refuses the connection', { error: 'refused' }],
    ['rejects the message', { status: 400 }],
    ['answers garbage', { status: 200, body: { ok: true } }],
  ])('uses the second route when the first %s', async (_name, first) => {
    const { sms, seen } = setup((r) => (r.url.startsWith('https://sms-a.test') ? first : { status: 202, body: ACCEPTED }));
    const sent = await sms.send(message());
    expect(sent.route).toBe('backup');
    expect(sent.failedRoutes).toHaveLength(1);
    expect(seen.map((r) => new URL(r.url).host)).toEqual(['sms-a.test', 'sms-b.test']);
    expect(seen[1]!.body).toBe(seen[0]!.body);
  });

  it('fails with every route named when all fail (each route timing out too)', async () => {
    const { sms } = setup((r) => (r.url.startsWith('https://sms-a.test') ? { status: 500 } : { hang: true }));
    const err = await sms.send(message()).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(SmsRoutesFailedError);
    expect(err).toMatchObject({ code: 'all-routes-failed', retryable: true });
    expect((err as SmsRoutesFailedError).failedRoutes).toEqual([
      { route: 'primary', code: 'server-error' },
      { route: 'backup', code: 'timeout' },
    ]);
  });

  it('refuses a bad message before anything is sent', async () => {
    const { sms, seen } = setup(() => ({ status: 202, body: ACCEPTED }));
    await expect(sms.send({ ...message(), vars: ['1'] })).rejects.toMatchObject({ code: 'dlt-invalid', problem: 'count-mismatch' });
    await expect(sms.send({ ...message(), vars: ['1', 'O'.repeat(31)] })).rejects.toMatchObject({ problem: 'var-too-long' });
    await expect(sms.send({ ...message(), to: '9800000001' })).rejects.toBeInstanceOf(ProviderError);
    expect(seen).toHaveLength(0);
  });

  it('a route whose breaker is open is skipped without a request', async () => {
    const { sms, seen } = setup((r) => (r.url.startsWith('https://sms-a.test') ? { status: 500 } : { status: 202, body: ACCEPTED }));
    await sms.send(message());
    await sms.send(message());
    expect(sms.breaker('primary')!.state).toBe(BreakerState.Open);
    seen.length = 0;
    expect(await sms.send(message())).toMatchObject({ route: 'backup', failedRoutes: [{ route: 'primary', code: 'breaker-open' }] });
    expect(seen.map((r) => new URL(r.url).host)).toEqual(['sms-b.test']);
  });

  it('masks mobile numbers for logs', () => {
    expect(maskMobile('+919800000001')).toBe('+91******0001');
    expect(maskMobile('+1234')).toBe('***');
  });

  it('needs a route, and HTTPS or loopback for each', () => {
    expect(() => new SmsClient({ routes: [], logger: silentLogger })).toThrow(RangeError);
    expect(() => new SmsClient({ routes: [{ name: 'x', baseUrl: 'http://sms.example.com' }], logger: silentLogger })).toThrow(
      expect.objectContaining({ code: 'insecure-transport' }) as Error,
    );
  });
});

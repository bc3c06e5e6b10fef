import { describe, expect, it } from 'vitest';
import { silentLogger } from '../../../src/observability/logger.js';
import type { DltTemplate } from '../../../src/providers/dlt.js';
import { ProviderError } from '../../../src/providers/errors.js';
import { BreakerState } from '../../../src/providers/resilience/circuit-breaker.js';
import { SmsClient, SmsRoutesFailedError, maskMobile, type SmsClientOptions } from '../../../src/providers/sms-client.js';
import { createLogger } from '../../../src/observability/logger.js';
import { Writable } from 'node:stream';
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

function setup(route: (req: SeenRequest, n: number) => Scripted, extra: Partial<SmsClientOptions> = {}) {
  const ff = fakeFetch(route);
  const sms = new SmsClient({
    routes: [
      { name: 'primary', baseUrl: 'https://sms-a.test', timeoutMs: 40 },
      { name: 'backup', baseUrl: 'https://sms-b.test', timeoutMs: 40 },
    ],
    logger: silentLogger,
    fetch: ff.fetch,
    clock: new FakeClock(),
    breaker: { failureThreshold: 2, windowMs: 60_000, cooldownMs: 60_000 },
    ...extra,
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
    ['answers 500', { status: 500 }],
    ['resets the connection', { error: 'reset' }],
    ['does not answer in time', { hang: true }],
    ['answers garbage', { status: 200, body: { ok: true } }],
    ['throttles (429: it took nothing)', { status: 429 }],
  ])('uses the second route when the first %s', async (_name, first) => {
    const { sms, seen } = setup((r) => (r.url.startsWith('https://sms-a.test') ? first : { status: 202, body: ACCEPTED }));
    const sent = await sms.send(message());
    expect(sent.route).toBe('backup');
    expect(sent.failedRoutes).toHaveLength(1);
    expect(seen.map((r) => new URL(r.url).host)).toEqual(['sms-a.test', 'sms-b.test']);
    expect(seen[1]!.body).toBe(seen[0]!.body);
  });

  it.each([400, 401, 403, 404, 409, 422])('does not try another route when the first answers %i (the message itself is refused)', async (status) => {
    const { sms, seen } = setup((r) => (r.url.startsWith('https://sms-a.test') ? { status } : { status: 202, body: ACCEPTED }));
    const err = await sms.send(message()).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ProviderError);
    expect(err).not.toBeInstanceOf(SmsRoutesFailedError);
    expect(err).toMatchObject({ retryable: false, status });
    expect(seen.map((r) => new URL(r.url).host)).toEqual(['sms-a.test']);
  });

  it('tries three routes in their order, logging the outcome of each', async () => {
    const lines: string[] = [];
    const sink = new Writable({ write(chunk: Buffer, _e, cb) { lines.push(...chunk.toString().split('\n').filter(Boolean)); cb(); } });
    const ff = fakeFetch((r) => (r.url.startsWith('https://sms-c.test') ? { status: 202, body: ACCEPTED } : r.url.startsWith('https://sms-a.test') ? { error: 'refused' } : { status: 502 }));
    const sms = new SmsClient({
      routes: [{ name: 'a', baseUrl: 'https://sms-a.test' }, { name: 'b', baseUrl: 'https://sms-b.test' }, { name: 'c', baseUrl: 'https://sms-c.test' }],
      logger: createLogger('info', sink), fetch: ff.fetch, clock: new FakeClock(),
    });
    expect(await sms.send(message())).toMatchObject({ route: 'c', failedRoutes: [{ route: 'a', code: 'unreachable' }, { route: 'b', code: 'server-error' }] });
    expect(ff.seen.map((r) => new URL(r.url).host)).toEqual(['sms-a.test', 'sms-b.test', 'sms-c.test']);
    const outcomes = lines.map((l) => JSON.parse(l) as { msg: string; route?: string; code?: string }).filter((l) => l.msg.startsWith('sms '));
    expect(outcomes.map((l) => [l.route, l.msg, l.code])).toEqual([
      ['a', 'sms route failed', 'unreachable'],
      ['b', 'sms route failed', 'server-error'],
      ['c', 'sms accepted', undefined],
    ]);
    expect(lines.join('\n')).not.toContain('482913');
  });

  it.each<['bearer' | 'x-api-key', string, string]>([
    ['bearer', 'authorization', 'Bearer k-123'],
    ['x-api-key', 'x-api-key', 'k-123'],
  ])('sends the route key by its scheme (%s)', async (authScheme, header, value) => {
    const ff = fakeFetch(() => ({ status: 202, body: ACCEPTED }));
    const sms = new SmsClient({ routes: [{ name: 'a', baseUrl: 'https://sms-a.test', apiKey: 'k-123', authScheme }], logger: silentLogger, fetch: ff.fetch, clock: new FakeClock() });
    await sms.send(message());
    expect(ff.seen[0]!.headers[header]).toBe(value);
  });

  it('never sends a rendered message that does not match its registered template: logged by template id, counted', async () => {
    const lines: string[] = [];
    const sink = new Writable({ write(chunk: Buffer, _e, cb) { lines.push(chunk.toString()); cb(); } });
    const refused: string[] = [];
    const { sms, seen } = setup(() => ({ status: 202, body: ACCEPTED }), { logger: createLogger('info', sink), onRefused: (p) => refused.push(p) });
    // A line break in a variable: GSM-7 has it, but the operators' template match does not (one line per variable).
    await expect(sms.send({ ...message(), vars: [SensitiveDigits.fromString('482913'), 'ORD\n1001'] })).rejects.toMatchObject({ code: 'dlt-invalid', problem: 'template-mismatch' });
    expect(seen).toHaveLength(0);
    expect(refused).toEqual(['template-mismatch']);
    const log = JSON.parse(lines.join('')) as Record<string, unknown>;
    expect(log).toMatchObject({ templateId: TEMPLATE.templateId, problem: 'template-mismatch', msg: 'sms refused: does not fit its DLT template' });
    expect(lines.join('')).not.toContain('482913');
    expect(lines.join('')).not.toContain('ORD');
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
    await expect(sms.send({ ...message(), vars: ['1', 'ORD-₹'] })).rejects.toMatchObject({ problem: 'charset' });
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

import { describe, expect, it } from 'vitest';
import { ProviderError } from '../../../src/providers/errors.js';
import {
  backoffDelay,
  parseRetryAfter,
  READ_POLICY,
  retryDelay,
  withRetry,
  type RetryPolicy,
} from '../../../src/providers/resilience/retry.js';

const NOW = Date.parse('2026-05-15T10:00:00Z');
const POLICY: RetryPolicy = { ...READ_POLICY, attempts: 3, baseDelayMs: 100, maxDelayMs: 250, jitter: 0, maxRetryAfterMs: 3_000 };

describe('parseRetryAfter (RFC 9110 §10.2.3)', () => {
  it.each([
    ['2', 2_000],
    ['0', 0],
    [' 120 ', 120_000],
    ['Fri, 15 May 2026 10:00:05 GMT', 5_000],
    ['Fri, 15 May 2026 09:59:00 GMT', 0],
    ['Friday, 15-May-26 10:00:07 GMT', 7_000], // obsolete RFC 850 form, still to be accepted
    ['-1', undefined],
    ['1.5', undefined],
    ['soon', undefined],
    ['', undefined],
  ] as const)('%j -> %s ms', (header, ms) => {
    expect(parseRetryAfter(header, NOW)).toBe(ms);
  });

  it('absent header -> undefined', () => {
    expect(parseRetryAfter(null, NOW)).toBeUndefined();
    expect(parseRetryAfter(undefined, NOW)).toBeUndefined();
  });
});

describe('backoff and retry decisions', () => {
  it('backs off exponentially up to the cap, jitter scaling the random part', () => {
    expect([1, 2, 3, 4].map((r) => backoffDelay(POLICY, r))).toEqual([100, 200, 250, 250]);
    const full = { ...POLICY, jitter: 1 };
    expect(backoffDelay(full, 2, () => 0)).toBe(0);
    expect(backoffDelay(full, 2, () => 0.5)).toBe(100);
  });

  it('honours Retry-After up to the cap and gives up beyond it', () => {
    const limited = (ms: number) => new ProviderError('rate-limited', true, { retryAfterMs: ms });
    expect(retryDelay(POLICY, limited(2_000), 1)).toBe(2_000);
    expect(retryDelay(POLICY, limited(3_001), 1)).toBeUndefined();
    expect(retryDelay(POLICY, new ProviderError('rate-limited', true), 1)).toBe(100);
  });
});

describe('withRetry', () => {
  const sleeps: number[] = [];
  const hooks = { sleep: async (ms: number) => void sleeps.push(ms) };

  it('retries only codes the policy lists, with the error saying retryable', async () => {
    sleeps.length = 0;
    let n = 0;
    const r = await withRetry(async () => {
      if (++n < 3) throw new ProviderError('server-error', true);
      return 'ok';
    }, POLICY, hooks);
    expect(r).toBe('ok');
    expect(sleeps).toEqual([100, 200]);
  });

  it('stops after the last attempt and rethrows', async () => {
    let n = 0;
    await expect(withRetry(async () => {
      n++;
      throw new ProviderError('timeout', true);
    }, POLICY, hooks)).rejects.toMatchObject({ code: 'timeout' });
    expect(n).toBe(3);
  });

  it.each([
    new ProviderError('bad-response', false),
    new ProviderError('rejected', false),
    new ProviderError('breaker-open', false),
    new Error('not a provider error'),
  ])('does not retry %s', async (err) => {
    let n = 0;
    await expect(withRetry(async () => {
      n++;
      throw err;
    }, POLICY, hooks)).rejects.toBe(err);
    expect(n).toBe(1);
  });
});

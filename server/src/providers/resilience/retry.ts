import type { Clock } from '../../lib/clock.js';
import { ProviderError, type ProviderErrorCode } from '../errors.js';

/**
 * An explicit retry policy (docs/architecture.md practice 13): how many tries, how long between them, and for
 * which errors. Nothing is retried unless a policy says so; a payment POST is never retried through
 * {@link withRetry} at all (pay() resolves by status query first, see pay.ts).
 */
export interface RetryPolicy {
  /** Total tries, the first included (1 = no retry). */
  readonly attempts: number;
  /** Delay before the first retry; doubles each time (exponential backoff). */
  readonly baseDelayMs: number;
  readonly maxDelayMs: number;
  /** 0 = exact delays; 1 = "full jitter" (uniform 0..delay), AWS Architecture Blog, "Exponential Backoff And Jitter". */
  readonly jitter: number;
  /**
   * The longest `Retry-After` we will wait (a caller is on the line). A longer one is not
   * shortened (retrying early only earns another 429): the error is passed on instead.
   */
  readonly maxRetryAfterMs: number;
  /** Error codes worth another try; the error must also say `retryable`. */
  readonly retryOn: readonly ProviderErrorCode[];
}

/** Reads and idempotent writes (lookup, status, confirm, OTP validate): 3 tries. */
export const READ_POLICY: RetryPolicy = {
  attempts: 3,
  baseDelayMs: 200,
  maxDelayMs: 2_000,
  jitter: 0.5,
  maxRetryAfterMs: 5_000,
  retryOn: ['timeout', 'network', 'unreachable', 'server-error', 'rate-limited'],
};

/**
 * Payment: up to 3 POSTs with the same Idempotency-Key, but a retry after an ambiguous failure
 * happens only when the status query says `not-found` (pay.ts).
 */
export const PAYMENT_POLICY: RetryPolicy = {
  attempts: 3,
  baseDelayMs: 500,
  maxDelayMs: 3_000,
  jitter: 0.2,
  maxRetryAfterMs: 5_000,
  retryOn: ['timeout', 'network', 'unreachable', 'server-error', 'rate-limited', 'bad-response'],
};

/** SMS: a route is tried once; the fallback is the next route, not a duplicate message. */
export const NO_RETRY: RetryPolicy = {
  attempts: 1,
  baseDelayMs: 0,
  maxDelayMs: 0,
  jitter: 0,
  maxRetryAfterMs: 0,
  retryOn: [],
};

export function shouldRetry(policy: RetryPolicy, err: unknown, attempt: number): err is ProviderError {
  return (
    err instanceof ProviderError && err.retryable && attempt < policy.attempts && policy.retryOn.includes(err.code)
  );
}

/** Backoff before retry number `retry` (1 = the first retry). */
export function backoffDelay(policy: RetryPolicy, retry: number, random: () => number = Math.random): number {
  const exp = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** Math.max(0, retry - 1));
  const j = Math.min(1, Math.max(0, policy.jitter));
  return Math.round(exp * (1 - j) + exp * j * random());
}

/**
 * `Retry-After` (RFC 9110 §10.2.3): delay-seconds (a non-negative integer) or an HTTP-date
 * (IMF-fixdate, RFC 9110 §5.6.7; `Date.parse` also takes the obsolete forms). Returns ms from now,
 * 0 for a date in the past, undefined when absent or unreadable.
 */
export function parseRetryAfter(value: string | null | undefined, nowEpochMs: number): number | undefined {
  if (value === null || value === undefined) return undefined;
  const v = value.trim();
  if (/^\d+$/.test(v)) return Number(v) * 1000;
  if (!/[A-Za-z]/.test(v)) return undefined;
  const at = Date.parse(v);
  if (Number.isNaN(at)) return undefined;
  return Math.max(0, at - nowEpochMs);
}

/** How long to wait before the next try, or undefined when the policy says give up. */
export function retryDelay(policy: RetryPolicy, err: ProviderError, retry: number, random?: () => number): number | undefined {
  if (err.code === 'rate-limited' && err.retryAfterMs !== undefined) {
    return err.retryAfterMs <= policy.maxRetryAfterMs ? err.retryAfterMs : undefined;
  }
  return backoffDelay(policy, retry, random);
}

export type Sleep = (ms: number) => Promise<void>;

export function clockSleep(clock: Clock): Sleep {
  return (ms) => new Promise((resolve) => void clock.setTimeout(resolve, ms));
}

export interface RetryHooks {
  sleep: Sleep;
  random?: () => number;
  onRetry?: (err: ProviderError, attempt: number, delayMs: number) => void;
}

/** Runs `op` (given the 1-based attempt number) under `policy`. */
export async function withRetry<T>(op: (attempt: number) => Promise<T>, policy: RetryPolicy, hooks: RetryHooks): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await op(attempt);
    } catch (err) {
      if (!shouldRetry(policy, err, attempt)) throw err;
      const delay = retryDelay(policy, err, attempt, hooks.random);
      if (delay === undefined) throw err;
      hooks.onRetry?.(err, attempt, delay);
      await hooks.sleep(delay);
    }
  }
}

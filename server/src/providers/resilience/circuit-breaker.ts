import type { Clock } from '../../lib/clock.js';
import { ProviderError } from '../errors.js';

/**
 * Circuit breaker per provider (Nygard, "Release It!", ch. 5 "Circuit Breaker"; Fowler,
 * martinfowler.com/bliki/CircuitBreaker.html).
 *
 * ```
 *   failure (< N in window, or under
 *   the failure rate); success                acquire before cooldown: rejected
 *             ┌────┐                            ┌────┐
 *             v    │   N failures within window  v    │
 *             │    │   making >= minFailureRate  │    │
 *             │    │   of the window's results   │    │
 *          ┌────────┐ ─────────────────────────> ┌──────┐
 *          │ closed │                            │ open │
 *          └────────┘ <──┐                  ┌──> └──────┘
 *                        │ probe success    │ probe failure
 *                     ┌───────────┐         │
 *                     │ half-open │ ────────┘     acquire while probing: rejected
 *                     └───────────┘
 *                           ^ acquire after cooldown (admitted: it is the probe)
 *                           └──── from open
 * ```
 *
 * Every transition goes through the pure {@link breakerStep}; results carry the `epoch` they were
 * admitted in, so a slow request admitted before the breaker opened cannot close or re-open it.
 *
 * A count alone is not enough under load: at 40 concurrent payments a provider that fails 10 % of
 * requests (and whose callers' retries absorb it) produces 5 failures in 30 s easily, and an open
 * breaker then fails every session for the cooldown. So, when `minFailureRate` is set, the
 * failures must also be that share of the last {@link RATE_CALLS} results in the window (the
 * failure-rate threshold of resilience4j's CircuitBreaker over a count-based sliding window, inside
 * our time window). A provider that is down still opens it after a handful of calls, however busy it
 * was before; one failing 10 % of the time practically never does. Each list keeps at most
 * RATE_CALLS entries, so a step costs O(RATE_CALLS).
 */
export enum BreakerState {
  Closed = 'closed',
  Open = 'open',
  HalfOpen = 'half-open',
}

export interface BreakerConfig {
  /** Failures within `windowMs` that open the breaker. */
  readonly failureThreshold: number;
  readonly windowMs: number;
  /** Time open before one probe is let through. */
  readonly cooldownMs: number;
  /**
   * Share of the window's results (0..1] that must be failures, besides `failureThreshold`
   * failures, for the breaker to open. Unset: the count alone decides.
   */
  readonly minFailureRate?: number;
}

export const DEFAULT_BREAKER: BreakerConfig = { failureThreshold: 5, windowMs: 30_000, cooldownMs: 15_000, minFailureRate: 0.5 };

/** The failure rate is taken over at most this many most recent results within the window. */
export const RATE_CALLS = 20;

export interface BreakerSnapshot {
  readonly state: BreakerState;
  /** Times of recent failures (closed only). */
  readonly failures: readonly number[];
  /** Times of recent successes (closed only; kept only when the config has a `minFailureRate`). */
  readonly successes: readonly number[];
  readonly openedAt: number;
  /** Bumped on every state change; results from an older epoch are stale. */
  readonly epoch: number;
  readonly at: number;
}

export type BreakerEvent =
  | { readonly kind: 'acquire'; readonly at: number }
  | { readonly kind: 'success'; readonly at: number; readonly epoch: number }
  | { readonly kind: 'failure'; readonly at: number; readonly epoch: number };

export interface BreakerStepResult {
  readonly next: BreakerSnapshot;
  /** For `acquire`: whether the call may go ahead. */
  readonly admitted: boolean;
}

export class InvalidBreakerMoveError extends Error {
  constructor(state: BreakerState, event: BreakerEvent['kind'], why: string) {
    super(`circuit breaker: ${event} in state ${state}: ${why}`);
    this.name = 'InvalidBreakerMoveError';
  }
}

export function initialBreaker(at = 0): BreakerSnapshot {
  return { state: BreakerState.Closed, failures: [], successes: [], openedAt: 0, epoch: 0, at };
}

const move = (s: BreakerSnapshot, patch: Partial<BreakerSnapshot>, at: number): BreakerSnapshot => ({ ...s, ...patch, at });

/** Share of failures among the last RATE_CALLS results (both lists ascending in time). */
function failureRate(failures: readonly number[], successes: readonly number[]): number {
  let f = failures.length - 1;
  let s = successes.length - 1;
  let failed = 0;
  let n = 0;
  // Merge from the newest end: a failure and a success at the same time count the failure first.
  for (; n < RATE_CALLS && (f >= 0 || s >= 0); n++) {
    if (s < 0 || (f >= 0 && failures[f]! >= successes[s]!)) {
      failed++;
      f--;
    } else s--;
  }
  return n === 0 ? 0 : failed / n;
}

/** The pure transition function. Throws on a move that cannot happen. */
export function breakerStep(s: BreakerSnapshot, e: BreakerEvent, cfg: BreakerConfig): BreakerStepResult {
  if (e.at < s.at) throw new InvalidBreakerMoveError(s.state, e.kind, 'time went backwards');
  if (e.kind !== 'acquire') {
    if (e.epoch > s.epoch) throw new InvalidBreakerMoveError(s.state, e.kind, 'result from a future epoch');
    if (e.epoch < s.epoch) return { next: move(s, {}, e.at), admitted: false }; // stale: ignored
  }
  switch (s.state) {
    case BreakerState.Closed: {
      if (e.kind === 'acquire') return { next: move(s, {}, e.at), admitted: true };
      const recent = (ts: readonly number[]): number[] => ts.filter((t) => e.at - t < cfg.windowMs).slice(-(RATE_CALLS - 1));
      if (e.kind === 'success') {
        if (cfg.minFailureRate === undefined) return { next: move(s, {}, e.at), admitted: false };
        return { next: move(s, { successes: [...recent(s.successes), e.at] }, e.at), admitted: false };
      }
      const failures = [...recent(s.failures), e.at];
      const successes = recent(s.successes);
      const rateMet = cfg.minFailureRate === undefined || failureRate(failures, successes) >= cfg.minFailureRate;
      if (failures.length >= cfg.failureThreshold && rateMet) {
        return { next: move(s, { state: BreakerState.Open, failures: [], successes: [], openedAt: e.at, epoch: s.epoch + 1 }, e.at), admitted: false };
      }
      return { next: move(s, { failures, successes }, e.at), admitted: false };
    }
    case BreakerState.Open: {
      if (e.kind !== 'acquire') {
        // Opening bumps the epoch and nothing is admitted while open: a current-epoch result is impossible.
        throw new InvalidBreakerMoveError(s.state, e.kind, 'no call was admitted in this epoch');
      }
      if (e.at - s.openedAt < cfg.cooldownMs) return { next: move(s, {}, e.at), admitted: false };
      return { next: move(s, { state: BreakerState.HalfOpen, epoch: s.epoch + 1 }, e.at), admitted: true };
    }
    case BreakerState.HalfOpen: {
      if (e.kind === 'acquire') return { next: move(s, {}, e.at), admitted: false }; // one probe at a time
      if (e.kind === 'success') {
        return { next: move(s, { state: BreakerState.Closed, failures: [], successes: [], epoch: s.epoch + 1 }, e.at), admitted: false };
      }
      return { next: move(s, { state: BreakerState.Open, openedAt: e.at, epoch: s.epoch + 1 }, e.at), admitted: false };
    }
    default: {
      const never: never = s.state;
      throw new InvalidBreakerMoveError(never, e.kind, 'unknown state');
    }
  }
}

/** Proof of admission; report exactly one outcome for it. */
export interface BreakerTicket {
  readonly epoch: number;
}

/** Stateful wrapper over {@link breakerStep}, driven by a {@link Clock}. */
export class CircuitBreaker {
  #s: BreakerSnapshot;

  constructor(
    readonly name: string,
    private readonly clock: Clock,
    readonly config: BreakerConfig = DEFAULT_BREAKER,
    private readonly onChange?: (from: BreakerState, to: BreakerState, name: string) => void,
  ) {
    this.#s = initialBreaker(clock.now());
  }

  get state(): BreakerState {
    return this.#s.state;
  }

  /**
   * True while an acquire would be refused for being open (within the cooldown). Past the cooldown
   * the state still reads `open` until someone acquires, and that acquire is the probe: callers that
   * refuse work up front must ask this, not `state`, or nothing ever probes and it stays open.
   */
  get refusing(): boolean {
    return this.#s.state === BreakerState.Open && this.clock.now() - this.#s.openedAt < this.config.cooldownMs;
  }

  /** A ticket when the call may proceed, else null (refuse fast). */
  tryAcquire(): BreakerTicket | null {
    const admitted = this.#apply({ kind: 'acquire', at: this.clock.now() });
    // Read the epoch after the step: admission into half-open bumps it and the probe belongs to the new one.
    return admitted ? { epoch: this.#s.epoch } : null;
  }

  /** Like {@link tryAcquire} but throws ProviderError('breaker-open'). */
  acquire(): BreakerTicket {
    const t = this.tryAcquire();
    if (!t) throw new ProviderError('breaker-open', false, { provider: this.name });
    return t;
  }

  success(t: BreakerTicket): void {
    this.#apply({ kind: 'success', at: this.clock.now(), epoch: t.epoch });
  }

  failure(t: BreakerTicket): void {
    this.#apply({ kind: 'failure', at: this.clock.now(), epoch: t.epoch });
  }

  #apply(e: BreakerEvent): boolean {
    const from = this.#s.state;
    const r = breakerStep(this.#s, e, this.config);
    this.#s = r.next;
    if (r.next.state !== from) this.onChange?.(from, r.next.state, this.name);
    return r.admitted;
  }
}

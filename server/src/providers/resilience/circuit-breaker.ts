import type { Clock } from '../../lib/clock.js';
import { ProviderError } from '../errors.js';

/**
 * Circuit breaker per provider (Nygard, "Release It!", ch. 5 "Circuit Breaker"; Fowler,
 * martinfowler.com/bliki/CircuitBreaker.html).
 *
 * ```
 *            failure (< N in window)
 *            success                       acquire before cooldown: rejected
 *             ┌────┐                            ┌────┐
 *             v    │   N failures within window  v    │
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
}

export const DEFAULT_BREAKER: BreakerConfig = { failureThreshold: 5, windowMs: 30_000, cooldownMs: 15_000 };

export interface BreakerSnapshot {
  readonly state: BreakerState;
  /** Times of recent failures (closed only). */
  readonly failures: readonly number[];
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
  return { state: BreakerState.Closed, failures: [], openedAt: 0, epoch: 0, at };
}

const move = (s: BreakerSnapshot, patch: Partial<BreakerSnapshot>, at: number): BreakerSnapshot => ({ ...s, ...patch, at });

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
      if (e.kind === 'success') return { next: move(s, {}, e.at), admitted: false };
      const failures = [...s.failures.filter((t) => e.at - t < cfg.windowMs), e.at];
      if (failures.length >= cfg.failureThreshold) {
        return { next: move(s, { state: BreakerState.Open, failures: [], openedAt: e.at, epoch: s.epoch + 1 }, e.at), admitted: false };
      }
      return { next: move(s, { failures }, e.at), admitted: false };
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
        return { next: move(s, { state: BreakerState.Closed, failures: [], epoch: s.epoch + 1 }, e.at), admitted: false };
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

import { randomInt } from 'node:crypto';
import { systemClock, type Clock } from '../lib/clock.js';
import { HANDOFF_TTL_MS } from './codes.js';
import type { Transaction } from './transaction.js';

/**
 * The DID pool (README, "Routing"): numbers of the number plan with `kind: pool`. The call
 * centre's system `POST /api/handoffs` with `"via": "did"`; the pool reserves a free DID for the
 * transaction until the reservation's TTL, and the first transfer INVITE (or REFER) to that DID
 * takes it, exactly once. For PBXs and carriers that can neither send X-headers nor dial a code.
 */
export interface DidPool {
  /** The pool's numbers, E.164. */
  readonly dids: readonly string[];
  /** Reserves a free DID for an already validated transaction. Throws DidPoolError('exhausted') when every DID is taken. */
  reserve(txn: Transaction): Promise<DidReservation>;
  /** The transaction reserved on `did` (E.164, as the number plan normalised it), once; undefined when none is (unreserved, used or expired). */
  redeem(did: string): Promise<Transaction | undefined>;
}

export interface DidReservation {
  /** E.164. */
  readonly did: string;
  /** Epoch ms. */
  readonly expiresAt: number;
}

export class DidPoolError extends Error {
  constructor(
    readonly code: 'exhausted',
    /** Seconds until the soonest reservation lapses (for Retry-After, RFC 9110 10.2.3). */
    readonly retryAfterS: number,
  ) {
    super('every DID of the pool is reserved');
    this.name = 'DidPoolError';
  }
}

/** Seconds to wait for `ms`, at least 1. */
export const retryAfterSeconds = (ms: number): number => Math.max(1, Math.ceil(ms / 1000));

/** The pool's DIDs from a random start, so reservations spread over the pool and a DID just freed is not handed out again at once. */
export function rotated<T>(items: readonly T[]): T[] {
  if (items.length === 0) return [];
  const start = randomInt(items.length);
  return [...items.slice(start), ...items.slice(0, start)];
}

export interface MemoryDidPoolOptions {
  /** Default {@link HANDOFF_TTL_MS}, as handoff codes. */
  readonly ttlMs?: number;
  readonly clock?: Clock;
  /** Epoch ms, for `expiresAt`. */
  readonly nowEpochMs?: () => number;
}

/** {@link DidPool} of one gateway (no Redis): reservations in memory, bounded by the pool's size. */
export class MemoryDidPool implements DidPool {
  readonly #held = new Map<string, { txn: Transaction; expiresAt: number }>();
  readonly #ttl: number;
  readonly #clock: Clock;
  readonly #wall: () => number;

  constructor(
    readonly dids: readonly string[],
    o: MemoryDidPoolOptions = {},
  ) {
    this.#ttl = o.ttlMs ?? HANDOFF_TTL_MS;
    this.#clock = o.clock ?? systemClock;
    this.#wall = o.nowEpochMs ?? Date.now;
  }

  async reserve(txn: Transaction): Promise<DidReservation> {
    const now = this.#clock.now();
    let soonest = Infinity;
    for (const did of rotated(this.dids)) {
      const held = this.#held.get(did);
      if (held && held.expiresAt > now) {
        soonest = Math.min(soonest, held.expiresAt - now);
        continue;
      }
      this.#held.set(did, { txn: { ...txn }, expiresAt: now + this.#ttl });
      return { did, expiresAt: this.#wall() + this.#ttl };
    }
    throw new DidPoolError('exhausted', retryAfterSeconds(Number.isFinite(soonest) ? soonest : this.#ttl));
  }

  async redeem(did: string): Promise<Transaction | undefined> {
    const held = this.#held.get(did);
    if (!held) return undefined;
    this.#held.delete(did);
    return held.expiresAt > this.#clock.now() ? held.txn : undefined;
  }
}

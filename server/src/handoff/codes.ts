import { randomInt } from 'node:crypto';
import { systemClock, type Clock } from '../lib/clock.js';
import type { Transaction } from './transaction.js';

/**
 * Single-use handoff codes (profile `api`): the call centre's system `POST /api/handoffs` with the
 * transaction (API key), gets a code, and transfers the call with only the code, as
 * `X-Pay-Handoff: <code>` or in the Request-URI `sip:pay-<code>@gateway` (for PBXs and carriers that
 * strip X-headers). Promise-returning so a Redis implementation fits (a POST on one gateway, the
 * INVITE on another behind Kamailio).
 */
export interface HandoffCodeStore {
  /**
   * Stores an already validated transaction; returns its code, in `format` (default: the store's).
   * Throws HandoffCodeError('full').
   */
  issue(txn: Transaction, format?: CodeFormat): Promise<IssuedCode>;
  /** The transaction, once: the code is gone afterwards, as it is after expiry. Throws HandoffCodeError('corrupt') for a stored value that is no transaction. */
  redeem(code: string): Promise<Transaction | undefined>;
}

/** `alnum`: 12 characters of {@link CODE_ALPHABET}, 60 bits; `numeric`: 16 digits, 53 bits (IVRs and PBXs that dial digits only). */
export const CODE_FORMATS = ['alnum', 'numeric'] as const;
export type CodeFormat = (typeof CODE_FORMATS)[number];

/** How long a code (and a DID-pool reservation) lives: 5 minutes. */
export const HANDOFF_TTL_MS = 5 * 60_000;

export interface IssuedCode {
  readonly code: string;
  /** Epoch ms. */
  readonly expiresAt: number;
}

export class HandoffCodeError extends Error {
  constructor(readonly code: 'full' | 'corrupt', detail?: string) {
    super(code === 'full' ? 'handoff code store is full' : `stored handoff is not a valid transaction${detail ? `: ${detail}` : ''}`);
    this.name = 'HandoffCodeError';
  }
}

/**
 * The shared store (Redis) did not answer in time, or ran the command too late to count: nothing
 * was issued, reserved or taken. A transient condition: HTTP 503 with Retry-After, SIP 503.
 */
export class HandoffStoreUnavailable extends Error {
  constructor(detail: string) {
    super(`handoff store unavailable (${detail})`);
    this.name = 'HandoffStoreUnavailable';
  }
}

/** Crockford base32 without i l o u, lower case: no letters that read as digits, safe in a SIP URI user part. */
export const CODE_ALPHABET = '0123456789abcdefghjkmnpqrstvwxyz';
export const DIGITS = '0123456789';

export interface MemoryHandoffCodeStoreOptions {
  /** Default 5 minutes. */
  readonly ttlMs?: number;
  /** Default format of {@link HandoffCodeStore.issue}: `alnum` (default) or `numeric`. */
  readonly format?: CodeFormat;
  /** Codes outstanding at most. Default 10 000. */
  readonly maxOutstanding?: number;
  readonly clock?: Clock;
  /** Epoch ms, for `expiresAt`. */
  readonly nowEpochMs?: () => number;
}

export const CODE_PATTERN = /^(?:[0-9a-hjkmnp-tv-z]{12}|\d{16})$/i;

/** A fresh random code (node:crypto) in `format`. */
export function newCode(format: CodeFormat): string {
  const [alphabet, length] = format === 'numeric' ? [DIGITS, 16] : [CODE_ALPHABET, 12];
  let code = '';
  for (let i = 0; i < length; i++) code += alphabet[randomInt(alphabet.length)];
  return code;
}

/** In-memory {@link HandoffCodeStore}: random (node:crypto), expiring, single use, bounded. */
export class MemoryHandoffCodeStore implements HandoffCodeStore {
  readonly #codes = new Map<string, { txn: Transaction; expiresAt: number }>();
  readonly #ttl: number;
  readonly #format: CodeFormat;
  readonly #max: number;
  readonly #clock: Clock;
  readonly #wall: () => number;

  constructor(o: MemoryHandoffCodeStoreOptions = {}) {
    this.#ttl = o.ttlMs ?? HANDOFF_TTL_MS;
    this.#format = o.format ?? 'alnum';
    this.#max = o.maxOutstanding ?? 10_000;
    this.#clock = o.clock ?? systemClock;
    this.#wall = o.nowEpochMs ?? Date.now;
  }

  async issue(txn: Transaction, format: CodeFormat = this.#format): Promise<IssuedCode> {
    this.#sweep();
    if (this.#codes.size >= this.#max) throw new HandoffCodeError('full');
    let code: string;
    do code = newCode(format);
    while (this.#codes.has(code));
    this.#codes.set(code, { txn: { ...txn }, expiresAt: this.#clock.now() + this.#ttl });
    return { code, expiresAt: this.#wall() + this.#ttl };
  }

  async redeem(code: string): Promise<Transaction | undefined> {
    const key = code.trim().toLowerCase();
    const e = this.#codes.get(key);
    if (!e) return undefined;
    this.#codes.delete(key);
    return e.expiresAt > this.#clock.now() ? e.txn : undefined;
  }

  #sweep(): void {
    const now = this.#clock.now();
    for (const [k, e] of this.#codes) if (e.expiresAt <= now) this.#codes.delete(k);
  }
}

/**
 * One sign-in lockout for SIP REGISTER and the HTTP agent login (docs/security.md, "Sign-in";
 * PCI DSS v4.0.1 8.3.4), keyed by (user, source address):
 *
 * - every failed attempt counts; from the {@link BACKOFF_AFTER}th on, the next attempt must wait
 *   1 s, 2 s, 4 s ... (capped at {@link MAX_BACKOFF_MS}); an attempt that comes sooner is refused
 *   without looking at the password and counts as a failure too;
 * - at {@link LOCK_AFTER} failures the key is locked for {@link LOCK_MS} (30 minutes): every attempt,
 *   the right password included, is refused until then or until a supervisor unlocks the user;
 * - a success clears the key.
 *
 * Unknown user names are counted and locked exactly like real ones, so the answers never tell
 * which agent ids exist. Keys are attacker-chosen, so the table is bounded; when it is full, keys
 * that are not locked are forgotten first (oldest first).
 */
export const LOCK_AFTER = 10;
export const LOCK_MS = 30 * 60_000;
export const BACKOFF_AFTER = 5;
export const MAX_BACKOFF_MS = 60_000;

export type SignInChannel = 'sip' | 'http';

export type AttemptDecision =
  | { readonly ok: true }
  | { readonly ok: false; readonly reason: 'locked' | 'backoff'; readonly retryAfterMs: number };

/** What the audit trail is told (docs/security.md: every failure audited). */
export interface LockoutEvent {
  readonly kind: 'success' | 'failure' | 'refused' | 'locked' | 'unlocked';
  readonly user: string;
  readonly source: string;
  readonly channel: SignInChannel | 'supervisor';
  readonly failures: number;
  /** For `refused`: why. */
  readonly reason?: 'locked' | 'backoff';
}

export interface LockoutOptions {
  /** Milliseconds (wall or monotonic; only differences are used). */
  readonly now: () => number;
  readonly onEvent?: (e: LockoutEvent) => void;
  readonly maxKeys?: number;
  readonly lockAfter?: number;
  readonly lockMs?: number;
}

interface Entry {
  failures: number;
  /** Next attempt allowed from (backoff). */
  nextAt: number;
  lockedUntil: number;
}

/** One (user, source) key's counters, as shared between instances (store/redis-agent-auth.ts). */
export type LockState = Readonly<Entry>;

/** Backoff after `failures` failures: 0 below BACKOFF_AFTER, then 1 s doubling, capped. */
export function backoffMs(failures: number): number {
  if (failures < BACKOFF_AFTER) return 0;
  return Math.min(MAX_BACKOFF_MS, 1000 * 2 ** (failures - BACKOFF_AFTER));
}

export class SignInLockout {
  readonly #entries = new Map<string, Entry>();
  readonly #max: number;
  readonly #lockAfter: number;
  readonly #lockMs: number;

  constructor(private readonly o: LockoutOptions) {
    this.#max = Math.max(1, o.maxKeys ?? 50_000);
    this.#lockAfter = o.lockAfter ?? LOCK_AFTER;
    this.#lockMs = o.lockMs ?? LOCK_MS;
  }

  /**
   * Called before the password is looked at. A refusal is final for this attempt (answer it as a
   * wrong password) and has already been counted.
   */
  attempt(user: string, source: string, channel: SignInChannel): AttemptDecision {
    const now = this.o.now();
    const e = this.#entries.get(key(user, source));
    if (!e) return { ok: true };
    if (e.lockedUntil > now) {
      this.#emit({ kind: 'refused', user, source, channel, failures: e.failures, reason: 'locked' });
      return { ok: false, reason: 'locked', retryAfterMs: e.lockedUntil - now };
    }
    if (e.lockedUntil !== 0) {
      // The lock ran out: a fresh start (PCI DSS 8.3.4: locked for at least 30 minutes).
      this.#entries.delete(key(user, source));
      return { ok: true };
    }
    if (e.nextAt > now) {
      const after = this.#count(user, source, channel, now);
      this.#emit({ kind: 'refused', user, source, channel, failures: after.failures, reason: 'backoff' });
      if (after.lockedUntil > now) return { ok: false, reason: 'locked', retryAfterMs: after.lockedUntil - now };
      return { ok: false, reason: 'backoff', retryAfterMs: Math.max(1, after.nextAt - now) };
    }
    return { ok: true };
  }

  /** The password was wrong (or the user unknown). */
  failed(user: string, source: string, channel: SignInChannel): void {
    const e = this.#count(user, source, channel, this.o.now());
    this.#emit({ kind: 'failure', user, source, channel, failures: e.failures });
  }

  /** The password was right: the key starts afresh (audited as a success when `channel` is given). */
  succeeded(user: string, source: string, channel?: SignInChannel): void {
    const had = this.#entries.get(key(user, source))?.failures ?? 0;
    this.#entries.delete(key(user, source));
    if (channel) this.#emit({ kind: 'success', user, source, channel, failures: had });
  }

  /** A supervisor lifts every lock and backoff of `user` (all sources). Returns how many keys it cleared. */
  unlock(user: string): number {
    let n = 0;
    const prefix = `${user}\0`;
    for (const [k, e] of [...this.#entries]) {
      if (!k.startsWith(prefix)) continue;
      this.#entries.delete(k);
      n++;
      this.#emit({ kind: 'unlocked', user, source: k.slice(prefix.length), channel: 'supervisor', failures: e.failures });
    }
    return n;
  }

  /** Locked (user, source) pairs now, for /healthz and tests. */
  lockedCount(): number {
    const now = this.o.now();
    let n = 0;
    for (const e of this.#entries.values()) if (e.lockedUntil > now) n++;
    return n;
  }

  /** The counters of one key, for sharing them with other instances; undefined when clear. */
  state(user: string, source: string): LockState | undefined {
    const e = this.#entries.get(key(user, source));
    return e ? { ...e } : undefined;
  }

  /**
   * Takes the counters the instances share (undefined: the key is clear there, e.g. a success or a
   * supervisor's unlock on another instance). While the shared copy is reachable it is the truth.
   */
  adopt(user: string, source: string, s: LockState | undefined): void {
    const k = key(user, source);
    if (!s) return void this.#entries.delete(k);
    if (!this.#entries.has(k)) this.#makeRoom(this.o.now());
    this.#entries.set(k, { failures: s.failures, nextAt: s.nextAt, lockedUntil: s.lockedUntil });
  }

  /**
   * {@link adopt} for what the shared store kept after this instance's attempt (store/shared-lockout.ts):
   * when the failures of several instances added up to a lock that this one had not seen, the
   * lock is reported here too (audited once, by the instance whose attempt completed it).
   */
  merged(user: string, source: string, s: LockState | undefined, channel: SignInChannel): void {
    const now = this.o.now();
    const wasLocked = this.isLocked(user, source);
    this.adopt(user, source, s);
    if (s && !wasLocked && s.lockedUntil > now) this.#emit({ kind: 'locked', user, source, channel, failures: s.failures });
  }

  /** Failures that lock a key. */
  get lockAfter(): number {
    return this.#lockAfter;
  }

  /** This lockout's clock (epoch ms in the gateway: the shared counters hold wall-clock times). */
  now(): number {
    return this.o.now();
  }

  /** How long a lock lasts (how long shared counters are worth keeping). */
  get lockMs(): number {
    return this.#lockMs;
  }

  isLocked(user: string, source: string): boolean {
    return (this.#entries.get(key(user, source))?.lockedUntil ?? 0) > this.o.now();
  }

  #count(user: string, source: string, channel: SignInChannel, now: number): Entry {
    const k = key(user, source);
    let e = this.#entries.get(k);
    if (!e) {
      this.#makeRoom(now);
      e = { failures: 0, nextAt: 0, lockedUntil: 0 };
      this.#entries.set(k, e);
    }
    e.failures++;
    e.nextAt = now + backoffMs(e.failures);
    if (e.failures >= this.#lockAfter && e.lockedUntil <= now) {
      e.lockedUntil = now + this.#lockMs;
      this.#emit({ kind: 'locked', user, source, channel, failures: e.failures });
    }
    return e;
  }

  #makeRoom(now: number): void {
    if (this.#entries.size < this.#max) return;
    for (const [k, e] of this.#entries) {
      if (this.#entries.size < this.#max) return;
      if (e.lockedUntil <= now) this.#entries.delete(k);
    }
    while (this.#entries.size >= this.#max) this.#entries.delete(this.#entries.keys().next().value as string);
  }

  #emit(e: LockoutEvent): void {
    try {
      this.o.onEvent?.(e);
    } catch {
      // An audit listener's failure never changes a sign-in decision.
    }
  }
}

const key = (user: string, source: string): string => `${user}\0${source}`;

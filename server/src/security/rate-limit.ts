/**
 * Keyed token buckets (docs/security.md, "Limits at the edge"): `ratePerS` tokens a second up to
 * `burst`; each allowed event takes one. Keys are attacker-chosen (source addresses, merchant ids,
 * mobiles), so the map is bounded: when full, the least recently touched key goes first.
 * Time comes from `now()` (milliseconds), so tests drive it.
 */
export interface RateLimitOptions {
  readonly ratePerS: number;
  readonly burst: number;
  readonly now: () => number;
  /** Most keys tracked at once (default 50 000). */
  readonly maxKeys?: number;
}

interface Bucket {
  tokens: number;
  at: number;
}

export class KeyedRateLimit {
  readonly #buckets = new Map<string, Bucket>();
  readonly #max: number;

  constructor(private readonly o: RateLimitOptions) {
    if (!(o.ratePerS > 0) || !(o.burst >= 1)) throw new RangeError('ratePerS must be > 0 and burst >= 1');
    this.#max = Math.max(1, o.maxKeys ?? 50_000);
  }

  /** Takes one token for `key`; false (nothing taken) when its bucket is empty. */
  take(key: string): boolean {
    const b = this.#refill(key);
    if (b.tokens < 1) return false;
    b.tokens -= 1;
    return true;
  }

  /** Milliseconds until `key` has a token again (0 when it has one now). */
  retryAfterMs(key: string): number {
    const b = this.#refill(key);
    return b.tokens >= 1 ? 0 : Math.ceil(((1 - b.tokens) / this.o.ratePerS) * 1000);
  }

  get size(): number {
    return this.#buckets.size;
  }

  #refill(key: string): Bucket {
    const now = this.o.now();
    let b = this.#buckets.get(key);
    if (b) {
      b.tokens = Math.min(this.o.burst, b.tokens + ((now - b.at) / 1000) * this.o.ratePerS);
      b.at = now;
      this.#buckets.delete(key); // re-inserted below: Map order = least recently touched first
    } else {
      b = { tokens: this.o.burst, at: now };
      while (this.#buckets.size >= this.#max) this.#buckets.delete(this.#buckets.keys().next().value as string);
    }
    this.#buckets.set(key, b);
    return b;
  }
}

/** Counts open things (sockets) per key with a cap; bounded by the things themselves. */
export class KeyedCounter {
  readonly #open = new Map<string, number>();

  constructor(private readonly cap: number) {}

  /** Counts one more for `key`; false (not counted) when it is at the cap. */
  acquire(key: string): boolean {
    const n = this.#open.get(key) ?? 0;
    if (n >= this.cap) return false;
    this.#open.set(key, n + 1);
    return true;
  }

  release(key: string): void {
    const n = (this.#open.get(key) ?? 0) - 1;
    if (n > 0) this.#open.set(key, n);
    else this.#open.delete(key);
  }

  count(key: string): number {
    return this.#open.get(key) ?? 0;
  }

  /** Sum over all keys. */
  total(): number {
    let t = 0;
    for (const n of this.#open.values()) t += n;
    return t;
  }
}

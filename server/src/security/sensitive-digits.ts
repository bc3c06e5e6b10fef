import { inspect } from 'node:util';

/** What every string conversion of a {@link SensitiveDigits} yields. */
export const REDACTED = '[redacted]';

const ZERO = 0x30; // '0'
const NINE = 0x39; // '9'
const MAX_CAPACITY = 64;

/**
 * Card data (PAN, expiry, CVV, OTP) as ASCII digits in a fixed-capacity Buffer that is zero-filled
 * when the attempt ends (docs/architecture.md: "buffers that are zeroed when the attempt ends").
 *
 * - The Buffer is allocated with `Buffer.alloc` (never from the shared `allocUnsafe` pool, so
 *   zeroing it really wipes the only copy) and is held in an ES private field: no property
 *   enumeration, spread, `JSON.stringify` or structured clone can reach it.
 * - `toString`, `toJSON`, `Symbol.toPrimitive` and `util.inspect` all give `'[redacted]'`, so template
 *   strings, loggers (pino serialises through `toJSON`) and `console.log` cannot leak it.
 * - The value is reachable only through {@link withValue} (a view, no copy: Luhn, encryption) and
 *   {@link revealForProvider} (a string copy: grep for it, it belongs only where the provider
 *   request body is built). JS strings cannot be wiped, which is why that call is explicit.
 */
export class SensitiveDigits {
  readonly #buf: Buffer;
  #len = 0;
  #disposed = false;

  constructor(readonly capacity: number) {
    if (!Number.isInteger(capacity) || capacity < 1 || capacity > MAX_CAPACITY) {
      throw new RangeError(`SensitiveDigits capacity must be an integer in 1..${MAX_CAPACITY}`);
    }
    this.#buf = Buffer.alloc(capacity);
  }

  /**
   * Wraps digits that arrived as a string (an OTP parsed from a provider answer, test data).
   * The caller should drop its string reference straight away.
   */
  static fromString(digits: string, capacity: number = digits.length): SensitiveDigits {
    const s = new SensitiveDigits(Math.max(1, capacity));
    try {
      for (const ch of digits) s.append(ch);
    } catch (err) {
      s.dispose();
      throw err;
    }
    return s;
  }

  /** Number of digits held. */
  get length(): number {
    this.#assertLive();
    return this.#len;
  }

  get isFull(): boolean {
    this.#assertLive();
    return this.#len === this.capacity;
  }

  get disposed(): boolean {
    return this.#disposed;
  }

  /**
   * Appends one digit: a one-character string `'0'..'9'` or an integer 0..9. Throws RangeError for
   * anything else or when full (callers check {@link isFull} first).
   */
  append(d: string | number): void {
    this.#assertLive();
    let code: number;
    if (typeof d === 'string') code = d.length === 1 ? d.charCodeAt(0) : -1;
    else code = Number.isInteger(d) && d >= 0 && d <= 9 ? ZERO + d : -1;
    if (code < ZERO || code > NINE) throw new RangeError('SensitiveDigits accepts only the digits 0-9');
    if (this.#len >= this.capacity) throw new RangeError('SensitiveDigits is full');
    this.#buf[this.#len++] = code;
  }

  /** Forgets every digit and zero-fills the buffer (the `*` key, a re-prompt). */
  clear(): void {
    this.#assertLive();
    this.#buf.fill(0);
    this.#len = 0;
  }

  /** Zero-fills and retires the buffer; any later use throws. Idempotent. */
  dispose(): void {
    if (this.#disposed) return;
    this.#buf.fill(0);
    this.#len = 0;
    this.#disposed = true;
  }

  /**
   * Runs `fn` on a view (no copy) of the digits. `fn` must not keep the view: it is zeroed by
   * {@link clear} and {@link dispose}.
   */
  withValue<T>(fn: (digits: Buffer) => T): T {
    this.#assertLive();
    return fn(this.#buf.subarray(0, this.#len));
  }

  /**
   * The digits as a string, ONLY for building the (HTTPS and/or RSA-OAEP encrypted) request body
   * to the payment or SMS provider. Strings cannot be zeroed: keep the result short-lived.
   */
  revealForProvider(): string {
    this.#assertLive();
    return this.#buf.toString('latin1', 0, this.#len);
  }

  toString(): string {
    return REDACTED;
  }

  toJSON(): string {
    return REDACTED;
  }

  [Symbol.toPrimitive](): string {
    return REDACTED;
  }

  [inspect.custom](): string {
    return REDACTED;
  }

  #assertLive(): void {
    if (this.#disposed) throw new Error('SensitiveDigits used after dispose()');
  }
}

import type { Language } from '../handoff/index.js';
import type { KnownBrand } from './validate/index.js';
import type { CaptureField } from './events.js';

/** Timers and attempts one field may set for itself (the configuration file's `capture.fields`). */
export interface FieldPolicy {
  readonly firstDigitMs?: number;
  readonly interDigitMs?: number;
  readonly maxAttempts?: number;
}

/**
 * Capture timers and limits, in one place (docs/architecture.md practice 5). Tests run them on the fake clock.
 */
export interface CaptureConfig {
  /** From the end of a field's prompt to the first digit. */
  readonly firstDigitMs: number;
  /** Between digits. A PAN of 13+ digits is submitted when it runs out (the customer forgot `#`). */
  readonly interDigitMs: number;
  /** The whole capture, greeting to outcome (provider calls in flight are let finish). */
  readonly sessionMs: number;
  /** A prompt whose promptDone never arrives is taken as done after this long. */
  readonly promptMaxMs: number;
  /** Failures per field that end the attempt (docs/architecture.md: 3). */
  readonly maxAttempts: number;
  /** New OTPs the customer may ask for with `#` (or that an expiry or SMS failure triggers). */
  readonly maxResends: number;
  /** Prompt language when the handoff names none. */
  readonly language: Language;
  /** Expiry more than this many years ahead is refused ("absurdly far"). */
  readonly maxExpiryYears: number;
  /**
   * Said after the outcome prompt: `handback` ("you will now be returned to your agent") when the
   * customer goes back to someone, `goodbye` when the gateway hangs up (calls/payment/closing.ts).
   */
  readonly closingPrompt: 'handback' | 'goodbye' | null;
  /**
   * A capture refused before it starts (the provider's breaker open) tells the customer so
   * (`payments.unavailable`, then the closing prompt) instead of ending in silence. Off inline,
   * where the customer is still talking to the agent.
   */
  readonly announceRefusal: boolean;
  /** Per-field overrides of firstDigitMs, interDigitMs and maxAttempts. */
  readonly fields?: Readonly<Partial<Record<CaptureField, FieldPolicy>>>;
  /** Card number lengths accepted, within ISO/IEC 7812-1's 13-19 (the brand's own lengths still apply); undefined: 13-19. */
  readonly panLength?: { readonly min: number; readonly max: number };
  /** What ends the card number: `#` (default), or `none` (a pause after 13+ digits, or the longest length). */
  readonly panTerminator?: '#' | 'none';
  /**
   * OTP lengths accepted, within the provider API's 4-8; undefined: any it gives. An OTP of another
   * length (the provider's or the bank's) is not used: the step ends as if no OTP could be had.
   */
  readonly otpLength?: { readonly min: number; readonly max: number };
  /** The merchant's accepted brands; undefined: any valid card. */
  readonly allowedBrands?: (merchantId: string) => readonly KnownBrand[] | undefined;
  /**
   * Asked once a whole, Luhn-valid card number is keyed: true refuses it like a brand that is not
   * accepted (velocity per card, keyed by an HMAC of the PAN: docs/security.md). The view is
   * valid only during the call; it must not be kept.
   */
  readonly cardRefused?: (pan: Buffer) => boolean;
}

/** Whether an OTP of `length` digits is one the policy accepts (capture.otpLength; unset: any). */
export function otpLengthAccepted(cfg: Pick<CaptureConfig, 'otpLength'>, length: number): boolean {
  return !cfg.otpLength || (length >= cfg.otpLength.min && length <= cfg.otpLength.max);
}

export const DEFAULT_CAPTURE_CONFIG: CaptureConfig = {
  firstDigitMs: 10_000,
  interDigitMs: 5_000,
  sessionMs: 5 * 60_000,
  promptMaxMs: 45_000,
  maxAttempts: 3,
  maxResends: 2,
  language: 'en',
  maxExpiryYears: 20,
  closingPrompt: 'handback',
  announceRefusal: false,
};

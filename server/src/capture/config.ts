import type { Language } from '../handoff/index.js';
import type { KnownBrand } from './validate/index.js';

/**
 * Capture timers and limits, in one place (design.md practice 5). Tests run them on the fake clock.
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
  /** Failures per field that end the attempt (design.md: 3). */
  readonly maxAttempts: number;
  /** New OTPs the customer may ask for with `#` (or that an expiry or SMS failure triggers). */
  readonly maxResends: number;
  /** Prompt language when the handoff names none. */
  readonly language: Language;
  /** Expiry more than this many years ahead is refused ("absurdly far", issue 4). */
  readonly maxExpiryYears: number;
  /** Say "you will now be returned to your agent" after the outcome (off when the gateway hangs up). */
  readonly handbackPrompt: boolean;
  /** The merchant's accepted brands; undefined: any valid card. */
  readonly allowedBrands?: (merchantId: string) => readonly KnownBrand[] | undefined;
  /**
   * Asked once a whole, Luhn-valid card number is keyed: true refuses it like a brand that is not
   * accepted (velocity per card, keyed by an HMAC of the PAN: docs/security.md). The view is
   * valid only during the call; it must not be kept.
   */
  readonly cardRefused?: (pan: Buffer) => boolean;
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
  handbackPrompt: true,
};

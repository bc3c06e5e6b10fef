import { allowedLengths, detectBrand, type CardBrand, type KnownBrand } from './brand.js';
import { allDigits, luhn } from './luhn.js';

/** Shortest PAN we unmask first 6 / last 4 of: fewer digits would show too much of the number. */
export const MIN_MASKABLE_PAN = 13;
/** Below this many digits only the last 4 are shown (docs/security.md, PCI DSS 3.4.1: BIN + last 4 only for 15+). */
export const MIN_PAN_FOR_FIRST6 = 15;

export interface MaskedPan {
  /** Null for PANs under {@link MIN_PAN_FOR_FIRST6} digits. */
  first6: string | null;
  last4: string;
}

/** True when the digits form a whole PAN: a length the detected brand allows (and ≥ 13). */
export function isCompletePan(pan: Buffer | string): boolean {
  if (pan.length < MIN_MASKABLE_PAN || !allDigits(pan)) return false;
  return allowedLengths(detectBrand(pan)).includes(pan.length);
}

/**
 * First 6 and last 4, the most of a PAN that may be displayed (PCI DSS v4.0 req. 3.4.1), and only
 * once the number is complete; `null` before that (a partial number's "last 4" would be digits
 * from its middle).
 */
export function maskPan(pan: Buffer | string): MaskedPan | null {
  if (!isCompletePan(pan)) return null;
  const n = pan.length;
  const take = (a: number, b: number) => (typeof pan === 'string' ? pan.slice(a, b) : pan.toString('latin1', a, b));
  return { first6: n >= MIN_PAN_FOR_FIRST6 ? take(0, 6) : null, last4: take(n - 4, n) };
}

export type PanCheck =
  | { ok: true; brand: CardBrand }
  | { ok: false; brand: CardBrand; reason: 'not-digits' | 'bad-length' | 'luhn' | 'brand-not-allowed' };

/**
 * The whole-number check the capture step runs when `#` (or the 19th digit) ends the PAN:
 * digits only, a length the brand allows, Luhn, and (when given) the merchant's brand allow-list.
 * An `unknown` brand passes only if the allow-list is absent.
 */
export function checkPan(pan: Buffer | string, allowedBrands?: readonly KnownBrand[]): PanCheck {
  if (!allDigits(pan)) return { ok: false, brand: 'unknown', reason: 'not-digits' };
  const brand = detectBrand(pan);
  if (!allowedLengths(brand).includes(pan.length) || pan.length < MIN_MASKABLE_PAN) {
    return { ok: false, brand, reason: 'bad-length' };
  }
  if (!luhn(pan)) return { ok: false, brand, reason: 'luhn' };
  if (allowedBrands && (brand === 'unknown' || !allowedBrands.includes(brand))) {
    return { ok: false, brand, reason: 'brand-not-allowed' };
  }
  return { ok: true, brand };
}

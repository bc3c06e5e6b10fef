export { luhn, allDigits } from './luhn.js';
export {
  CARD_BRANDS,
  detectBrand,
  allowedLengths,
  cvvLength,
  maxPanLength,
  type CardBrand,
  type KnownBrand,
} from './brand.js';
export { validateExpiry, MAX_EXPIRY_YEARS_AHEAD, type ExpiryResult } from './expiry.js';
export { maskPan, isCompletePan, checkPan, MIN_MASKABLE_PAN, type MaskedPan, type PanCheck } from './pan.js';

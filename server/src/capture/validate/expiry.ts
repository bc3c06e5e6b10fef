import { allDigits } from './luhn.js';

export type ExpiryResult = 'ok' | 'bad-month' | 'expired' | 'too-far';

/** Default horizon: issuers print at most a few years ahead; 20 years is "absurdly far". */
export const MAX_EXPIRY_YEARS_AHEAD = 20;

/**
 * Checks an MMYY expiry (4 ASCII digits; Buffer view or string) against `now`.
 *
 * A card is valid through the last day of its expiry month (RuPay: "Last day of the month and
 * year up to which the card is valid", rupay.co.in "Know your RuPay"; likewise Visa/Mastercard
 * rules), so only months strictly before the current one are `expired`. The month is taken in UTC,
 * which for India (UTC+5:30) errs on the side of accepting a card on the night it expires; the
 * issuer has the final word. YY is 20YY. `too-far`: more than `maxYearsAhead` years ahead, by month.
 * Anything that is not four digits with a month 01-12 is `bad-month`.
 */
export function validateExpiry(
  mmyy: Buffer | string,
  now: Date,
  maxYearsAhead: number = MAX_EXPIRY_YEARS_AHEAD,
): ExpiryResult {
  if (mmyy.length !== 4 || !allDigits(mmyy)) return 'bad-month';
  const digit = (i: number) => (typeof mmyy === 'string' ? mmyy.charCodeAt(i) : mmyy[i]!) - 0x30;
  const month = digit(0) * 10 + digit(1);
  const year = 2000 + digit(2) * 10 + digit(3);
  if (month < 1 || month > 12) return 'bad-month';
  const card = year * 12 + (month - 1);
  const current = now.getUTCFullYear() * 12 + now.getUTCMonth();
  if (card < current) return 'expired';
  if (card > current + maxYearsAhead * 12) return 'too-far';
  return 'ok';
}

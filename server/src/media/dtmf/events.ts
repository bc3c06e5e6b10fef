/**
 * DTMF digits and their telephone-event codes (RFC 4733 §3.2, Table 3; RFC 4734 keeps the
 * same 0-15 assignments): 0-9 -> '0'..'9', 10 -> '*', 11 -> '#', 12-15 -> 'A'..'D'.
 * Code 16 is hook flash, which is not a digit.
 */

export const DTMF_DIGITS = '0123456789*#ABCD';

export type DtmfDigit = '0' | '1' | '2' | '3' | '4' | '5' | '6' | '7' | '8' | '9' | '*' | '#' | 'A' | 'B' | 'C' | 'D';

/** The digit for an RFC 4733 event code, or undefined for codes that are not DTMF digits. */
export function digitForEventCode(code: number): DtmfDigit | undefined {
  return code >= 0 && code <= 15 ? (DTMF_DIGITS[code] as DtmfDigit) : undefined;
}

/** The RFC 4733 event code of a digit, or -1. */
export function eventCodeForDigit(digit: string): number {
  return digit.length === 1 ? DTMF_DIGITS.indexOf(digit.toUpperCase()) : -1;
}

/**
 * Keypad layout (ITU-T Q.23 §2): row frequency index x column frequency index.
 * Rows 697, 770, 852, 941 Hz; columns 1209, 1336, 1477, 1633 Hz.
 */
export const DTMF_ROW_HZ = [697, 770, 852, 941] as const;
export const DTMF_COL_HZ = [1209, 1336, 1477, 1633] as const;
export const DTMF_KEYPAD = ['123A', '456B', '789C', '*0#D'] as const;

/** Row and column frequencies of a digit (Q.23 Table 1). */
export function dtmfFrequencies(digit: string): { row: number; col: number } {
  for (let r = 0; r < 4; r++) {
    const c = DTMF_KEYPAD[r]!.indexOf(digit.toUpperCase());
    if (c >= 0) return { row: DTMF_ROW_HZ[r]!, col: DTMF_COL_HZ[c]! };
  }
  throw new RangeError(`not a DTMF digit: ${JSON.stringify(digit)}`);
}

/**
 * Luhn (mod 10) check, ISO/IEC 7812-1 Annex B. Works on ASCII digits in a Buffer (a
 * SensitiveDigits view, no copy) or a string. Anything but digits, or fewer than 2 of them, is false.
 */
export function luhn(digits: Buffer | string): boolean {
  const n = digits.length;
  if (n < 2) return false;
  let sum = 0;
  let double = false;
  for (let i = n - 1; i >= 0; i--) {
    const code = typeof digits === 'string' ? digits.charCodeAt(i) : digits[i]!;
    let d = code - 0x30;
    if (d < 0 || d > 9) return false;
    if (double) {
      d *= 2;
      if (d > 9) d -= 9;
    }
    sum += d;
    double = !double;
  }
  return sum % 10 === 0;
}

/** True when every byte/char is an ASCII digit (and there is at least one). */
export function allDigits(digits: Buffer | string): boolean {
  if (digits.length === 0) return false;
  for (let i = 0; i < digits.length; i++) {
    const code = typeof digits === 'string' ? digits.charCodeAt(i) : digits[i]!;
    if (code < 0x30 || code > 0x39) return false;
  }
  return true;
}

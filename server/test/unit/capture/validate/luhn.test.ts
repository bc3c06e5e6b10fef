import { describe, expect, it } from 'vitest';
import { allDigits, luhn } from '../../../../src/capture/validate/index.js';

describe('luhn', () => {
  it.each([
    ['4111111111111111', true],
    ['4111111111111112', false],
    ['79927398713', true], // the worked example of ISO/IEC 7812-1 Annex B / Wikipedia "Luhn algorithm"
    ['79927398710', false],
    ['0', false],
    ['', false],
    ['00', true],
    ['4111-1111-1111-1111', false],
    ['41111111111111a1', false],
  ] as const)('%j -> %s', (digits, ok) => {
    expect(luhn(digits)).toBe(ok);
    expect(luhn(Buffer.from(digits, 'latin1'))).toBe(ok);
  });

  it('a single substituted digit is always caught', () => {
    const pan = '5555555555554444';
    for (let i = 0; i < pan.length; i++) {
      for (let d = 0; d <= 9; d++) {
        const c = String(d);
        if (c === pan[i]) continue;
        expect(luhn(pan.slice(0, i) + c + pan.slice(i + 1))).toBe(false);
      }
    }
  });

  it('allDigits rejects empty input and non-digits', () => {
    expect(allDigits('')).toBe(false);
    expect(allDigits('0123456789')).toBe(true);
    expect(allDigits(Buffer.from('12 3'))).toBe(false);
  });
});

import { describe, expect, it } from 'vitest';
import { validateExpiry } from '../../../../src/capture/validate/index.js';

const NOW = new Date('2026-05-15T10:00:00Z');

describe('validateExpiry (MMYY, valid through the last day of the month)', () => {
  it.each([
    ['0526', 'ok', 'the current month is still valid'],
    ['0626', 'ok', 'next month'],
    ['0426', 'expired', 'last month'],
    ['1225', 'expired', 'last year'],
    ['1299', 'too-far', 'YY is 20YY: 2099'],
    ['0546', 'ok', 'exactly 20 years ahead'],
    ['0646', 'too-far', 'one month past 20 years'],
    ['0026', 'bad-month', 'month 00'],
    ['1326', 'bad-month', 'month 13'],
    ['526', 'bad-month', 'three digits'],
    ['05a6', 'bad-month', 'not digits'],
  ] as const)('%s -> %s (%s)', (mmyy, result, _why) => {
    expect(validateExpiry(mmyy, NOW)).toBe(result);
    expect(validateExpiry(Buffer.from(mmyy, 'latin1'), NOW)).toBe(result);
  });

  it('the last moment of the expiry month (UTC) is still valid, the next month is not', () => {
    expect(validateExpiry('0526', new Date('2026-05-31T23:59:59.999Z'))).toBe('ok');
    expect(validateExpiry('0526', new Date('2026-06-01T00:00:00Z'))).toBe('expired');
  });

  it('maxYearsAhead is configurable', () => {
    expect(validateExpiry('0631', NOW, 5)).toBe('too-far');
    expect(validateExpiry('0531', NOW, 5)).toBe('ok');
  });
});

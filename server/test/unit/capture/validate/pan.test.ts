import { describe, expect, it } from 'vitest';
import { checkPan, isCompletePan, maskPan } from '../../../../src/capture/validate/index.js';

describe('maskPan', () => {
  it.each([
    ['4111111111111111', { first6: '411111', last4: '1111' }],
    ['378282246310005', { first6: '378282', last4: '0005' }],
    ['36227206271667', { first6: null, last4: '1667' }], // under 15 digits: last 4 only (PCI DSS 3.4.1)
    ['4222222222222', { first6: null, last4: '2222' }],
    ['411111111111111', null], // 15 digits: not a Visa length yet
    ['41111111', null],
    ['5555555555554444', { first6: '555555', last4: '4444' }],
    ['55555555555544441', null], // Mastercard is 16 only
  ] as const)('%s -> %j', (pan, masked) => {
    expect(maskPan(pan)).toEqual(masked);
    expect(maskPan(Buffer.from(pan, 'latin1'))).toEqual(masked);
  });

  it('isCompletePan follows the brand lengths', () => {
    expect(isCompletePan('4111111111111111')).toBe(true);
    expect(isCompletePan('4111111111111111111')).toBe(true);
    expect(isCompletePan('41111111111111111')).toBe(false);
  });
});

describe('checkPan', () => {
  it.each([
    ['4111111111111111', undefined, { ok: true, brand: 'visa' }],
    ['4111111111111112', undefined, { ok: false, brand: 'visa', reason: 'luhn' }],
    ['411111111111111', undefined, { ok: false, brand: 'visa', reason: 'bad-length' }],
    ['378282246310005', ['visa', 'mastercard'], { ok: false, brand: 'amex', reason: 'brand-not-allowed' }],
    ['6200000000000005', ['visa'], { ok: false, brand: 'unknown', reason: 'brand-not-allowed' }],
    ['6200000000000005', undefined, { ok: true, brand: 'unknown' }],
    ['4111x11111111111', undefined, { ok: false, brand: 'unknown', reason: 'not-digits' }],
  ] as const)('%s allow=%j -> %j', (pan, allow, result) => {
    expect(checkPan(pan, allow)).toEqual(result);
  });
});

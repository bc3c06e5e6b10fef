import { describe, expect, it } from 'vitest';
import {
  allowedLengths,
  cvvLength,
  detectBrand,
  luhn,
  maxPanLength,
  type CardBrand,
} from '../../../../src/capture/validate/index.js';

// Published test PANs; source beside each. "constructed" = Luhn-valid number made for a range that
// has no published test PAN.
const TEST_PANS: ReadonlyArray<[pan: string, brand: CardBrand, source: string]> = [
  ['4111111111111111', 'visa', 'Visa test PAN (Stripe, Adyen, Razorpay docs)'],
  ['4000000000000002', 'visa', 'docs/architecture.md demo decline card'],
  ['4222222222222', 'visa', '13-digit Visa test PAN (PayPal/Braintree docs)'],
  ['5555555555554444', 'mastercard', 'Stripe test cards'],
  ['5105105105105100', 'mastercard', 'Cashfree sandbox test cards'],
  ['2223003122003222', 'mastercard', 'Stripe test cards (2-series)'],
  ['2221000000000009', 'mastercard', 'constructed: first 2-series BIN'],
  ['2720999999999996', 'mastercard', 'constructed: last 2-series BIN'],
  ['378282246310005', 'amex', 'Stripe test cards'],
  ['370295061673669', 'amex', 'PayU test cards'],
  ['6074825972083818', 'rupay', 'Cashfree sandbox test cards (RuPay debit)'],
  ['6082015309577308', 'rupay', 'PayU test cards (RuPay credit)'],
  ['6074849200004917', 'rupay', 'Mastercard Gateway NPCI emulator RuPay test card'],
  ['6521500000000006', 'rupay', 'constructed: RuPay BIN block 652150-653149'],
  ['5085000000000007', 'rupay', 'constructed: RuPay 508'],
  ['8150000000000001', 'rupay', 'constructed: RuPay 81'],
  ['36227206271667', 'diners', 'Stripe test cards (14-digit Diners)'],
  ['3056930009020004', 'diners', 'Stripe test cards (16-digit Diners 305)'],
  ['38000000000006', 'diners', 'constructed: Diners 38'],
  ['6011111111111117', 'discover', 'Stripe test cards'],
  ['6500000000000002', 'discover', 'constructed: Discover 65 outside the RuPay block'],
  ['6440000000000005', 'discover', 'constructed: Discover 644'],
  ['3530111333300000', 'jcb', 'Adyen/Stripe JCB test card'],
  ['3566002020360505', 'jcb', 'Stripe test cards (356: JCB wins over RuPay-JCB co-brand)'],
  ['6759649826438453', 'maestro', 'Adyen Maestro test card'],
  ['5000000000000009', 'maestro', 'constructed: Maestro 50 outside RuPay 508'],
  ['6200000000000005', 'unknown', 'constructed: China UnionPay 62, not a supported brand'],
];

describe('detectBrand on whole test PANs', () => {
  it.each(TEST_PANS)('%s is %s (%s)', (pan, brand) => {
    expect(luhn(pan)).toBe(true);
    expect(detectBrand(pan)).toBe(brand);
    expect(detectBrand(Buffer.from(pan, 'latin1'))).toBe(brand);
    if (brand !== 'unknown') expect(allowedLengths(brand)).toContain(pan.length);
  });
});

describe('detectBrand while digits arrive: undecided prefixes are unknown', () => {
  it.each([
    ['', 'unknown'],
    ['4', 'visa'],
    ['3', 'unknown'],
    ['34', 'amex'],
    ['35', 'unknown'],
    ['352', 'unknown'],
    ['3528', 'jcb'],
    ['3527', 'unknown'],
    ['30', 'unknown'],
    ['305', 'diners'],
    ['306', 'unknown'],
    ['5', 'unknown'],
    ['50', 'unknown'],
    ['500', 'maestro'],
    ['508', 'rupay'],
    ['51', 'mastercard'],
    ['55', 'mastercard'],
    ['56', 'maestro'],
    ['59', 'unknown'],
    ['2', 'unknown'],
    ['2220', 'unknown'],
    ['2221', 'mastercard'],
    ['2721', 'unknown'],
    ['6', 'unknown'],
    ['601', 'unknown'],
    ['6011', 'discover'],
    ['6012', 'rupay'],
    ['607', 'rupay'],
    ['65', 'unknown'],
    ['650', 'discover'],
    ['6521', 'unknown'],
    ['652149', 'discover'],
    ['652150', 'rupay'],
    ['653149', 'rupay'],
    ['653150', 'discover'],
    ['64', 'unknown'],
    ['640', 'maestro'],
    ['644', 'discover'],
    ['62', 'unknown'],
    ['63', 'maestro'],
    ['67', 'maestro'],
    ['81', 'rupay'],
    ['83', 'unknown'],
    ['4a', 'unknown'],
  ] as const)('%j -> %s', (prefix, brand) => {
    expect(detectBrand(prefix)).toBe(brand);
  });
});

describe('lengths and CVV', () => {
  it.each([
    ['visa', [13, 16, 19], 3],
    ['mastercard', [16], 3],
    ['amex', [15], 4],
    ['rupay', [16], 3],
    ['diners', [14, 15, 16, 17, 18, 19], 3],
    ['discover', [16, 17, 18, 19], 3],
    ['jcb', [16, 17, 18, 19], 3],
    ['maestro', [12, 13, 14, 15, 16, 17, 18, 19], 3],
  ] as const)('%s allows %j digits and a %i-digit CVV', (brand, lengths, cvv) => {
    expect(allowedLengths(brand)).toEqual(lengths);
    expect(cvvLength(brand)).toBe(cvv);
    expect(maxPanLength(brand)).toBe(lengths[lengths.length - 1]);
  });
});

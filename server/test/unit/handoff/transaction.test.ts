import { describe, expect, it } from 'vitest';
import { DEMO_OTP_TEMPLATE, smsFieldLimits } from '../../../src/calls/payment/setup.js';
import { GENERIC_FIELDS, validateTransaction, warningHeader, type RawFields } from '../../../src/handoff/index.js';

const good: RawFields = { amount: '1499.00', currency: 'INR', merchantId: 'M-DEMO-01', orderRef: 'ORD-1001', customerMobile: '+919800000001' };
const check = (o: RawFields, limits = {}) => validateTransaction({ ...good, ...o }, GENERIC_FIELDS, limits);

describe('validateTransaction', () => {
  it('accepts the contract example and keeps optional fields only when given', () => {
    expect(check({})).toEqual({ ok: true, txn: good });
    const r = check({ agentId: 'agent-1', language: 'HI', returnTo: 'sip:support@pbx.example.com', txnRef: 'TXN-1' });
    expect(r).toMatchObject({ ok: true, txn: { agentId: 'agent-1', language: 'hi', returnTo: 'sip:support@pbx.example.com', txnRef: 'TXN-1' } });
  });

  it.each(['en', 'hi', 'ta', 'TA'])('accepts X-Pay-Language %s (English, Hindi, Tamil; any case)', (language) => {
    expect(check({ language })).toMatchObject({ ok: true, txn: { language: language.toLowerCase() } });
  });

  const refusals: [string, RawFields, string, string][] = [
    ['missing amount', { amount: undefined }, 'X-Pay-Amount', 'missing'],
    ['zero amount', { amount: '0.00' }, 'X-Pay-Amount', 'greater than 0'],
    ['negative amount', { amount: '-5' }, 'X-Pay-Amount', 'decimal'],
    ['three decimals', { amount: '10.001' }, 'X-Pay-Amount', 'decimal'],
    ['exponent notation', { amount: '1e3' }, 'X-Pay-Amount', 'decimal'],
    ['leading zeros', { amount: '007' }, 'X-Pay-Amount', 'decimal'],
    ['over the default maximum', { amount: '1000000.01' }, 'X-Pay-Amount', 'maximum'],
    ['decimals on a zero-exponent currency (JPY)', { amount: '100.50', currency: 'JPY' }, 'X-Pay-Amount', 'JPY takes at most 0'],
    ['lower-case currency', { currency: 'inr' }, 'X-Pay-Currency', 'ISO 4217'],
    ['unknown currency', { currency: 'XYZ' }, 'X-Pay-Currency', 'ISO 4217'],
    ['a fund code (not for payments)', { currency: 'USN' }, 'X-Pay-Currency', 'ISO 4217'],
    ['mobile without +', { customerMobile: '919800000001' }, 'X-Pay-Customer-Mobile', 'E.164'],
    ['mobile of 16 digits', { customerMobile: '+9198000000012345' }, 'X-Pay-Customer-Mobile', 'E.164'],
    ['order ref of 65 characters', { orderRef: 'A'.repeat(65) }, 'X-Pay-Order-Ref', '1-64'],
    ['merchant id with a space', { merchantId: 'M 1' }, 'X-Pay-Merchant-Id', '1-64'],
    ['language fr', { language: 'fr' }, 'X-Pay-Language', 'must be en, hi or ta'],
    ['return-to that is not a SIP URI', { returnTo: 'http://x' }, 'X-Pay-Return-To', 'sip:'],
    ['agent id with a quote', { agentId: 'a"b' }, 'X-Pay-Agent-Id', '1-64'],
  ];
  it.each(refusals)('refuses %s, naming the header', (_name, o, field, reason) => {
    const r = check(o);
    expect(r.ok).toBe(false);
    if (!r.ok) {
      expect(r.error.field).toBe(field);
      expect(r.error.reason).toContain(reason);
      expect(r.error.status).toBe(400);
    }
  });

  it('honours a configured maximum, per currency, and a currency allow-list', () => {
    expect(check({ amount: '500.01' }, { maxAmount: '500.00' }).ok).toBe(false);
    expect(check({ amount: '500.00' }, { maxAmount: '500.00' }).ok).toBe(true);
    expect(check({ amount: '90.00', currency: 'USD' }, { maxAmountByCurrency: { USD: '80' } }).ok).toBe(false);
    expect(check({ currency: 'USD' }, { currencies: ['INR'] }).ok).toBe(false);
  });

  it('refuses up front an order reference too long for the OTP SMS that carries it (DLT: 30 characters)', () => {
    const limits = smsFieldLimits(DEMO_OTP_TEMPLATE);
    expect(check({ orderRef: 'A'.repeat(30) }, limits).ok).toBe(true);
    const r = check({ orderRef: 'A'.repeat(31) }, limits);
    expect(r).toMatchObject({ ok: false, error: { field: 'X-Pay-Order-Ref', status: 400 } });
    if (!r.ok) expect(r.error.reason).toContain('longer than 30 characters');
    // Without the template's limit, 64 characters are fine.
    expect(check({ orderRef: 'A'.repeat(64) }).ok).toBe(true);
    // A template that does not carry the order reference puts no limit on it, but may on the merchant.
    const noRef = smsFieldLimits({ ...DEMO_OTP_TEMPLATE, vars: ['otp', 'merchantId'] });
    expect(check({ orderRef: 'A'.repeat(64) }, noRef).ok).toBe(true);
    expect(check({ merchantId: 'M'.repeat(31) }, noRef)).toMatchObject({ ok: false, error: { field: 'X-Pay-Merchant-Id' } });
  });

  it('accepts 100.00 JPY (zeros only) and 3-exponent KWD with 2 decimals', () => {
    expect(check({ amount: '100.00', currency: 'JPY' }).ok).toBe(true);
    expect(check({ amount: '1.25', currency: 'KWD' }).ok).toBe(true);
  });

  it('builds a Warning header value (RFC 3261 20.43) with the quoted text escaped', () => {
    expect(warningHeader({ field: 'X-Pay-Amount', reason: 'must be "positive"', status: 400 }, 'gw.example.com')).toBe(
      '399 gw.example.com "X-Pay-Amount: must be \\"positive\\""',
    );
  });
});

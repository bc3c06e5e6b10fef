import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { backoffDelay } from '../src/progress/client.js';
import { digestResponse } from '../src/softphone/digest.js';
import { handoffHeaders, parseSipfrag, referRefusalText, warningText } from '../src/softphone/refer.js';
import { sha256Hex } from '../src/softphone/sha256.js';
import { originAllowed, prefillFromMessage, prefillFromQuery } from '../src/ui/prefill.js';
import { normaliseAmount, validatePayment } from '../src/ui/validate.js';

const good = { amount: '1499.00', currency: 'INR', orderRef: 'ORD-1', customerMobile: '+919800000001', merchantId: 'M-DEMO-01' };

describe('widget helpers', () => {
  it('sha256Hex matches node:crypto, across block boundaries and UTF-8', () => {
    for (const s of ['', 'abc', 'a'.repeat(55), 'a'.repeat(56), 'a'.repeat(64), 'a'.repeat(1000), 'agent-1:tonegate:démo•']) {
      expect(sha256Hex(s)).toBe(createHash('sha256').update(s, 'utf8').digest('hex'));
    }
  });

  it('digest responses follow RFC 7616 for SHA-256 and MD5 (qop=auth)', () => {
    const H = (alg: string, s: string) => createHash(alg).update(s).digest('hex');
    for (const [algorithm, node] of [['SHA-256', 'sha256'], ['MD5', 'md5']] as const) {
      const ha1 = H(node, 'agent-1:tonegate:demo');
      const ha2 = H(node, 'REGISTER:sip:127.0.0.1');
      const expected = H(node, `${ha1}:n0nce:00000001:c1:auth:${ha2}`);
      expect(digestResponse({ algorithm, username: 'agent-1', realm: 'tonegate', password: 'demo', method: 'REGISTER', uri: 'sip:127.0.0.1', nonce: 'n0nce', qop: 'auth', nc: '00000001', cnonce: 'c1' })).toBe(expected);
    }
  });

  it('validates like the gateway: amount > 0 with at most 2 decimals, E.164 mobile, references', () => {
    expect(validatePayment(good)).toEqual({});
    expect(validatePayment({ ...good, amount: '0.00' }).amount).toBe('The amount must be greater than 0');
    expect(validatePayment({ ...good, amount: '1.234' }).amount).toMatch(/2 decimals/);
    expect(validatePayment({ ...good, amount: '-5' }).amount).toMatch(/2 decimals/);
    expect(validatePayment({ ...good, amount: '1000000.01' }).amount).toMatch(/at most/);
    expect(validatePayment({ ...good, customerMobile: '09800000001' }).customerMobile).toMatch(/international/);
    expect(validatePayment({ ...good, customerMobile: '+91 98000-00001' })).toEqual({});
    expect(validatePayment({ ...good, orderRef: 'ORD 1' }).orderRef).toBeDefined();
    expect(validatePayment({ ...good, currency: 'XYZ' }).currency).toBe('Choose a currency');
    expect(normaliseAmount('1499')).toBe('1499.00');
    expect(normaliseAmount('1,499.5')).toBe('1499.50');
  });

  it('prefill reads URL parameters and tonegate:prefill messages, and checks the origin', () => {
    expect(prefillFromQuery('?amount=10&currency=inr&order=O-1&mobile=%2B919800000001&merchant=M&x=1')).toEqual({
      amount: '10', currency: 'INR', orderRef: 'O-1', customerMobile: '+919800000001', merchantId: 'M',
    });
    expect(prefillFromMessage({ type: 'tonegate:prefill', payment: { amount: '5.00', orderRef: 7, evil: 'x' } })).toEqual({ amount: '5.00' });
    expect(prefillFromMessage({ type: 'other', payment: {} })).toBeNull();
    expect(prefillFromMessage('tonegate:prefill')).toBeNull();
    expect(originAllowed('https://crm.example', 'http://gw', ['https://crm.example'])).toBe(true);
    expect(originAllowed('https://evil.example', 'http://gw', ['https://crm.example'])).toBe(false);
    expect(originAllowed('http://gw', 'http://gw', [])).toBe(true);
  });

  it('REFER headers, sipfrag status lines and Warning texts', () => {
    expect(handoffHeaders({ ...good, agentId: 'agent-1' })).toEqual([
      'X-Pay-Amount: 1499.00', 'X-Pay-Currency: INR', 'X-Pay-Merchant-Id: M-DEMO-01', 'X-Pay-Order-Ref: ORD-1',
      'X-Pay-Customer-Mobile: +919800000001', 'X-Pay-Agent-Id: agent-1', 'X-Pay-Language: en',
    ]);
    expect(parseSipfrag('SIP/2.0 100 Trying\r\n')).toEqual({ code: 100, reason: 'Trying' });
    expect(parseSipfrag('SIP/2.0 603 Declined')).toEqual({ code: 603, reason: 'Declined' });
    expect(parseSipfrag('hello')).toBeNull();
    expect(warningText('399 127.0.0.1 "X-Pay-Amount: must be \\"positive\\""')).toBe('X-Pay-Amount: must be "positive"');
  });

  it('reconnect backoff doubles from 0.5 s to a 15 s cap, with jitter between half and full', () => {
    expect([0, 1, 2, 3, 10].map((n) => backoffDelay(n, () => 1))).toEqual([500, 1000, 2000, 4000, 15000]);
    expect(backoffDelay(0, () => 0)).toBe(250);
  });
});

describe('referRefusalText: what the agent reads when the payment REFER is refused', () => {
  it.each([
    ['503 with Retry-After: busy, with the seconds', { code: 503, reason: 'Service Unavailable', warning: '399 gw "overload: 3 of 3 calls held (MAX_CALLS); retry later"', retryAfter: '5' }, 'Payments busy, try again in 5 s'],
    ['Retry-After with a comment (RFC 3261 20.33)', { code: 503, reason: 'Service Unavailable', retryAfter: '12 (busy);duration=60' }, 'Payments busy, try again in 12 s'],
    ['503 without Retry-After: the Warning', { code: 503, reason: 'Service Unavailable', warning: '399 gw "maintenance"' }, 'maintenance'],
    ['a bad Retry-After: the status line', { code: 503, reason: 'Service Unavailable', retryAfter: 'soon' }, '503 Service Unavailable'],
    ['400 with a Warning naming the field', { code: 400, reason: 'Bad Request', warning: '399 gw "X-Pay-Amount: must be greater than 0"', retryAfter: '5' }, 'X-Pay-Amount: must be greater than 0'],
    ['403 without a Warning: the status line', { code: 403, reason: 'Forbidden' }, '403 Forbidden'],
  ])('%s', (_n, r, text) => {
    expect(referRefusalText(r)).toBe(text);
  });
});

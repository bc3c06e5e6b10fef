import { describe, expect, it } from 'vitest';
import { PaymentAdmission, type Refusal } from '../../../src/handoff/admission.js';
import { configSchema } from '../../../src/config/schema.js';
import { trustConfigOf } from '../../../src/security/trust-config.js';

const src = (address: string) => ({ remote: { address }, protocol: 'UDP' });
const txn = (over: Partial<{ merchantId: string; customerMobile: string }> = {}) => ({ merchantId: 'M-1', customerMobile: '+919800000001', ...over });

function setup(env: Record<string, string>) {
  let now = 0;
  const refusals: [Refusal['reason'], string | undefined][] = [];
  const a = new PaymentAdmission({ trust: trustConfigOf(configSchema.parse(env)), now: () => now, onRefusal: (r, s) => void refusals.push([r.reason, s]) });
  return { a, refusals, advance: (ms: number) => void (now += ms) };
}

describe('PaymentAdmission: who may start a payment and how often', () => {
  it('TRUSTED_PEERS: a source outside the list is refused 403 with a reason, counted once', () => {
    const { a, refusals } = setup({ TRUSTED_PEERS: '127.0.0.2/32' });
    expect(a.startRefusal(src('127.0.0.2'))).toBeUndefined();
    expect(a.startRefusal(src('127.0.0.1'))).toMatchObject({ status: 403, reason: 'untrusted-peer' });
    expect(refusals).toEqual([['untrusted-peer', '127.0.0.1']]);
  });

  it('a customer mobile outside ALLOWED_MOBILE_PREFIXES is refused before any SMS', () => {
    const { a } = setup({ ALLOWED_MOBILE_PREFIXES: '+91,+971' });
    expect(a.transactionRefusal(txn())).toBeUndefined();
    expect(a.transactionRefusal(txn({ customerMobile: '+971500000001' }))).toBeUndefined();
    expect(a.transactionRefusal(txn({ customerMobile: '+14155550123' }))).toMatchObject({ reason: 'mobile-country', text: expect.stringContaining('X-Pay-Customer-Mobile') });
  });

  it.each([
    ['source', 'velocity-source'],
    ['merchant', 'velocity-merchant'],
    ['mobile', 'velocity-mobile'],
  ] as const)('velocity per %s: 2 per hour, the third refused, allowed again once the hour refills', (key, reason) => {
    const { a, advance } = setup({ VELOCITY_LIMITS: `${key}:2/1h` });
    const go = () => (key === 'source' ? a.startRefusal(src('10.0.0.1')) : a.transactionRefusal(txn()));
    expect([go(), go()]).toEqual([undefined, undefined]);
    expect(go()).toMatchObject({ reason });
    // another key is independent
    expect(key === 'source' ? a.startRefusal(src('10.0.0.2')) : a.transactionRefusal(txn({ merchantId: 'M-2', customerMobile: '+919800000009' }))).toBeUndefined();
    advance(30 * 60_000);
    expect(go()).toBeUndefined();
  });

  it('velocity per card is keyed by an HMAC of the PAN: the same card is refused, another card is not', () => {
    const { a } = setup({ VELOCITY_LIMITS: 'card:1/1h' });
    expect(a.cardRefusal('4111111111111111')).toBeUndefined();
    expect(a.cardRefusal('4111111111111111')).toMatchObject({ reason: 'velocity-card' });
    expect(a.cardRefusal('5555555555554444')).toBeUndefined();
    // The refusal carries no card data.
    expect(JSON.stringify(a.cardRefusal('4111111111111111'))).not.toContain('1111');
  });

  it('demo defaults let everything through (no list, no velocity)', () => {
    const { a } = setup({});
    for (let i = 0; i < 100; i++) expect(a.startRefusal(src('198.51.100.1')) ?? a.transactionRefusal(txn())).toBeUndefined();
  });
});

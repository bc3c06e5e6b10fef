import { describe, expect, it } from 'vitest';
import { panSpec } from '../../../src/capture/steps/pan.js';
import { SensitiveDigits } from '../../../src/security/sensitive-digits.js';
import { PaymentAdmission } from '../../../src/handoff/admission.js';
import { configSchema } from '../../../src/config/schema.js';
import { trustConfigOf } from '../../../src/security/trust-config.js';

function keyed(pan: string, cardRefused?: (pan: Buffer) => boolean) {
  const buf = new SensitiveDigits(19);
  for (const d of pan) buf.append(d);
  const cards: unknown[] = [];
  const spec = panSpec(buf, { onBrand: () => {}, onCard: (brand, masked) => void cards.push({ brand, ...masked }), ...(cardRefused ? { cardRefused } : {}) });
  return { spec, cards };
}

describe('card number policy in the capture step', () => {
  it('a valid card that the velocity check refuses fails with card-refused (prompted like a brand not accepted)', () => {
    const admission = new PaymentAdmission({ trust: trustConfigOf(configSchema.parse({ VELOCITY_LIMITS: 'card:1/1h' })), now: () => 0 });
    const check = (pan: Buffer) => admission.cardRefusal(pan) !== undefined;
    expect(keyed('4111111111111111', check).spec.validate()).toEqual({ ok: true });
    expect(keyed('4111111111111111', check).spec.validate()).toEqual({ ok: false, reason: 'card-refused' });
    expect(keyed('5555555555554444', check).spec.validate()).toEqual({ ok: true });
  });

  it('an invalid card is refused for what is wrong with it, before any velocity check', () => {
    let asked = 0;
    expect(keyed('4111111111111112', () => (asked++, true)).spec.validate()).toEqual({ ok: false, reason: 'luhn' });
    expect(asked).toBe(0);
  });

  it('a 14-digit card shows its last 4 only; a 16-digit one first 6 and last 4', () => {
    const short = keyed('36227206271667');
    short.spec.onValid?.();
    expect(short.cards).toEqual([{ brand: 'diners', first6: null, last4: '1667' }]);
    const long = keyed('4111111111111111');
    long.spec.onValid?.();
    expect(long.cards).toEqual([{ brand: 'visa', first6: '411111', last4: '1111' }]);
  });
});

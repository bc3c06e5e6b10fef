import type { SensitiveDigits } from '../../security/sensitive-digits.js';
import { validateExpiry } from '../validate/index.js';
import type { FieldSpec } from './field-step.js';

/** Expiry as MMYY: four digits, not in the past, not more than `maxYearsAhead` away. */
export function expirySpec(buffer: SensitiveDigits, now: () => Date, maxYearsAhead: number): FieldSpec {
  return {
    field: 'expiry',
    buffer,
    hashSubmits: false,
    hashResends: false,
    submitOnPause: false,
    length: () => ({ min: 4, max: 4 }),
    prompt: (lead) => (lead ? [lead, 'enter.expiry'] : ['enter.expiry']),
    validate() {
      const r = buffer.withValue((d) => validateExpiry(d, now(), maxYearsAhead));
      return r === 'ok' ? { ok: true } : { ok: false, reason: r };
    },
  };
}

import type { SensitiveDigits } from '../../security/sensitive-digits.js';
import { allDigits, cvvLength, type CardBrand } from '../validate/index.js';
import type { FieldSpec } from './field-step.js';

/** CVV/CID: 3 digits, 4 for Amex (from the validated PAN's brand). */
export function cvvSpec(buffer: SensitiveDigits, brand: () => CardBrand): FieldSpec {
  const len = () => cvvLength(brand());
  return {
    field: 'cvv',
    buffer,
    hashSubmits: false,
    hashResends: false,
    submitOnPause: false,
    length: () => ({ min: len(), max: len() }),
    prompt: (lead) => [...(lead ? [lead] : []), { id: 'enter.cvv', n: len() }],
    validate: () => (buffer.length === len() && buffer.withValue((d) => allDigits(d)) ? { ok: true } : { ok: false, reason: 'bad-length' }),
  };
}

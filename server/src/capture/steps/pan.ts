import type { SensitiveDigits } from '../../security/sensitive-digits.js';
import { checkPan, detectBrand, maskPan, MIN_MASKABLE_PAN, type CardBrand, type KnownBrand, type MaskedPan } from '../validate/index.js';
import type { FieldSpec } from './field-step.js';

/** ISO/IEC 7812-1: at most 19 digits; the keypad takes 13-19 (design.md). */
export const PAN_MAX = 19;

export interface PanHooks {
  /** The merchant's accepted brands (undefined: any). */
  readonly allowedBrands?: readonly KnownBrand[] | undefined;
  /** The leading digits identify a brand (announced once per brand while typing). */
  onBrand(brand: CardBrand): void;
  /** The PAN is complete and Luhn-valid: brand + first 6 / last 4 only. */
  onCard(brand: CardBrand, masked: MaskedPan): void;
  /** Policy refusal of a valid card (CaptureConfig.cardRefused). */
  readonly cardRefused?: ((pan: Buffer) => boolean) | undefined;
}

export type PanSpec = FieldSpec & { brand(): CardBrand };

/** Card number: `#` ends it (or the 19th digit); Luhn, brand, merchant allow-list. */
export function panSpec(buffer: SensitiveDigits, hooks: PanHooks): PanSpec {
  let announced: CardBrand = 'unknown';
  let valid: CardBrand = 'unknown';
  return {
    field: 'pan',
    buffer,
    hashSubmits: true,
    hashResends: false,
    submitOnPause: true,
    length: () => ({ min: MIN_MASKABLE_PAN, max: PAN_MAX }),
    prompt: (lead) => (lead ? [lead, 'enter.pan'] : ['enter.pan', 'star.clears']),
    onDigit() {
      if (buffer.length > 6) return; // the IIN is decided by then
      const b = buffer.withValue((d) => detectBrand(d));
      if (b !== 'unknown' && b !== announced) {
        announced = b;
        hooks.onBrand(b);
      }
    },
    validate() {
      const r = buffer.withValue((d) => checkPan(d, hooks.allowedBrands));
      if (r.ok) {
        const refuse = hooks.cardRefused;
        return refuse && buffer.withValue((d) => refuse(d)) ? { ok: false, reason: 'card-refused' } : { ok: true };
      }
      return { ok: false, reason: r.reason === 'not-digits' ? 'bad-length' : r.reason };
    },
    onValid() {
      const { brand, masked } = buffer.withValue((d) => ({ brand: detectBrand(d), masked: maskPan(d) }));
      valid = brand;
      if (masked) hooks.onCard(brand, masked);
    },
    onClear() {
      announced = 'unknown';
      valid = 'unknown';
    },
    brand: () => valid,
  };
}

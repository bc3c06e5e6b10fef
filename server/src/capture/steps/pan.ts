import type { SensitiveDigits } from '../../security/sensitive-digits.js';
import { checkPan, detectBrand, maskPan, MIN_MASKABLE_PAN, type CardBrand, type KnownBrand, type MaskedPan } from '../validate/index.js';
import type { FieldSpec } from './field-step.js';

/** ISO/IEC 7812-1: at most 19 digits; the keypad takes 13-19 (docs/architecture.md). */
export const PAN_MAX = 19;

export interface PanHooks {
  /** The merchant's accepted brands (undefined: any). */
  readonly allowedBrands?: readonly KnownBrand[] | undefined;
  /** Lengths the deployment accepts (capture policy `panLength`), within 13-19; undefined: 13-19. */
  readonly lengths?: { readonly min: number; readonly max: number } | undefined;
  /** `none`: `#` does not end the number and the prompt does not ask for it (capture policy `panTerminator`). */
  readonly terminator?: '#' | 'none' | undefined;
  /** The leading digits identify a brand (announced once per brand while typing). */
  onBrand(brand: CardBrand): void;
  /** The PAN is complete and Luhn-valid: brand + first 6 / last 4 only. */
  onCard(brand: CardBrand, masked: MaskedPan): void;
  /** Policy refusal of a valid card (CaptureConfig.cardRefused). */
  readonly cardRefused?: ((pan: Buffer) => boolean) | undefined;
}

export type PanSpec = FieldSpec & { brand(): CardBrand };

/** Card number: `#` ends it (unless the terminator is `none`), or a pause, or its longest length; Luhn, brand, merchant allow-list. */
export function panSpec(buffer: SensitiveDigits, hooks: PanHooks): PanSpec {
  let announced: CardBrand = 'unknown';
  let valid: CardBrand = 'unknown';
  const length = () => ({ min: Math.max(MIN_MASKABLE_PAN, hooks.lengths?.min ?? 0), max: Math.min(PAN_MAX, hooks.lengths?.max ?? PAN_MAX) });
  return {
    field: 'pan',
    buffer,
    hashSubmits: hooks.terminator !== 'none',
    hashResends: false,
    submitOnPause: true,
    length,
    prompt: (lead) => {
      const ask = hooks.terminator === 'none' ? 'enter.pan.no-hash' : 'enter.pan';
      return lead ? [lead, ask] : [ask, 'star.clears'];
    },
    onDigit() {
      if (buffer.length > 6) return; // the IIN is decided by then
      const b = buffer.withValue((d) => detectBrand(d));
      if (b !== 'unknown' && b !== announced) {
        announced = b;
        hooks.onBrand(b);
      }
    },
    validate() {
      const { min, max } = length();
      if (buffer.length < min || buffer.length > max) return { ok: false, reason: 'bad-length' };
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

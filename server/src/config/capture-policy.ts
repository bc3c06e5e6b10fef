import { z } from 'zod/v4';

/**
 * Capture policy from the configuration file's `capture:` section (docs/operations.md, "Capture
 * policy"): timers, attempts, OTP resends and accepted card brands, with per-merchant overrides.
 * Unset keys keep the built-in defaults of the capture state machine.
 */
export const CARD_BRANDS = ['visa', 'mastercard', 'amex', 'rupay', 'diners', 'discover', 'jcb', 'maestro'] as const;
export type CardBrand = (typeof CARD_BRANDS)[number];

const seconds = (min: number, max: number, what: string) => z.number().min(min).max(max).optional().meta({ description: `${what}, in seconds.` });

const policyFields = {
  firstDigitSeconds: seconds(1, 120, 'From the end of a field prompt to the first digit'),
  interDigitSeconds: seconds(1, 60, 'Between two digits'),
  sessionSeconds: seconds(30, 3600, 'The whole capture, greeting to outcome'),
  maxAttempts: z.number().int().min(1).max(10).optional().meta({ description: 'Failures of one field that end the attempt.' }),
  maxResends: z.number().int().min(0).max(10).optional().meta({ description: 'New OTPs the customer may ask for.' }),
  allowedBrands: z.array(z.enum(CARD_BRANDS)).min(1).optional().meta({ description: 'Card brands accepted; unset: any valid card.' }),
};

const overrideSchema = z.strictObject(policyFields);

export const capturePolicySchema = z
  .strictObject({
    ...policyFields,
    merchants: z
      .record(z.string().regex(/^[A-Za-z0-9._-]{1,64}$/, 'a merchant id of [A-Za-z0-9._-]'), overrideSchema)
      .optional()
      .meta({ description: 'Overrides by merchant id (X-Pay-Merchant-Id).' }),
  })
  .meta({ description: 'Capture policy; unset keys keep the built-in defaults.' });

export type CapturePolicy = z.output<typeof capturePolicySchema>;

/** The capture settings (in the capture state machine's units) for one merchant; only those set. */
export interface CaptureOverrides {
  firstDigitMs?: number;
  interDigitMs?: number;
  sessionMs?: number;
  maxAttempts?: number;
  maxResends?: number;
}

function toOverrides(p: z.output<typeof overrideSchema>): CaptureOverrides {
  const out: CaptureOverrides = {};
  if (p.firstDigitSeconds !== undefined) out.firstDigitMs = Math.round(p.firstDigitSeconds * 1000);
  if (p.interDigitSeconds !== undefined) out.interDigitMs = Math.round(p.interDigitSeconds * 1000);
  if (p.sessionSeconds !== undefined) out.sessionMs = Math.round(p.sessionSeconds * 1000);
  if (p.maxAttempts !== undefined) out.maxAttempts = p.maxAttempts;
  if (p.maxResends !== undefined) out.maxResends = p.maxResends;
  return out;
}

/** The global policy with the merchant's overrides on top. */
export function captureOverrides(policy: CapturePolicy | undefined, merchantId?: string): CaptureOverrides {
  if (!policy) return {};
  const m = merchantId !== undefined ? policy.merchants?.[merchantId] : undefined;
  return { ...toOverrides(policy), ...(m ? toOverrides(m) : {}) };
}

/** The brands the merchant accepts; undefined: any valid card. */
export function allowedBrands(policy: CapturePolicy | undefined, merchantId: string): readonly CardBrand[] | undefined {
  return policy?.merchants?.[merchantId]?.allowedBrands ?? policy?.allowedBrands;
}

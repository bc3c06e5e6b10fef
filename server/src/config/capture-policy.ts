import { z } from 'zod/v4';

/**
 * Capture policy from the configuration file's `capture:` section (docs/operations.md, "Capture
 * policy"): timers, attempts, OTP resends and accepted card brands, with per-merchant overrides.
 * Unset keys keep the built-in defaults of the capture state machine.
 */
export const CARD_BRANDS = ['visa', 'mastercard', 'amex', 'rupay', 'diners', 'discover', 'jcb', 'maestro'] as const;
export type CardBrand = (typeof CARD_BRANDS)[number];

const seconds = (min: number, max: number, what: string) => z.number().min(min).max(max).optional().meta({ description: `${what}, in seconds.` });

const FIELDS = ['pan', 'expiry', 'cvv', 'otp'] as const;
type Field = (typeof FIELDS)[number];

const fieldPolicySchema = z.strictObject({
  firstDigitSeconds: seconds(1, 120, 'From the end of this field\'s prompt to the first digit'),
  interDigitSeconds: seconds(1, 60, 'Between two digits of this field'),
  maxAttempts: z.number().int().min(1).max(10).optional().meta({ description: 'Failures of this field that end the attempt.' }),
});

const policyFields = {
  firstDigitSeconds: seconds(1, 120, 'From the end of a field prompt to the first digit'),
  interDigitSeconds: seconds(1, 60, 'Between two digits'),
  sessionSeconds: seconds(30, 3600, 'The whole capture, greeting to outcome'),
  maxAttempts: z.number().int().min(1).max(10).optional().meta({ description: 'Failures of one field that end the attempt.' }),
  maxResends: z.number().int().min(0).max(10).optional().meta({ description: 'New OTPs the customer may ask for.' }),
  allowedBrands: z.array(z.enum(CARD_BRANDS)).min(1).optional().meta({ description: 'Card brands accepted; unset: any valid card.' }),
  panLength: z
    .strictObject({ min: z.number().int().min(13).max(19), max: z.number().int().min(13).max(19) })
    .refine((l) => l.min <= l.max, { message: 'min must not be above max', path: ['min'] })
    .optional()
    .meta({ description: 'Card number lengths accepted (ISO/IEC 7812-1: 13-19); the brand\'s own lengths still apply.' }),
  otpLength: z
    .strictObject({ min: z.number().int().min(4).max(8), max: z.number().int().min(4).max(8) })
    .refine((l) => l.min <= l.max, { message: 'min must not be above max', path: ['min'] })
    .optional()
    .meta({ description: 'OTP lengths accepted (the provider API gives 4-8); an OTP of another length is not used and the OTP step ends unavailable. Unset: any.' }),
  panTerminator: z.enum(['#', 'none']).optional().meta({ description: 'What ends the card number: # (default), or none (a pause after 13+ digits, or the longest length).' }),
  fields: z
    .strictObject(Object.fromEntries(FIELDS.map((f) => [f, fieldPolicySchema.optional()])) as Record<Field, z.ZodOptional<typeof fieldPolicySchema>>)
    .optional()
    .meta({ description: 'Per field (pan, expiry, cvv, otp): its own timers and attempts over the ones above.' }),
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
export interface FieldOverrides {
  firstDigitMs?: number;
  interDigitMs?: number;
  maxAttempts?: number;
}
export interface CaptureOverrides extends FieldOverrides {
  sessionMs?: number;
  panLength?: { min: number; max: number };
  otpLength?: { min: number; max: number };
  panTerminator?: '#' | 'none';
  maxResends?: number;
  fields?: Partial<Record<Field, FieldOverrides>>;
}

const ms = (s: number): number => Math.round(s * 1000);

function toFieldOverrides(p: z.output<typeof fieldPolicySchema>): FieldOverrides {
  const out: FieldOverrides = {};
  if (p.firstDigitSeconds !== undefined) out.firstDigitMs = ms(p.firstDigitSeconds);
  if (p.interDigitSeconds !== undefined) out.interDigitMs = ms(p.interDigitSeconds);
  if (p.maxAttempts !== undefined) out.maxAttempts = p.maxAttempts;
  return out;
}

function toOverrides(p: z.output<typeof overrideSchema>): CaptureOverrides {
  const out: CaptureOverrides = toFieldOverrides(p);
  if (p.sessionSeconds !== undefined) out.sessionMs = Math.round(p.sessionSeconds * 1000);
  if (p.maxResends !== undefined) out.maxResends = p.maxResends;
  if (p.panLength) out.panLength = { ...p.panLength };
  if (p.otpLength) out.otpLength = { ...p.otpLength };
  if (p.panTerminator) out.panTerminator = p.panTerminator;
  if (p.fields) out.fields = Object.fromEntries(Object.entries(p.fields).filter(([, f]) => f).map(([k, f]) => [k, toFieldOverrides(f!)]));
  return out;
}

/** The global policy with the merchant's overrides on top. */
export function captureOverrides(policy: CapturePolicy | undefined, merchantId?: string): CaptureOverrides {
  if (!policy) return {};
  const m = merchantId !== undefined ? policy.merchants?.[merchantId] : undefined;
  const global = toOverrides(policy);
  const own = m ? toOverrides(m) : {};
  // Field by field: the merchant's setting of a field wins over the global one of that field.
  const fields: Partial<Record<Field, FieldOverrides>> = {};
  for (const f of FIELDS) {
    const merged = { ...global.fields?.[f], ...own.fields?.[f] };
    if (Object.keys(merged).length) fields[f] = merged;
  }
  const out: CaptureOverrides = { ...global, ...own };
  delete out.fields;
  return Object.keys(fields).length ? { ...out, fields } : out;
}

/** The brands the merchant accepts; undefined: any valid card. */
export function allowedBrands(policy: CapturePolicy | undefined, merchantId: string): readonly CardBrand[] | undefined {
  return policy?.merchants?.[merchantId]?.allowedBrands ?? policy?.allowedBrands;
}

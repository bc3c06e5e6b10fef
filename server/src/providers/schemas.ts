import { z } from 'zod';

/**
 * Shapes of the provider's answers, parsed at the edge (docs/architecture.md practice 2). They mirror
 * docs/provider-api.openapi.yaml; anything else is a `bad-response`.
 */
const id = z.string().min(1).max(128);
const amount = z.string().regex(/^\d{1,12}(\.\d{1,2})?$/);
const currency = z.string().regex(/^[A-Z]{3}$/);
/** E.164: +, country code, at most 15 digits (ITU-T E.164 §6). */
export const e164 = z.string().regex(/^\+[1-9]\d{6,14}$/);

export const transactionSchema = z.object({
  ref: id,
  amount,
  currency,
  merchantId: id,
  orderRef: id,
  customerMobile: e164,
});
export type Transaction = z.infer<typeof transactionSchema>;

export const otpIssuedSchema = z
  .object({
    otpId: id,
    otp: z.string().regex(/^\d{4,8}$/),
    length: z.number().int().min(4).max(8),
    expiresAt: z.string().datetime({ offset: true }),
  })
  .refine((o) => o.otp.length === o.length, { path: ['length'], message: 'length does not match the OTP' });

export const otpValidationSchema = z.object({
  status: z.enum(['valid', 'invalid', 'expired']),
  attemptsLeft: z.number().int().min(0),
});
export type OtpValidation = z.infer<typeof otpValidationSchema>;

export const paymentResultSchema = z.object({
  paymentId: id,
  status: z.enum(['approved', 'declined']),
  declineReason: z.string().max(64).optional(),
  amount,
  currency,
  orderRef: id,
  card: z.object({ brand: z.string().max(32), last4: z.string().regex(/^\d{4}$/) }),
});
export type PaymentResult = z.infer<typeof paymentResultSchema>;

export const paymentStatusSchema = z.discriminatedUnion('status', [
  z.object({ status: z.literal('approved'), paymentId: id }),
  z.object({ status: z.literal('declined'), paymentId: id, declineReason: z.string().max(64).optional() }),
  z.object({ status: z.literal('pending'), paymentId: id.optional() }),
  z.object({ status: z.literal('not-found') }),
]);
export type PaymentStatus = z.infer<typeof paymentStatusSchema>;

export const confirmationSchema = z.object({ paymentId: id, status: z.literal('confirmed') });
export type Confirmation = z.infer<typeof confirmationSchema>;

export const cardKeySchema = z.object({
  keyId: id,
  algorithm: z.literal('RSA-OAEP-256'),
  publicKeyPem: z.string().startsWith('-----BEGIN PUBLIC KEY-----').max(4096),
});
export type CardPublicKey = z.infer<typeof cardKeySchema>;

export const smsAcceptedSchema = z.object({ messageId: id, status: z.literal('accepted') });

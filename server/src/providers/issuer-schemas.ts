import { z } from 'zod';

/**
 * The provider's answers in the `issuer` OTP mode (docs/provider-api.openapi.yaml, "Issuer OTP"),
 * parsed at the edge like ./schemas.ts; anything else is a `bad-response`.
 */
const id = z.string().min(1).max(128);

export const issuerOtpInfoSchema = z.object({
  /** Digits in the OTP the bank sent. */
  length: z.number().int().min(4).max(8),
  expiresAt: z.string().datetime({ offset: true }),
  /** New OTPs the bank will still send for this payment. */
  resendsLeft: z.number().int().min(0).max(10),
});

export const issuerStartSchema = z.discriminatedUnion('status', [
  z.object({ paymentId: id, status: z.literal('otp-required'), otp: issuerOtpInfoSchema }),
  /** Refused before any authentication (card invalid or expired, say). */
  z.object({ paymentId: id, status: z.literal('declined'), declineReason: z.string().max(64).optional() }),
]);
export type IssuerStartAnswer = z.infer<typeof issuerStartSchema>;

export const issuerResendSchema = z.object({ paymentId: id, status: z.literal('otp-required'), otp: issuerOtpInfoSchema });

export const issuerSubmitSchema = z.discriminatedUnion('status', [
  z.object({ paymentId: id, status: z.literal('approved') }).passthrough(),
  z.object({ paymentId: id, status: z.literal('declined'), declineReason: z.string().max(64).optional() }).passthrough(),
  z.object({ paymentId: id, status: z.literal('otp-invalid'), attemptsLeft: z.number().int().min(0) }),
  z.object({ paymentId: id, status: z.literal('otp-expired') }),
]);
export type IssuerSubmitAnswer = z.infer<typeof issuerSubmitSchema>;

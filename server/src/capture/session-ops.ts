import type { Transaction } from '../handoff/index.js';
import { ProviderError } from '../providers/errors.js';
import type { DltVar } from '../providers/dlt.js';
import type { IssuedOtp } from '../providers/payment-client.js';
import type { PaymentDecision, PaymentRequest } from '../providers/pay.js';
import type { SmsSent } from '../providers/sms-client.js';
import type { SensitiveDigits } from '../security/sensitive-digits.js';
import type { CapturePayments, CaptureSms, OtpSmsTemplate } from './port.js';

/**
 * The provider steps of a capture, each mapping what the provider did into a result the session
 * turns into a machine event: the fallbacks of the capture flow. Retries happen inside the clients,
 * by their explicit policies (providers/resilience/retry.ts); here a failure is final.
 */
export const errorCode = (err: unknown): string => (err instanceof ProviderError ? err.code : 'internal');

export type OtpIssue = { ok: true; issued: IssuedOtp } | { ok: false; code: string };

/** OTP generation (the provider's client retries by READ_POLICY). */
export async function generateOtp(payment: CapturePayments, txn: Transaction): Promise<OtpIssue> {
  try {
    return { ok: true, issued: await payment.generateOtp({ orderRef: txn.orderRef, customerMobile: txn.customerMobile }) };
  } catch (err) {
    return { ok: false, code: errorCode(err) };
  }
}

export type SmsOutcome =
  | { ok: true; sent: SmsSent }
  /** `retryable`: a resend may work (every route failed); false: it never will (DLT refusal, bad number). */
  | { ok: false; code: string; retryable: boolean };

/** The OTP SMS under DLT (SmsClient renders and falls back to the second route itself). */
export async function sendOtpSms(sms: CaptureSms, t: OtpSmsTemplate, txn: Transaction, otp: SensitiveDigits): Promise<SmsOutcome> {
  const vars: DltVar[] = t.vars.map((v) => (v === 'otp' ? otp : txn[v]));
  try {
    return { ok: true, sent: await sms.send({ to: txn.customerMobile, template: t.template, vars }) };
  } catch (err) {
    const code = errorCode(err);
    return { ok: false, code, retryable: code === 'all-routes-failed' };
  }
}

export type OtpCheck = { status: 'valid' } | { status: 'invalid'; attemptsLeft: number } | { status: 'expired' } | { status: 'unavailable'; code: string };

export async function validateOtp(payment: CapturePayments, otpId: string, otp: SensitiveDigits): Promise<OtpCheck> {
  try {
    const v = await payment.validateOtp(otpId, otp);
    return v.status === 'invalid' ? { status: 'invalid', attemptsLeft: v.attemptsLeft } : { status: v.status };
  } catch (err) {
    return { status: 'unavailable', code: errorCode(err) };
  }
}

/**
 * The payment: pay() settles unknown outcomes by status query and never charges twice. It does not
 * throw for provider failures; anything it does throw leaves us unable to say whether money moved.
 */
export async function takePayment(payment: CapturePayments, req: PaymentRequest & { idempotencyKey: string }): Promise<PaymentDecision> {
  try {
    return await payment.pay(req);
  } catch {
    return { outcome: 'failed', reason: 'rejected', needsReconciliation: true, idempotencyKey: req.idempotencyKey, attempts: 0 };
  }
}

export async function confirmPayment(payment: CapturePayments, paymentId: string): Promise<{ ok: true } | { ok: false; code: string }> {
  try {
    await payment.confirm(paymentId);
    return { ok: true };
  } catch (err) {
    return { ok: false, code: errorCode(err) };
  }
}

/** Checks an OTP template against DLT's shape before any call starts (fail fast at construction). */
export function assertOtpTemplate(t: OtpSmsTemplate): void {
  const placeholders = t.template.text.split('{#var#}').length - 1;
  if (placeholders !== t.vars.length) throw new RangeError(`OTP template has ${placeholders} placeholders but ${t.vars.length} vars`);
  if (t.vars.filter((v) => v === 'otp').length !== 1) throw new RangeError('OTP template must carry the OTP exactly once');
}

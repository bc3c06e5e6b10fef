import type { Logger } from '../observability/logger.js';
import { ProviderError, type ProviderErrorCode } from './errors.js';
import type { IssuerStartAnswer, IssuerSubmitAnswer } from './issuer-schemas.js';
import type { PaymentFailureReason } from './pay.js';
import type { PaymentStatus } from './schemas.js';

/** The OTP the bank sent for a payment in the `issuer` mode (./otp-mode.ts). */
export interface IssuerChallenge {
  readonly paymentId: string;
  readonly length: number;
  readonly expiresAt: Date;
  /** From the provider's answer: new OTPs the bank will still send. */
  readonly resendsLeft: number;
}

export type IssuerStart =
  | { readonly status: 'otp-required'; readonly challenge: IssuerChallenge }
  | { readonly status: 'declined'; readonly paymentId: string; readonly reason: string };

export type IssuerSubmit =
  | { readonly status: 'approved'; readonly paymentId: string }
  | { readonly status: 'declined'; readonly paymentId: string; readonly reason: string }
  | { readonly status: 'invalid'; readonly attemptsLeft: number }
  | { readonly status: 'expired' }
  | {
      readonly status: 'failed';
      readonly reason: PaymentFailureReason;
      /** The bank may have charged the card and we could not find out (see pay.ts). */
      readonly needsReconciliation: boolean;
    };

export function challengeOf(a: { paymentId: string; otp: { length: number; expiresAt: string; resendsLeft: number } }): IssuerChallenge {
  return { paymentId: a.paymentId, length: a.otp.length, expiresAt: new Date(a.otp.expiresAt), resendsLeft: a.otp.resendsLeft };
}

export function startOf(a: IssuerStartAnswer): IssuerStart {
  return a.status === 'otp-required'
    ? { status: 'otp-required', challenge: challengeOf(a) }
    : { status: 'declined', paymentId: a.paymentId, reason: a.declineReason ?? 'declined' };
}

/** Errors after which the OTP submission may have reached the bank (the charge may have happened). */
const AMBIGUOUS = new Set<ProviderErrorCode>(['timeout', 'network', 'server-error', 'bad-response', 'conflict']);

const asFailure = (code: ProviderErrorCode): PaymentFailureReason =>
  code === 'dlt-invalid' || code === 'all-routes-failed' ? 'rejected' : code;

export interface IssuerSubmitDeps {
  /** One `POST /v1/payments/{paymentId}/otp`. */
  readonly post: () => Promise<IssuerSubmitAnswer>;
  /** Status by the payment's Idempotency-Key (past the breaker); throws when it cannot find out. */
  readonly status: () => Promise<PaymentStatus>;
  readonly logger: Logger;
}

/**
 * Submits the OTP the customer keyed; this is where the issuer flow moves money, so the rules of
 * runPayment (pay.ts) apply: it is sent once, and when its fate is unknown (timeout, broken
 * connection, 5xx, malformed answer, 409) the status by Idempotency-Key decides. Approved or
 * declined settle it; anything else ends `failed` with `needsReconciliation`. Never throws for a
 * provider failure.
 */
export async function runIssuerSubmit(deps: IssuerSubmitDeps): Promise<IssuerSubmit> {
  let err: ProviderError;
  try {
    const a = await deps.post();
    switch (a.status) {
      case 'approved':
        return { status: 'approved', paymentId: a.paymentId };
      case 'declined':
        return { status: 'declined', paymentId: a.paymentId, reason: a.declineReason ?? 'declined' };
      case 'otp-invalid':
        return { status: 'invalid', attemptsLeft: a.attemptsLeft };
      case 'otp-expired':
        return { status: 'expired' };
    }
  } catch (e) {
    err = e instanceof ProviderError ? e : new ProviderError('network', true, { cause: e });
  }
  if (!AMBIGUOUS.has(err.code)) return { status: 'failed', reason: asFailure(err.code), needsReconciliation: false };
  deps.logger.warn({ code: err.code }, 'issuer OTP submission outcome unknown: querying status');
  let s: PaymentStatus | undefined;
  try {
    s = await deps.status();
  } catch (e) {
    deps.logger.warn({ code: e instanceof ProviderError ? e.code : 'unknown' }, 'payment status query failed');
  }
  if (s?.status === 'approved') return { status: 'approved', paymentId: s.paymentId };
  if (s?.status === 'declined') return { status: 'declined', paymentId: s.paymentId, reason: s.declineReason ?? 'declined' };
  return { status: 'failed', reason: asFailure(err.code), needsReconciliation: true };
}

import type { SessionPatch } from '../store/index.js';
import { errorCode } from './session-ops.js';
import { otpLengthAccepted } from './config.js';
import { maskMobileForDisplay, type SessionEventBody } from './events.js';
import type { PromptId } from './prompts.js';
import type { RuntimeOptions } from './session-runtime.js';
import type { FieldStep } from './steps/field-step.js';
import type { OtpFieldState } from './steps/otp.js';

export interface IssuerHost {
  readonly runtime: RuntimeOptions;
  readonly otp: OtpFieldState;
  otpStep(): FieldStep;
  publish(e: SessionEventBody): void;
  persist(p: SessionPatch): void;
  /** Every store write queued so far has landed. */
  stored(): Promise<unknown>;
  /** Runs a provider step; its result counts only if the capture is still where it started it. */
  run<T>(p: Promise<T>, then: (r: T) => void, late?: (r: T) => void): void;
  approved(paymentId: string): void;
}

const noop = () => {};

/**
 * The issuer OTP mode of a capture (providers/otp-mode.ts): the payment request starts the
 * card's authentication and the bank sends the OTP itself; the customer keys it (masked like the
 * CVV: SensitiveDigits, wiped with the card) and the gateway submits it, which charges the card.
 * How many new OTPs may be asked for and when one expires come from the provider's answers.
 */
export class IssuerOtp {
  /** OTPs the bank sent for this payment (the first one included). */
  sends = 0;
  /** From the provider's latest answer. */
  resendsLeft = 0;
  #paymentId: string | undefined;
  #key: string | undefined;
  #expiresAt = 0;

  constructor(private readonly h: IssuerHost) {}

  request(resend: boolean, lead?: PromptId): void {
    const { deps, card } = this.h.runtime;
    this.h.runtime.play([...(lead ? [lead] : []), 'otp.sending'], noop, false);
    const { orderRef, merchantId, amount, currency, customerMobile } = deps.txn;
    let call: Promise<unknown>;
    if (!resend || this.#paymentId === undefined) {
      if (!deps.payment.startIssuerOtp) return this.#unavailable('not-supported');
      const idempotencyKey = (this.#key = this.h.runtime.newKey());
      deps.logger.info({ sessionId: this.h.runtime.sessionId, idempotencyKey }, 'issuer authentication');
      this.h.persist({ idempotencyKey }); // recorded before the card leaves, as for pay()
      const req = { orderRef, merchantId, amount, currency, customerMobile, idempotencyKey, card: { pan: card.pan, expiry: card.expiry, cvv: card.cvv } };
      const start = deps.payment.startIssuerOtp.bind(deps.payment);
      call = this.h.stored().then(() => start(req)).then((r) => (r.status === 'otp-required' ? { challenge: r.challenge } : { declined: r }));
    } else {
      if (!deps.payment.resendIssuerOtp) return this.#unavailable('not-supported');
      call = deps.payment.resendIssuerOtp(this.#paymentId).then((challenge) => ({ challenge }));
    }
    type Answer = { challenge: { paymentId: string; length: number; expiresAt: Date; resendsLeft: number } } | { declined: { paymentId: string; reason: string } };
    const settled = (call as Promise<Answer>).then(
      (a) => ({ ok: true as const, a }),
      (err: unknown) => ({ ok: false as const, code: errorCode(err) }),
    );
    this.h.run(settled, (r) => {
      if (!r.ok) return this.#unavailable(r.code);
      if ('declined' in r.a) {
        const { paymentId, reason } = r.a.declined;
        return this.h.runtime.dispatch({ type: 'payment.declined', reason, paymentId });
      }
      const c = r.a.challenge;
      this.#paymentId = c.paymentId;
      if (!otpLengthAccepted(this.h.runtime.cfg, c.length)) return this.#unavailable('otp-length');
      this.#expiresAt = c.expiresAt.getTime();
      this.resendsLeft = c.resendsLeft;
      this.h.otp.length = c.length;
      this.h.otp.awaitingResend = false;
      this.sends++;
      this.h.publish({ type: 'otp.sent', mobile: maskMobileForDisplay(customerMobile), route: 'issuer', resend: this.sends - 1, failedRoutes: [] });
      this.h.runtime.dispatch({ type: 'auth.otp-sent' });
    });
  }

  submit(): void {
    const { deps, card } = this.h.runtime;
    if (this.h.runtime.now() > this.#expiresAt) return this.h.runtime.dispatch({ type: 'otp.expired' }); // as the provider said
    if (!deps.payment.submitIssuerOtp || this.#paymentId === undefined || this.#key === undefined) {
      return this.h.runtime.dispatch({ type: 'payment.failed', reason: 'rejected', needsReconciliation: false });
    }
    this.h.publish({ type: 'payment.processing', stage: 'payment' });
    this.h.runtime.play(['processing'], noop, false);
    const submitting = deps.payment.submitIssuerOtp(this.#paymentId, card.otp, this.#key).catch(() => ({
      status: 'failed' as const,
      reason: 'rejected' as const,
      needsReconciliation: true, // it threw past the client's own handling: we cannot say what happened
    }));
    this.h.run(submitting, (r) => {
      switch (r.status) {
        case 'approved':
          this.h.approved(r.paymentId);
          return this.h.runtime.dispatch({ type: 'payment.approved', paymentId: r.paymentId });
        case 'declined':
          return this.h.runtime.dispatch({ type: 'payment.declined', reason: r.reason, paymentId: r.paymentId });
        case 'invalid':
          return this.h.runtime.dispatch({ type: 'otp.invalid', final: this.h.otpStep().recordFailure('otp-invalid', r.attemptsLeft) });
        case 'expired':
          return this.h.runtime.dispatch({ type: 'otp.expired' });
        case 'failed':
          this.h.publish({ type: 'provider.issue', step: 'payment', code: r.reason, action: r.needsReconciliation ? 'reconcile' : 'ended' });
          return this.h.runtime.dispatch({ type: 'payment.failed', reason: r.reason, needsReconciliation: r.needsReconciliation });
      }
    });
  }

  #unavailable(code: string): void {
    this.h.publish({ type: 'provider.issue', step: 'otp-generate', code, action: 'ended' });
    this.h.runtime.dispatch({ type: 'auth.unavailable' });
  }
}

import type { CapturePayments } from '../../capture/port.js';
import type { Logger } from '../../observability/logger.js';
import type { SensitiveDigits } from '../../security/sensitive-digits.js';
import { ProviderError, type PaymentDecision, type PaymentProviderClient, type PaymentRequest } from '../../providers/index.js';
import { failoverDecision } from '../../providers/failover.js';

/** One configured provider: its name (config/provider-plan.ts) and its own client, breaker included. */
export interface NamedProvider {
  readonly name: string;
  readonly client: PaymentProviderClient;
}

type IssuerStartReq = Parameters<NonNullable<CapturePayments['startIssuerOtp']>>[0];

/**
 * The provider client one payment uses (docs/operations.md, "Several payment providers"): the
 * merchant's provider, then its failover list. It moves to the next provider only as
 * {@link failoverDecision} allows: for a failure that says the provider is down, before the order
 * is bound to a provider (an OTP it issued, an authentication it started) and before any charge
 * request may have reached one. Never afterwards: a card is never charged twice.
 */
export class ProviderChain implements CapturePayments {
  readonly #chain: readonly NamedProvider[];
  readonly #log: Logger;
  #i = 0;
  #pinned = false;
  #chargeSent = false;
  #used = false;
  readonly #onServe: ((name: string) => void) | undefined;

  /**
   * `onServe`: told the provider's name when it first serves this payment and on each move, before
   * the call goes out, so the session record names it (reconciliation and takeover ask that one).
   */
  constructor(chain: readonly NamedProvider[], log: Logger, onServe?: (name: string) => void) {
    if (!chain.length) throw new RangeError('a provider chain needs a provider');
    this.#chain = chain;
    this.#log = log;
    this.#onServe = onServe;
  }

  /** The current provider serves a call: tell onServe the first time and after a move. */
  #serve(): NamedProvider {
    const p = this.#pick();
    if (!this.#used || this.#told !== p.name) this.#onServe?.(p.name);
    this.#told = p.name;
    this.#used = true;
    return p;
  }
  #told: string | undefined;

  get #current(): NamedProvider {
    return this.#chain[this.#i]!;
  }

  /** Refusing only when every provider this payment may still use is refusing. */
  get breaker(): { readonly state: string; readonly refusing: boolean } {
    const left = this.#pinned || this.#chargeSent ? [this.#current] : this.#chain.slice(this.#i);
    return { state: this.#pick().client.breaker.state, refusing: left.every((p) => p.client.breaker.refusing) };
  }

  /** The provider that served (or last tried) this payment; undefined before any call. */
  servedBy(): string | undefined {
    return this.#used ? this.#current.name : undefined;
  }

  /** Before the order is bound: skip providers whose breaker refuses, when a later one does not. */
  #pick(): NamedProvider {
    if (!this.#pinned && !this.#chargeSent && this.#current.client.breaker.refusing) {
      const j = this.#chain.findIndex((p, k) => k > this.#i && !p.client.breaker.refusing);
      if (j > 0) this.#move(j, 'breaker-open', 'breaker');
    }
    return this.#current;
  }

  #move(to: number, code: string, op: string): void {
    this.#log.warn({ from: this.#current.name, to: this.#chain[to]!.name, op, code }, 'payment provider unavailable before any charge: failing over');
    this.#i = to;
  }

  /** Runs `fn` on the current provider, moving on as failoverDecision allows; `pin`: success binds the order. */
  async #call<T>(op: string, pin: boolean, fn: (c: PaymentProviderClient) => Promise<T>): Promise<T> {
    for (;;) {
      const p = this.#serve();
      try {
        const r = await fn(p.client);
        if (pin) this.#pinned = true;
        return r;
      } catch (err) {
        const code = err instanceof ProviderError ? err.code : undefined;
        const hasNext = this.#i < this.#chain.length - 1;
        if (failoverDecision({ pinned: this.#pinned, chargeSent: this.#chargeSent, hasNext, code }) !== 'next') throw err;
        this.#move(this.#i + 1, code!, op);
      }
    }
  }

  generateOtp(req: { orderRef: string; customerMobile: string }): ReturnType<CapturePayments['generateOtp']> {
    return this.#call('otp.generate', true, (c) => c.generateOtp(req));
  }

  validateOtp(otpId: string, otp: SensitiveDigits): ReturnType<CapturePayments['validateOtp']> {
    this.#pinned = true; // the OTP is this provider's
    return this.#call('otp.validate', true, (c) => c.validateOtp(otpId, otp));
  }

  confirm(paymentId: string): ReturnType<CapturePayments['confirm']> {
    this.#pinned = true;
    return this.#call('payment.confirm', true, (c) => c.confirm(paymentId));
  }

  otpModeFor(merchantId: string): ReturnType<NonNullable<CapturePayments['otpModeFor']>> {
    return this.#current.client.otpModeFor(merchantId);
  }

  /** The charge: another provider only when this one refused it before anything left (decision.chargeSent false). */
  async pay(req: PaymentRequest): Promise<PaymentDecision> {
    for (;;) {
      const p = this.#serve();
      const d = await p.client.pay(req);
      const sent = d.chargeSent ?? true;
      if (sent) this.#chargeSent = true;
      const hasNext = this.#i < this.#chain.length - 1;
      if (d.outcome !== 'failed' || failoverDecision({ pinned: this.#pinned, chargeSent: sent, hasNext, code: d.reason }) !== 'next') return d;
      this.#move(this.#i + 1, d.reason, 'payment');
    }
  }

  startIssuerOtp(req: IssuerStartReq): ReturnType<NonNullable<CapturePayments['startIssuerOtp']>> {
    return this.#call('issuer.start', true, (c) => c.startIssuerOtp(req));
  }

  resendIssuerOtp(paymentId: string): ReturnType<NonNullable<CapturePayments['resendIssuerOtp']>> {
    this.#pinned = true;
    return this.#call('issuer.resend', true, (c) => c.resendIssuerOtp(paymentId));
  }

  submitIssuerOtp(paymentId: string, otp: SensitiveDigits, idempotencyKey: string): ReturnType<NonNullable<CapturePayments['submitIssuerOtp']>> {
    this.#pinned = true;
    this.#chargeSent = true; // the charge happens at submit
    return this.#serve().client.submitIssuerOtp(paymentId, otp, idempotencyKey);
  }
}

import { extractHandoff, ReplayGuard, type HandoffCodeStore, type HandoffResult, type LoadedProfile } from '../../handoff/index.js';
import type { SipFlow } from '../../sip/transport/types.js';
import type { Payments } from './setup.js';
import { smsFieldLimits } from './setup.js';

/** A request asking to start a payment: an INVITE to the pay URI or an agent's in-dialog REFER. */
export interface PaymentRequest {
  readonly kind: 'invite' | 'refer';
  /** The pay URI's user part: `pay` or `pay-<code>`. */
  readonly user: string;
  /** A header of the request (INVITE) or an X- header of the REFER, by name. */
  readonly headers: (name: string) => string | undefined;
  /** URI headers inside Refer-To (REFER only). */
  readonly referToHeaders?: Record<string, string>;
  /** The flow the request arrived on (its peer's address or connection). */
  readonly flow: SipFlow;
}

const PAY_CODE = /^pay-([0-9a-z]{12}|\d{16})$/i;

/**
 * The one place that decides whether a request may start a payment (docs/architecture.md,
 * "Payments"): both ways in, INVITE (entry.ts) and REFER (refer-entry.ts), ask it. It reads
 * the transaction per SIP profile (the configured one, or `api` for a handoff code), checks the
 * signature, replay and the SMS template's field limits, and answers the validated transaction or
 * the refusal to send (`400` + Warning naming the field, and so on).
 */
export class PaymentGate {
  readonly #replay = new ReplayGuard();

  constructor(
    private readonly payments: Pick<Payments, 'payment' | 'otpTemplate'>,
    private readonly profiles: { configured: LoadedProfile; api: LoadedProfile },
    private readonly codes: HandoffCodeStore,
  ) {}

  /** The pay URI's users: `pay`, `pay-<code>`. */
  static isPayUser(user: string): boolean {
    return user === 'pay' || PAY_CODE.test(user);
  }

  /** The profile a request is read with: `api` when it carries a handoff code. */
  profileFor(req: Pick<PaymentRequest, 'user' | 'headers'>): LoadedProfile {
    const viaCode = PAY_CODE.test(req.user) || req.headers('x-pay-handoff') !== undefined;
    return viaCode ? this.profiles.api : this.profiles.configured;
  }

  /** May this request start a payment, and with which transaction? */
  async admit(req: PaymentRequest): Promise<HandoffResult & { profile: string }> {
    const loaded = this.profileFor(req);
    const r = await extractHandoff(
      loaded.profile,
      { headers: req.headers, requestUriUser: req.user, ...(req.referToHeaders ? { referToHeaders: req.referToHeaders } : {}) },
      {
        replay: this.#replay,
        codes: this.codes,
        lookupTransaction: (ref) => this.payments.payment.lookupTransaction(ref),
        limits: smsFieldLimits(this.payments.otpTemplate),
        ...(loaded.signingKey ? { signingKey: loaded.signingKey } : {}),
      },
    );
    return { ...r, profile: loaded.profile.name };
  }
}

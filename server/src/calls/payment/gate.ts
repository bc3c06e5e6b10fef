import { extractHandoff, HandoffCodeError, HandoffStoreUnavailable, ReplayGuard, type DidPool, type HandoffCodeStore, type HandoffResult, type LoadedProfile } from '../../handoff/index.js';
import type { SipFlow } from '../../sip/transport/types.js';
import type { PaymentAdmission, Refusal } from '../../handoff/admission.js';
import type { Payments } from './setup.js';
import { smsFieldLimits } from './setup.js';
import type { NumberPlan } from '../../config/number-plan.js';
import type { LoadRefusal, LoadRequestKind } from '../load/decide.js';

/** A request asking to start a payment: an INVITE to the pay URI or an agent's in-dialog REFER. */
export interface PaymentRequest {
  readonly kind: 'invite' | 'refer';
  /** The pay URI's user part: `pay`, `pay-<code>` or a DID the number plan routes to pay. */
  readonly user: string;
  /** A header of the request (INVITE) or an X- header of the REFER, by name. */
  readonly headers: (name: string) => string | undefined;
  /** URI headers inside Refer-To (REFER only). */
  readonly referToHeaders?: Record<string, string>;
  /** The flow the request arrived on (its peer's address or connection). */
  readonly flow: SipFlow;
  /** The Request-URI and Call-ID the v2 signature covers (INVITE only; docs/security.md). */
  readonly requestUri?: string;
  readonly callId?: string;
  /** Headers identifying the caller (From, P-Asserted-Identity) when not `headers`: a REFER's customer INVITE. */
  readonly callerHeaders?: (name: string) => string | undefined;
}

/** The profiles a gate reads with: the configured one, `api` for handoff codes, and those the number plan's pay entries name. */
export interface GateProfiles {
  readonly configured: LoadedProfile;
  readonly api: LoadedProfile;
  readonly named?: ReadonlyMap<string, LoadedProfile>;
}

const escapeRe = (s: string): string => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/** The transaction, a handoff error (400 + Warning naming the field) or an admission refusal. */
export type GateResult = (HandoffResult | { ok: false; refusal: Refusal }) & { profile: string };

/**
 * The one place that decides whether a request may start a payment (docs/architecture.md,
 * "Payments"): both ways in, INVITE (entry.ts) and REFER (refer-entry.ts), ask it. It reads
 * the transaction per SIP profile (the configured one, or `api` for a handoff code), checks the
 * signature, replay and the SMS template's field limits, and answers the validated transaction or
 * the refusal to send (`400` + Warning naming the field, and so on).
 */
export class PaymentGate {
  readonly #replay = new ReplayGuard();
  /** `<requestUriPrefix><code>`: the api profile's prefix (sip-profiles/api.json), a 12-character or 16-digit code (handoff/codes.ts). */
  readonly #payCode: RegExp;

  constructor(
    private readonly payments: Pick<Payments, 'payment' | 'otpTemplate' | 'smsTemplates' | 'languages'>,
    private readonly profiles: GateProfiles,
    private readonly codes: HandoffCodeStore,
    /** TRUSTED_PEERS, velocity limits, production signatures (handoff/admission.ts, docs/security.md). */
    private readonly admission?: PaymentAdmission,
    /** Which DIDs pay, and with which profile (config/number-plan.ts). */
    private readonly plan?: NumberPlan,
    /** Load admission (calls/load/): 503 + Retry-After when a limit would be passed. */
    private readonly load?: { admit(kind: LoadRequestKind): { refusal: LoadRefusal } | { release: () => void } },
    /** The DID pool (handoff/did-pool.ts): a transfer to a pool DID takes the transaction reserved on it, once. */
    private readonly pool?: DidPool,
  ) {
    this.#payCode = new RegExp(`^${escapeRe(profiles.api.profile.api.requestUriPrefix)}([0-9a-z]{12}|\\d{16})$`, 'i');
  }

  /** Refusal of a source before anything exists (no port, no session): TRUSTED_PEERS and per-source velocity. */
  startRefusal(flow: SipFlow): Refusal | undefined {
    return this.admission?.startRefusal(flow);
  }

  /**
   * Refusal for load (docs/operations.md, "Overload"), asked before anything exists: before the
   * handoff is read (no provider lookup, no handoff code spent) and, for a REFER, before the agent
   * is muted or the customer hears anything. 503 with Retry-After (RFC 3261 21.5.4). Admitted, the
   * request counts against the limits until `release()`, called once its call or capture is counted
   * (or it is refused later), so a burst cannot slip past a limit while handoffs are read.
   */
  admitLoad(kind: PaymentRequest['kind']): { refusal: LoadRefusal } | { release: () => void } {
    return this.load?.admit(kind === 'invite' ? 'payment-invite' : 'payment-refer') ?? { release: () => {} };
  }

  /**
   * The profile a Request-URI (or Refer-To) user pays with, or undefined when it is no payment
   * URI: `pay` (the configured profile), `<prefix><code>` (api), or a number-plan pay entry (its
   * profile, else the configured one).
   */
  payProfile(user: string): LoadedProfile | undefined {
    if (user === 'pay') return this.profiles.configured;
    if (this.#payCode.test(user)) return this.profiles.api;
    const route = this.plan?.route(user);
    if (route?.kind === 'pool') return this.profiles.api; // a handoff by DID: like a code (README, "Routing")
    if (route?.kind !== 'pay') return undefined;
    return route.profile === undefined ? this.profiles.configured : this.profiles.named?.get(route.profile) ?? this.profiles.configured;
  }

  /** Whether a user is a payment URI's (`pay`, `pay-<code>`, a pay DID). */
  isPayUser(user: string): boolean {
    return this.payProfile(user) !== undefined;
  }

  /** The profile a request is read with: `api` when it carries a handoff code (in the api profile's code header). */
  profileFor(req: Pick<PaymentRequest, 'user' | 'headers'>): LoadedProfile {
    if (req.headers(this.profiles.api.profile.api.codeHeader.toLowerCase()) !== undefined) return this.profiles.api;
    return this.payProfile(req.user) ?? this.profiles.configured;
  }

  /** May this request start a payment, and with which transaction? */
  async admit(req: PaymentRequest): Promise<GateResult> {
    const route = this.plan?.route(req.user);
    const loaded = route?.kind === 'pool' ? this.profiles.api : this.profileFor(req);
    const r = route?.kind === 'pool' ? await this.#redeemDid(route.number) : await extractHandoff(
      loaded.profile,
      {
        headers: req.headers,
        requestUriUser: req.user,
        ...(req.referToHeaders ? { referToHeaders: req.referToHeaders } : {}),
        ...(req.requestUri !== undefined ? { requestUri: req.requestUri } : {}),
        ...(req.callId !== undefined ? { callId: req.callId } : {}),
        ...(req.callerHeaders ? { callerHeaders: req.callerHeaders } : {}),
      },
      {
        ...this.admission?.handoffDeps,
        replay: this.#replay,
        codes: this.codes,
        lookupTransaction: (ref) => this.payments.payment.lookupTransaction(ref),
        limits: { ...smsFieldLimits(this.payments.smsTemplates ?? this.payments.otpTemplate), ...(this.payments.languages ? { languages: this.payments.languages } : {}) },
        ...(loaded.signingKey ? { signingKey: loaded.signingKey } : {}),
        ...(loaded.sql ? { sql: loaded.sql } : {}),
      },
    );
    if (r.ok) {
      // Mobile country, merchant and mobile velocity: before the call, the capture and any SMS.
      const late = this.admission?.transactionRefusal(r.txn, req.kind === 'invite' ? req.flow : undefined);
      if (late) return { ok: false, refusal: late, profile: loaded.profile.name };
    }
    return { ...r, profile: loaded.profile.name };
  }

  /**
   * The transaction reserved on a pool DID, taken once (any instance, with Redis). None pending
   * (never reserved, used, expired) is 404: the Request-URI is well formed (so not 400, RFC 3261
   * 21.4.1) but no payment waits at that number now (RFC 3261 21.4.4); a final 4xx also tells a
   * carrier not to retry the same number elsewhere. A stored value that is no transaction is our
   * fault: 500 (handoff/stored-txn.ts).
   */
  async #redeemDid(did: string): Promise<HandoffResult> {
    if (!this.pool) return { ok: false, error: { field: 'Request-URI', reason: 'no DID pool configured', status: 500 } };
    try {
      const txn = await this.pool.redeem(did);
      return txn ? { ok: true, txn } : { ok: false, error: { field: 'Request-URI', reason: `no pending handoff on ${did} (unreserved, used or expired)`, status: 404 } };
    } catch (err) {
      if (err instanceof HandoffCodeError) return { ok: false, error: { field: 'Request-URI', reason: err.message, status: 500 } };
      if (err instanceof HandoffStoreUnavailable) return { ok: false, error: { field: 'Request-URI', reason: `${err.message}; try again`, status: 503 } };
      throw err;
    }
  }
}

import { extractHandoff, type HandoffCodeStore, type LoadedProfile, type ReplayGuard } from '../../handoff/index.js';
import { smsFieldLimits } from './setup.js';
import type { CaptureRegistry } from './capture-registry.js';
import type { Call } from '../b2bua/call.js';
import type { ReferRequest } from '../b2bua/types.js';
import { InlinePayment, type InlineDeps } from './inline-payment.js';
import type { PaymentAdmission } from '../../handoff/admission.js';

const PAY_USER = /^pay(?:-([0-9a-z]{12}|\d{16}))?$/i;

/** The user part of a Refer-To (`<sip:pay@gw?...>` -> `pay`), or undefined. */
export function referToUser(referTo: string): string | undefined {
  const lt = referTo.indexOf('<');
  const gt = referTo.lastIndexOf('>');
  const uri = lt >= 0 && gt > lt ? referTo.slice(lt + 1, gt) : referTo.split(';')[0]!;
  return /^sips?:([^@?;>]+)@/i.exec(uri)?.[1];
}

/**
 * The agent's in-dialog REFER of a bridged call (design.md, inline mode): checked per SIP profile
 * (400 + Warning naming the field; the call goes on untouched), then an {@link InlinePayment} runs on
 * the call's customer leg. Only the agent on the call may start it (a REFER on the customer's leg
 * is 403), one at a time (a second one is 491), and only to the payment URI.
 */
export class InlinePayments {
  /** Live inline captures by capture session id (for agent commands). */
  readonly live = new Map<string, InlinePayment>();

  constructor(
    private readonly deps: InlineDeps,
    private readonly profiles: { configured: LoadedProfile; api: LoadedProfile },
    private readonly codes: HandoffCodeStore,
    private readonly replay: ReplayGuard,
    /** Where agent commands from the /events socket find the capture (shared with transfer mode). */
    private readonly captures: CaptureRegistry,
    /** Mobile country and velocity limits (docs/security.md). */
    private readonly admission?: PaymentAdmission,
  ) {}

  onRefer(call: Call, r: ReferRequest): void {
    if (r.leg !== 'B') return r.reject(403, 'only the agent on the call may start a payment');
    if (call.capture) return r.reject(491, 'a payment is already running on this call');
    const user = referToUser(r.referTo);
    const m = user ? PAY_USER.exec(user) : null;
    if (!m) return r.reject(403, 'only transfers to the payment URI (sip:pay@gateway) are taken');
    const viaCode = m[1] !== undefined || r.xHeaders['x-pay-handoff'] !== undefined;
    const loaded = viaCode ? this.profiles.api : this.profiles.configured;
    const decision = r.defer();
    const log = this.deps.logger.child({ call: call.aReq.callId, agent: call.target.agentId, mode: 'inline' });
    extractHandoff(
      loaded.profile,
      { headers: (n) => r.xHeaders[n.toLowerCase()], referToHeaders: r.referToHeaders, requestUriUser: user },
      {
        replay: this.replay,
        codes: this.codes,
        lookupTransaction: (ref) => this.deps.payments.payment.lookupTransaction(ref),
        limits: smsFieldLimits(this.deps.payments.otpTemplate),
        ...(loaded.signingKey ? { signingKey: loaded.signingKey } : {}),
      },
    )
      .then((h) => {
        if (call.ended) return decision.reject(481);
        if (!h.ok) {
          log.info({ field: h.error.field, reason: h.error.reason, profile: loaded.profile.name }, 'payment REFER refused');
          return decision.reject(h.error.status, `${h.error.field}: ${h.error.reason}`);
        }
        if (h.txn.agentId !== undefined && h.txn.agentId !== call.target.agentId) {
          return decision.reject(403, 'X-Pay-Agent-Id: not the agent on this call');
        }
        if (call.capture) return decision.reject(491, 'a payment is already running on this call');
        const refused = this.admission?.transactionRefusal(h.txn); // before any SMS (docs/security.md)
        if (refused) return decision.reject(refused.status, refused.text);
        const p = new InlinePayment(this.deps, call, r, h.txn);
        this.live.set(p.session.id, p);
        this.captures.add(p.session);
        void p.whenClosed.then(() => {
          this.live.delete(p.session.id);
          this.captures.remove(p.session);
        });
        decision.accept();
        p.start();
      })
      .catch((err: unknown) => {
        log.error({ err }, 'payment REFER handling failed');
        decision.reject(500);
      });
  }
}

import { extractHandoff, ReplayGuard, warningHeader, type HandoffCodeStore, type LoadedProfile } from '../../handoff/index.js';
import { smsFieldLimits } from './setup.js';
import type { RequestContext } from '../../sip/stack.js';
import type { IncomingRequestMessage, ServerTransaction } from '../../sip/transaction/index.js';
import type { DialogRegistry, PaymentEntry } from '../call-manager.js';
import { TransferPaymentCall, type TransferDeps } from './transfer-call.js';
import { CaptureRegistry } from './capture-registry.js';
import { refusalWarning, type PaymentAdmission } from '../../handoff/admission.js';

const PAY_CODE = /^pay-([0-9a-z]{12}|\d{16})$/i;

/**
 * INVITEs to `sip:pay@gateway` (the transaction on the INVITE, per the configured SIP profile) and
 * `sip:pay-<code>@gateway` or `X-Pay-Handoff: <code>` (profile `api`: the code from
 * `POST /api/handoffs`). Bad or missing fields: 400 with a Warning naming the field.
 */
export class PaymentCalls implements PaymentEntry {
  readonly live = new Set<TransferPaymentCall>();
  /** Live capture sessions by session id: agents' commands reach them through this. */
  readonly captures = new CaptureRegistry();
  private readonly replay = new ReplayGuard();

  constructor(
    private readonly deps: TransferDeps,
    private readonly profiles: { configured: LoadedProfile; api: LoadedProfile },
    private readonly codes: HandoffCodeStore,
    /** TRUSTED_PEERS, velocity, production signatures (docs/security.md). */
    private readonly admission?: PaymentAdmission,
  ) {}

  handles(user: string): boolean {
    return user === 'pay' || PAY_CODE.test(user);
  }

  onInvite(req: IncomingRequestMessage, txn: ServerTransaction, ctx: RequestContext, registry: DialogRegistry): void {
    const stack = this.deps.stack;
    const refused = this.admission?.startRefusal(ctx.source); // before anything exists (docs/security.md)
    if (refused) return void stack.respond(txn, refused.status, { headers: [refusalWarning(refused)] });
    if (!req.body) {
      return void stack.respond(txn, 488, { headers: ['Warning: 399 tonegate "an INVITE without an SDP offer is not supported"'] });
    }
    stack.respond(txn, 100);
    const user = req.ruri?.user ?? '';
    const viaCode = PAY_CODE.test(user) || req.getHeader('x-pay-handoff') !== undefined;
    const loaded = viaCode ? this.profiles.api : this.profiles.configured;
    let cancelled = false;
    registry.invite(txn, () => {
      cancelled = true;
      if (!txn.terminated) stack.respond(txn, 487);
    });
    extractHandoff(
      loaded.profile,
      { headers: (n) => req.getHeader(n), requestUriUser: user, requestUri: ctx.requestUri, callId: req.callId },
      {
        ...this.admission?.handoffDeps,
        replay: this.replay,
        codes: this.codes,
        lookupTransaction: (ref) => this.deps.payments.payment.lookupTransaction(ref),
        limits: smsFieldLimits(this.deps.payments.otpTemplate),
        ...(loaded.signingKey ? { signingKey: loaded.signingKey } : {}),
      },
    )
      .then((r) => {
        if (cancelled || txn.terminated) return;
        if (!r.ok) {
          this.deps.logger.info({ field: r.error.field, reason: r.error.reason, profile: loaded.profile.name }, 'payment INVITE refused');
          registry.invite(txn, undefined);
          return void stack.respond(txn, r.error.status, { headers: [`Warning: ${warningHeader(r.error, 'tonegate')}`] });
        }
        const late = this.admission?.transactionRefusal(r.txn, ctx.source); // before the call, the capture and any SMS
        if (late) return void (registry.invite(txn, undefined), stack.respond(txn, late.status, { headers: [refusalWarning(late)] }));
        const call = new TransferPaymentCall(this.deps, req, txn, r.txn, (callId, tag, owner) => registry.dialog(callId, tag, 'A', owner), this.captures);
        this.live.add(call);
        registry.invite(txn, () => call.onCancel());
        void call.start().finally(() => registry.invite(txn, undefined));
        void call.whenClosed.then(() => this.live.delete(call));
      })
      .catch((err: unknown) => {
        this.deps.logger.error({ err }, 'payment INVITE handling failed');
        registry.invite(txn, undefined);
        if (!txn.terminated) stack.respond(txn, 500);
      });
  }

  hangupAll(reason: string): void {
    for (const c of [...this.live]) c.hangup(reason);
  }
}

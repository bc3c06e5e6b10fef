import type { RequestContext } from '../../sip/stack.js';
import type { IncomingRequestMessage, ServerTransaction } from '../../sip/transaction/index.js';
import { warningHeader } from '../../sip/ua/headers.js';
import type { DialogRegistry, PaymentEntry } from '../call-manager.js';
import { CaptureRegistry } from './capture-registry.js';
import { PaymentGate } from './gate.js';
import { TransferPaymentCall, type TransferDeps } from './transfer-call.js';
import { checkCallerOffer, offerWarning } from '../offer-check.js';
import { refusalWarning } from '../../handoff/admission.js';
import { retryAfterHeader } from '../load/monitor.js';

/**
 * INVITEs to `sip:pay@gateway` (the transaction on the INVITE, per the configured SIP profile), to a
 * pay DID of the number plan (per the entry's profile; README, "Routing") and
 * `sip:pay-<code>@gateway` or `X-Pay-Handoff: <code>` (profile `api`: the code from
 * `POST /api/handoffs`; the prefix is the api profile's `requestUriPrefix`). Whether one may start a payment is the {@link PaymentGate}'s to say; bad or
 * missing fields: 400 with a Warning naming the field.
 */
export class PaymentCalls implements PaymentEntry {
  readonly live = new Set<TransferPaymentCall>();
  /** Live capture sessions by session id: agents' commands reach them through this. */
  readonly captures = new CaptureRegistry();

  constructor(
    private readonly deps: TransferDeps,
    readonly gate: PaymentGate,
  ) {}

  handles(user: string): boolean {
    return this.gate.isPayUser(user);
  }

  onInvite(req: IncomingRequestMessage, txn: ServerTransaction, ctx: RequestContext, registry: DialogRegistry): void {
    const stack = this.deps.stack;
    const refused = this.gate.startRefusal(ctx.source); // before anything exists (docs/security.md)
    if (refused) return void stack.respond(txn, refused.status, { headers: [refusalWarning(refused)] });
    if (!req.body) return void stack.respond(txn, 488, { headers: [warningHeader('an INVITE without an SDP offer is not supported')] });
    // Before the handoff is read: a single-use code is not spent on a call that cannot be answered.
    const offer = checkCallerOffer(req.body, { webrtc: false, ...(this.deps.srtpPolicy ? { srtpPolicy: this.deps.srtpPolicy } : {}) });
    if (!offer.ok) {
      this.deps.logger.info({ callId: req.callId, status: offer.status, why: offer.text }, 'payment INVITE refused: unusable offer');
      return void stack.respond(txn, offer.status, { headers: [offerWarning(offer)] });
    }
    // Load (calls/load/): after the trust and offer checks, so an untrusted source learns nothing of
    // our load; before the handoff is read, so a refused call never reaches the provider.
    const load = this.gate.admitLoad('invite');
    if ('refusal' in load) return void stack.respond(txn, 503, { headers: [retryAfterHeader(load.refusal), warningHeader(load.refusal.text)] });
    stack.respond(txn, 100);
    let cancelled = false;
    registry.invite(txn, () => {
      cancelled = true;
      if (!txn.terminated) stack.respond(txn, 487);
    });
    this.gate
      .admit({ kind: 'invite', user: req.ruri?.user ?? '', headers: (n) => req.getHeader(n), flow: ctx.source, requestUri: ctx.requestUri, callId: req.callId })
      .then((r) => {
        load.release(); // from here the call counts itself (live) or is refused
        if (cancelled || txn.terminated) return;
        if (!r.ok && 'refusal' in r) {
          // Mobile country or velocity: before the call, the capture and any SMS.
          registry.invite(txn, undefined);
          return void stack.respond(txn, r.refusal.status, { headers: [refusalWarning(r.refusal)] });
        }
        if (!r.ok) {
          this.deps.logger.info({ field: r.error.field, reason: r.error.reason, profile: r.profile }, 'payment INVITE refused');
          registry.invite(txn, undefined);
          return void stack.respond(txn, r.error.status, { headers: [warningHeader(`${r.error.field}: ${r.error.reason}`)] });
        }
        const call = new TransferPaymentCall(this.deps, req, txn, r.txn, (callId, tag, owner) => registry.dialog(callId, tag, 'A', owner), this.captures);
        this.live.add(call);
        registry.invite(txn, () => call.onCancel());
        void call.start().finally(() => registry.invite(txn, undefined));
        void call.whenClosed.then(() => this.live.delete(call));
      })
      .catch((err: unknown) => {
        load.release();
        this.deps.logger.error({ err }, 'payment INVITE handling failed');
        registry.invite(txn, undefined);
        if (!txn.terminated) stack.respond(txn, 500);
      });
  }

  hangupAll(reason: string): void {
    for (const c of [...this.live]) c.hangup(reason);
  }
}

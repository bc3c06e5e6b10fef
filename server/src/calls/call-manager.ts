import { SafeEmitter } from '../lib/emitter.js';
import type { NumberPlan } from '../config/number-plan.js';
import type { Logger } from '../observability/logger.js';
import type { Dialog } from '../sip/dialog/dialog.js';
import { inDialogSourceVerdict } from '../sip/dialog/source.js';
import { uriDestination, type RequestContext, type SipUser } from '../sip/stack.js';
import type { IncomingRequestMessage, IncomingResponseMessage, ServerTransaction } from '../sip/transaction/index.js';
import type { SipFlow } from '../sip/transport/types.js';
import { ACCEPT_SDP_HEADER, ALLOW_HEADER, SUPPORTED_NONE_HEADER, warningHeader } from '../sip/ua/headers.js';
import { Call, type CallTarget } from './b2bua/call.js';
import type { CallDeps, ReferRequest } from './b2bua/types.js';
import type { Leg } from './media-anchor.js';
import { checkCallerOffer, offerWarning } from './offer-check.js';
import type { RegistrarService } from './registrar-service.js';
import type { LoadRefusal } from './load/decide.js';
import { retryAfterHeader } from './load/monitor.js';

/** Methods we know (RFC 3261 8.2.1: 405 for these when not allowed here, 501 for unknown ones). */
const KNOWN = new Set(['INVITE', 'ACK', 'CANCEL', 'BYE', 'OPTIONS', 'REGISTER', 'INFO', 'REFER', 'NOTIFY', 'SUBSCRIBE', 'MESSAGE', 'UPDATE', 'PRACK', 'PUBLISH']);

/** Something that owns a dialog at the gateway: a bridged call's leg or a payment call. */
export interface DialogOwner {
  onInDialog(leg: Leg, req: IncomingRequestMessage, txn: ServerTransaction): void;
  onAck(leg: Leg, ack: IncomingRequestMessage): void;
  onRetransmitted2xx(): void;
  /** The dialog of `leg` once it exists: in-dialog requests are checked against its peer (sip/dialog/source.ts). */
  dialogOf(leg: Leg): Dialog | undefined;
}

/** Handles INVITEs to the payment URIs (`pay`, `pay-<code>`, pay DIDs of the number plan): calls/payment/. */
export interface PaymentEntry {
  handles(user: string): boolean;
  onInvite(req: IncomingRequestMessage, txn: ServerTransaction, ctx: RequestContext, register: DialogRegistry): void;
  hangupAll(reason: string): void;
}

export interface DialogRegistry {
  /** Registers (owner) or forgets (undefined) the dialog `callId` + our tag. */
  dialog(callId: string, localTag: string, leg: Leg, owner: DialogOwner | undefined): void;
  /** Routes a CANCEL of this INVITE transaction to `onCancel` (forget with undefined). */
  invite(txn: ServerTransaction, onCancel: (() => void) | undefined): void;
}

/** Takes the agent's in-dialog REFERs of bridged calls (calls/payment: inline payments). */
export type ReferHandler = (call: Call, refer: ReferRequest) => void;

/** What the composition root gives the call manager besides the SIP side (gateway.ts). */
export interface CallManagerOptions {
  /** INVITEs to the payment URIs (calls/payment/entry.ts). */
  readonly payments?: PaymentEntry;
  /** DIDs routed to support or a named agent (config/number-plan.ts); pay entries are the payment entry's. */
  readonly plan?: Pick<NumberPlan, 'route'>;
  /** Where REFERs inside bridged calls go (inline payments); without one they are answered 202 and left at 100 Trying. */
  readonly onRefer?: ReferHandler;
  /** Load admission of bridged INVITEs (calls/load/): a refusal is answered 503 with Retry-After. */
  readonly loadCheck?: () => LoadRefusal | undefined;
}

export interface CallManagerEvents {
  call: (call: Call) => void;
}

/**
 * The SIP transaction user: REGISTER to the registrar, out-of-dialog INVITE to a new B2BUA call,
 * in-dialog requests to their call, OPTIONS answered, the rest refused precisely.
 */
export class CallManager implements SipUser {
  readonly events: SafeEmitter<CallManagerEvents>;
  private readonly dialogs = new Map<string, { owner: DialogOwner; leg: Leg }>();
  private readonly byInviteTxn = new Map<ServerTransaction, () => void>();
  private readonly registry: DialogRegistry = {
    dialog: (callId, tag, leg, owner) => {
      const key = `${callId}|${tag}`;
      if (owner) this.dialogs.set(key, { owner, leg });
      else this.dialogs.delete(key);
    },
    invite: (txn, onCancel) => {
      if (onCancel) this.byInviteTxn.set(txn, onCancel);
      else this.byInviteTxn.delete(txn);
    },
  };
  readonly calls = new Set<Call>();
  private readonly busy = new Map<string, number>();
  private lastPicked = new Map<string, number>();
  private pickSeq = 0;

  constructor(
    private readonly deps: CallDeps,
    private readonly registrar: RegistrarService,
    private readonly log: Logger,
    private readonly options: CallManagerOptions = {},
  ) {
    this.events = new SafeEmitter((err, ev) => log.error({ err, ev }, 'call manager listener failed'));
  }

  onRequest(req: IncomingRequestMessage, txn: ServerTransaction, ctx: RequestContext): void {
    const stack = this.deps.stack;
    if (req.toTag) {
      const d = this.dialogs.get(`${req.callId}|${req.toTag}`);
      if (!d) return void stack.respond(txn, 481);
      // Only the leg's own connection / peer address may act in its dialog (sip/dialog/source.ts):
      // anyone else gets 403 (RFC 3261 21.4.4) and nothing changes.
      const dialog = d.owner.dialogOf(d.leg);
      const verdict = dialog ? inDialogSourceVerdict(dialog, ctx.source) : { ok: true as const };
      if (!verdict.ok) {
        this.log.warn({ method: req.method, callId: req.callId, leg: d.leg, source: ctx.source.id, reason: verdict.reason }, 'in-dialog request from a foreign source refused');
        return void stack.respond(txn, 403, { reason: 'Not From Dialog Peer' });
      }
      return d.owner.onInDialog(d.leg, req, txn);
    }
    switch (req.method) {
      case 'REGISTER': {
        const from = { source: ctx.source.remote.address, requestUri: ctx.requestUri };
        if (!this.registrar.shared) {
          const r = this.registrar.handle(req, txn.flow.id, from);
          return void stack.respond(txn, r.status, { ...(r.reason ? { reason: r.reason } : {}), headers: r.headers ?? [] });
        }
        return void this.registrar.handleShared(req, txn.flow.id, from).then(
          (r) => stack.respond(txn, r.status, { ...(r.reason ? { reason: r.reason } : {}), headers: r.headers ?? [] }),
          (err: unknown) => {
            this.log.error({ err }, 'REGISTER failed');
            stack.respond(txn, 500);
          },
        );
      }
      case 'INVITE':
        return this.onInvite(req, txn, ctx);
      case 'OPTIONS':
        return void stack.respond(txn, 200, { headers: [ALLOW_HEADER, ACCEPT_SDP_HEADER, SUPPORTED_NONE_HEADER] });
      case 'BYE':
      case 'INFO':
      case 'REFER':
      case 'NOTIFY':
      case 'UPDATE':
      case 'PRACK':
        // Outside any dialog we know (RFC 3261 12.2.2).
        return void stack.respond(txn, 481);
      default:
        return void stack.respond(txn, KNOWN.has(req.method) ? 405 : 501, { headers: [ALLOW_HEADER] });
    }
  }

  private onInvite(req: IncomingRequestMessage, txn: ServerTransaction, ctx: RequestContext): void {
    const stack = this.deps.stack;
    // RFC 3261 16.3 step 3 (we forward, so we are bound by it): Max-Forwards 0 -> 483.
    if (ctx.maxForwards === 0) return void stack.respond(txn, 483);
    const dialled = req.ruri?.user ?? '';
    const payments = this.options.payments;
    if (payments?.handles(dialled)) return payments.onInvite(req, txn, ctx, this.registry);
    // Load (docs/operations.md, "Overload"): before any routing, so the 503 says nothing of agents.
    const busy = this.options.loadCheck?.();
    if (busy) return void stack.respond(txn, 503, { headers: [retryAfterHeader(busy), warningHeader(busy.text)] });
    // A DID of the number plan stands for support or one agent (README, "Routing").
    const routed = this.options.plan?.route(dialled);
    const user = routed?.kind === 'support' ? 'support' : routed?.kind === 'agent' ? routed.agent : dialled;
    // The agents' bindings may have been registered through another gateway (README, "Redis,
    // metrics, audit"): read them first; with Redis down, this gateway's last view serves.
    if (!this.registrar.shared) return this.routeInvite(req, txn, user);
    void this.registrar.refresh(user === 'support' ? undefined : user).then(
      () => this.routeInvite(req, txn, user),
      (err: unknown) => {
        this.log.warn({ err: err instanceof Error ? err.message : String(err), user }, 'registration directory unavailable: routing on this gateway\'s bindings');
        this.routeInvite(req, txn, user);
      },
    );
  }

  private routeInvite(req: IncomingRequestMessage, txn: ServerTransaction, user: string): void {
    const stack = this.deps.stack;
    if (txn.terminated) return; // cancelled while the bindings were read
    // RFC 3261 8.2.2.1: the Request-URI before the content. An unknown user gets the same 480 as an
    // agent who is not registered, whatever the offer, so no answer tells which agent ids exist
    // (docs/security.md). Then an offer the call could not use is refused before any agent is picked
    // or rung, even when none is free (calls/offer-check.ts). No body at all is refused just below.
    if (user !== 'support' && !this.reachable(user)) return void stack.respond(txn, 480);
    if (req.body) {
      const offer = checkCallerOffer(req.body, { webrtc: true, ...(this.deps.srtpPolicy ? { srtpPolicy: this.deps.srtpPolicy } : {}) });
      if (!offer.ok) {
        this.log.info({ callId: req.callId, status: offer.status, why: offer.text }, 'INVITE refused: unusable offer');
        return void stack.respond(txn, offer.status, { headers: [offerWarning(offer)] });
      }
    }
    const target = this.route(user);
    if (typeof target === 'number') return void stack.respond(txn, target);
    if (!req.body) {
      return void stack.respond(txn, 488, { headers: [warningHeader('an INVITE without an SDP offer is not supported')] });
    }
    stack.respond(txn, 100);
    const call = new Call(this.deps, req, txn, target, (callId, tag, leg, c) => this.registry.dialog(callId, tag, leg, c));
    this.calls.add(call);
    this.registry.invite(txn, () => call.onCancel());
    this.busy.set(target.agentId, (this.busy.get(target.agentId) ?? 0) + 1);
    let agentFree = false;
    const freeAgent = (): void => {
      if (agentFree) return;
      agentFree = true;
      const n = (this.busy.get(target.agentId) ?? 1) - 1;
      if (n > 0) this.busy.set(target.agentId, n);
      else this.busy.delete(target.agentId);
    };
    const onRefer = this.options.onRefer;
    if (onRefer) call.events.on('refer', (r) => onRefer(call, r));
    // An agent who left during an inline capture can take calls while it finishes.
    call.events.on('agentGone', freeAgent);
    call.events.on('ended', () => {
      this.calls.delete(call);
      this.registry.invite(txn, undefined);
      freeAgent();
    });
    this.events.emit('call', call);
    call.start().catch((err: unknown) => {
      this.log.error({ err }, 'call start failed');
      call.hangup('start failed');
    });
  }

  /** An agent id that is known and registered; anything else is answered like an absent agent. */
  private reachable(user: string): boolean {
    return this.registrar.isAgent(user) && this.registrar.reachable(user).length > 0;
  }

  /** Request-URI user -> the agent to ring, or a status (480 unknown, unregistered or nobody free; 486 busy). */
  private route(user: string): CallTarget | number {
    const reg = this.registrar.registrar;
    if (user === 'support') {
      const free = reg.registeredAors().filter((a) => !this.busy.has(a) && this.registrar.reachable(a).length > 0);
      if (free.length === 0) return 480;
      // Least recently offered agent first, so calls spread over the free agents.
      free.sort((a, b) => (this.lastPicked.get(a) ?? 0) - (this.lastPicked.get(b) ?? 0));
      return this.targetOf(free[0]!) ?? 480;
    }
    // Unknown users get what an unregistered agent gets, so agent ids cannot be enumerated (docs/security.md).
    if (!this.reachable(user)) return 480;
    if (this.busy.has(user)) return 486;
    return this.targetOf(user) ?? 480;
  }

  private targetOf(agentId: string): CallTarget | undefined {
    const b = this.registrar.reachable(agentId);
    const latest = b[b.length - 1];
    if (!latest) return undefined;
    this.lastPicked.set(agentId, ++this.pickSeq);
    const webrtc = latest.params?.['+sip.ice'] !== undefined;
    // Registered through a proxy that added Path (RFC 3327 5.5): the INVITE goes there with the
    // Path as its Route set, whichever gateway took the REGISTER.
    if (latest.path?.length) return { agentId, contactUri: latest.uri, flowId: '', webrtc, route: latest.path };
    // Connection-oriented registrations (TCP, WS) are reached back over their connection (RFC 5626
    // flavour, RFC 7118 5: a browser cannot be dialled). A UDP agent is reached at its Contact when
    // that names an IP address (RFC 3261 10.3), else at the address it registered from.
    const udpContact = latest.flowId.startsWith('udp:') && uriDestination(latest.uri) !== undefined;
    // A browser agent says it does ICE (RFC 5768 `+sip.ice` Contact feature tag, as JsSIP does and
    // the widget asks sip.js to): its media leg is WebRTC (DTLS-SRTP), not plain RTP.
    return { agentId, contactUri: latest.uri, flowId: udpContact ? '' : latest.flowId, webrtc };
  }

  onAck(ack: IncomingRequestMessage, flow: SipFlow): void {
    const d = this.dialogs.get(`${ack.callId}|${ack.toTag}`);
    if (!d) return;
    const dialog = d.owner.dialogOf(d.leg);
    // An ACK has no response (RFC 3261 17.1.1.3): one from a foreign source is dropped.
    if (dialog && !inDialogSourceVerdict(dialog, flow).ok) {
      this.log.warn({ method: 'ACK', callId: ack.callId, leg: d.leg, source: flow.id }, 'in-dialog ACK from a foreign source dropped');
      return;
    }
    d.owner.onAck(d.leg, ack);
  }

  onCancel(target: ServerTransaction): void {
    const onCancel = this.byInviteTxn.get(target);
    if (onCancel) onCancel();
    else if (!target.terminated) this.deps.stack.respond(target, 487);
  }

  onUnmatched2xx(res: IncomingResponseMessage): void {
    const d = this.dialogs.get(`${res.callId}|${res.fromTag}`);
    if (d && d.leg === 'B') d.owner.onRetransmitted2xx();
  }

  onFlowClosed(flow: SipFlow): void {
    const n = this.registrar.dropFlow(flow.id);
    if (n) this.log.info({ flow: flow.id, bindings: n }, 'connection closed: its registrations are gone');
    // A leg's in-dialog requests go on the flow it was set up on, and a browser cannot be dialled
    // back (RFC 7118 5): once that connection is gone the leg is unreachable, so end its call
    // rather than leave the other side in silence and the agent marked busy.
    for (const call of [...this.calls]) {
      if (call.aFlow.id === flow.id || call.bFlow?.id === flow.id) call.hangup('connection closed');
    }
  }

  /** Ends every call (shutdown). */
  hangupAll(reason: string): void {
    for (const c of [...this.calls]) c.hangup(reason);
    this.options.payments?.hangupAll(reason);
  }
}

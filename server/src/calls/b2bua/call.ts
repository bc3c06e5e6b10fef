import { SafeEmitter } from '../../lib/emitter.js';
import type { TimerHandle } from '../../lib/clock.js';
import { InvalidStateError } from '../../lib/errors.js';
import { retransmit2xxUntilAck } from '../../sip/dialog/uas-2xx.js';
import { Dialog } from '../../sip/dialog/dialog.js';
import { newTag } from '../../sip/dialog/ids.js';
import type { IncomingRequestMessage, IncomingResponseMessage, ServerTransaction } from '../../sip/transaction/index.js';
import type { SipFlow } from '../../sip/transport/types.js';
import { ALLOW_HEADER, contactHeader, warningHeader } from '../../sip/ua/headers.js';
import { MediaAnchor, type Leg } from '../media-anchor.js';
import { watchMedia } from '../media-watch.js';
import { negotiateAsUas, uacOfferHeaders } from '../../sip/dialog/session-timer.js';
import { CallSessionTimers } from './session-timers.js';
import { CallState, nextCallState, type CallAction, type CallEvent } from './call-state.js';
import { AgentLeg } from './agent-leg.js';
import { InDialog } from './in-dialog.js';
import { firstHop, routeHeaders, type CallDeps, type CallEvents, type CallTarget } from './types.js';

const SDP = 'application/sdp';

export type { CallTarget } from './types.js';

/**
 * One bridged call: the caller's INVITE (leg A, we are its UAS) and our INVITE to the agent
 * (leg B, we are its UAC), driven by the pure table in call-state.ts.
 */
export class Call {
  readonly id: string;
  readonly events: SafeEmitter<CallEvents>;
  state = CallState.Calling;
  readonly aTag = newTag();
  aDialog: Dialog | undefined;
  aFlow: SipFlow;
  /** Leg B: our INVITE to the agent and its dialog. */
  readonly agent: AgentLeg;
  media: MediaAnchor | undefined;
  readonly inDialog: InDialog;
  /** The inline payment running on this call (calls/payment sets it; cleared by captureDone()). */
  capture: { onAgentGone(): void } | undefined;
  /** Status sent to the caller when the agent leg fails (reject-a). */
  private rejectStatus = 480;
  private rejectReason: string | undefined;
  /** Extra header fields of reject-a (RFC 4028 8.1: Min-SE in a 422). */
  private rejectHeaders: string[] = [];
  /** RFC 4028 on both legs (session-timers.ts); undefined when SESSION_EXPIRES_S is not configured. */
  readonly sessions: CallSessionTimers | undefined;
  private final2xx: string | undefined;
  private provisional: IncomingResponseMessage | undefined;
  private answer: IncomingResponseMessage | undefined;
  private timers: TimerHandle[] = [];
  private endedReason = '';

  constructor(
    private readonly deps: CallDeps,
    readonly aReq: IncomingRequestMessage,
    readonly aTxn: ServerTransaction,
    readonly target: CallTarget,
    private readonly onDialog: (callId: string, localTag: string, leg: Leg, call: Call | undefined) => void,
  ) {
    this.id = `${aReq.callId}|${this.aTag}`;
    this.aFlow = aTxn.flow;
    this.events = new SafeEmitter<CallEvents>((err, ev) => deps.logger.error({ err, ev, call: this.id }, 'call listener failed'));
    this.inDialog = new InDialog(this, deps);
    this.sessions = deps.sessionTimers && new CallSessionTimers({
      clock: deps.clock,
      log: this.log,
      sendRefresh: (leg, method, headers, done) => this.inDialog.sendRefresh(leg, method, headers, done),
      expire: (reason) => this.guard(() => {
        this.log.warn({ reason }, 'session timer expired: ending the call (RFC 4028 10)');
        this.hangup(reason);
      }),
    }, deps.sessionTimers);
    this.agent = new AgentLeg(deps, {
      onProvisional: (res) => {
        if (this.state === CallState.Calling || this.state === CallState.Ringing) this.provisional = res;
        this.dispatch('b.provisional');
      },
      onAnswered: (res, dialogIsNew) => {
        if (dialogIsNew) this.registerAgentDialog(this);
        if (dialogIsNew) this.sessions?.agreeB(res); // RFC 4028 7.2: the agent's 2xx says interval and refresher
        this.answer = res;
        this.dispatch('b.answered');
      },
      onRejected: (res) => {
        const code = res.statusCode ?? 0;
        this.rejectStatus = code === 401 || code === 407 ? 480 : code;
        this.rejectReason = code === 401 || code === 407 ? undefined : res.reasonPhrase;
        this.dispatch('b.rejected');
      },
      onFailed: (status, why) => this.bFailed(status, why),
    }, (fn) => this.guard(fn));
  }

  get bDialog(): Dialog | undefined {
    return this.agent.dialog;
  }

  get bFlow(): SipFlow | undefined {
    return this.agent.flow;
  }

  /** Registers (`owner`) or forgets (undefined) the agent's dialog with the call manager. */
  private registerAgentDialog(owner: Call | undefined): void {
    const k = this.agent.dialogKey;
    if (k) this.onDialog(k.callId, k.tag, 'B', owner);
  }

  get ended(): boolean {
    return this.state === CallState.Ended;
  }

  get log() {
    return this.deps.logger.child({ call: this.aReq.callId, agent: this.target.agentId });
  }

  /** Starts the agent leg. The caller has already been sent 100 Trying. */
  async start(): Promise<void> {
    if (this.deps.sessionTimers) {
      // RFC 4028 8.1: a Session-Expires below our Min-SE gets 422 with Min-SE, before any media is taken.
      const d = negotiateAsUas(this.aReq, this.deps.sessionTimers);
      if (d.kind === 'too-small') {
        this.rejectHeaders = [`Min-SE: ${d.minSe}`];
        return this.fail(422, 'Session Interval Too Small');
      }
      this.sessions!.agreeA(d, this.aReq);
    }
    try {
      this.media = await MediaAnchor.create({
        id: this.id,
        createBridge: this.deps.createBridge,
        logger: this.deps.logger,
        onMediaFailure: (reason) => this.guard(() => this.hangup(reason)),
        mediaAddress: this.deps.mediaAddress,
        ...(this.deps.srtpPolicy ? { srtpPolicy: this.deps.srtpPolicy } : {}),
      });
    } catch (err) {
      this.log.warn({ err }, 'no media for the call');
      return this.fail(503, 'media unavailable');
    }
    if (this.stale()) {
      void this.media.close();
      return;
    }
    let offer;
    try {
      offer = await this.media.initialOffer(this.aReq.body, this.target.webrtc === true);
    } catch (err) {
      this.log.warn({ err }, 'media for the agent leg could not be prepared');
      return this.fail(503, 'media unavailable');
    }
    if (this.stale()) return;
    if (typeof offer !== 'string') return this.fail(offer.status, offer.error);
    let flow: SipFlow;
    try {
      flow = await this.deps.stack.flowFor(firstHop(this.target));
    } catch (err) {
      this.log.warn({ err }, 'agent unreachable');
      return this.fail(480, 'agent unreachable');
    }
    if (this.stale()) return;
    this.inDialog.sdpSent('B', offer);
    // RFC 4028 7.1: we support timer and ask the agent to refresh.
    this.agent.send(flow, this.aReq, this.target, offer, [...routeHeaders(this.target), ...(this.deps.sessionTimers ? uacOfferHeaders(this.deps.sessionTimers) : [])]);
    this.timers.push(this.deps.clock.setTimeout(() => this.ringTimeout(), this.deps.ringTimeoutMs));
  }

  /** After an await: the caller cancelled (or the call ended) while we were setting up. */
  private stale(): boolean {
    if (this.state === CallState.Calling) return false;
    if (this.state === CallState.Cancelling) this.dispatch('b.rejected');
    return true;
  }

  /** A request inside one of this call's dialogs. */
  onInDialog(leg: Leg, req: IncomingRequestMessage, txn: ServerTransaction): void {
    this.inDialog.onRequest(leg, req, txn);
  }

  /** A 2xx to our INVITE whose transaction is already gone: re-ACK it (RFC 3261 13.2.2.4). */
  onRetransmitted2xx(): void {
    this.dispatch('b.answered');
  }

  private bFailed(status: number, why: string): void {
    this.log.info({ status, why }, 'agent leg failed');
    this.rejectStatus = status === 408 ? 480 : status;
    this.rejectReason = why;
    this.dispatch('b.timeout');
  }

  private ringTimeout(): void {
    if (this.state !== CallState.Calling && this.state !== CallState.Ringing) return;
    this.rejectStatus = 480;
    this.rejectReason = 'no answer';
    this.dispatch('hangup');
  }

  /** The caller's CANCEL (already answered 200 by the stack). */
  onCancel(): void {
    this.dispatch('a.cancel');
  }

  /** ACK for our 2xx to the caller, or for a 2xx to a re-INVITE on either leg. */
  onAck(leg: Leg, ack: IncomingRequestMessage): void {
    if (leg === 'A' && ack.cseq === this.aReq.cseq) {
      if (this.state === CallState.Answered || this.state === CallState.ByeAfterAck) this.dispatch('a.ack');
      return;
    }
    this.inDialog.onAck(leg, ack);
  }

  /** The agent's BYE: with a capture running the customer stays (AgentGone), else both legs end. */
  onAgentBye(): void {
    if (!this.capture || this.state !== CallState.Confirmed) return this.dispatch('b.bye');
    this.dispatch('b.bye-in-capture');
    this.registerAgentDialog(undefined);
    this.agent.forgetDialog();
    this.events.emit('agentGone');
    this.capture.onAgentGone();
  }

  /** The inline payment is over: with the agent gone, the customer is hung up on now. */
  captureDone(): void {
    this.capture = undefined;
    if (this.state === CallState.AgentGone) this.dispatch('capture.done');
  }

  /** Something outside the call ends it (shutdown, media failure). */
  hangup(reason: string): void {
    this.endedReason ||= reason;
    if (!this.ended) this.dispatch('hangup');
  }

  /** A live call can't take a given event any more: log it instead of throwing into the stack. */
  dispatch(ev: CallEvent): void {
    let tr;
    try {
      tr = nextCallState(this.state, ev);
    } catch (err) {
      if (err instanceof InvalidStateError) {
        this.log.debug({ state: this.state, ev }, 'event ignored in this call state');
        return;
      }
      throw err;
    }
    const from = this.state;
    this.state = tr.state;
    for (const a of tr.actions) this.guard(() => this.perform(a));
    if (from !== this.state && this.state === CallState.Confirmed) {
      this.watchMedia();
      this.sessions?.start();
    }
    if (from !== this.state) this.events.emit('state', this.state);
  }

  /**
   * Media inactivity (calls/media-watch.ts): once the call is confirmed, a leg that sends no RTP
   * for MEDIA_TIMEOUT_S ends it with BYE on both legs; a lost BYE (RFC 3261 15) cannot leave it open.
   */
  private watchMedia(): void {
    const media = this.media;
    if (!media || !this.deps.mediaTimeoutMs) return;
    const w = watchMedia({
      clock: this.deps.clock,
      timeoutMs: this.deps.mediaTimeoutMs,
      stats: () => media.bridge.stats(),
      exempt: () => media.onHold,
      onTimeout: (leg, ms) => this.guard(() => {
        const reason = `media timeout: no RTP from the ${leg} leg for ${Math.round(ms / 1000)} s`;
        this.log.warn({ leg, silentMs: ms }, `${reason}: ending the call`);
        this.hangup(reason);
      }),
      onError: (err) => this.log.debug({ err }, 'media watch stopped: bridge stats unavailable'),
    });
    this.timers.push({ cancel: () => w.stop() });
  }

  private guard(fn: () => void): void {
    try {
      fn();
    } catch (err) {
      this.log.error({ err }, 'call action failed; ending the call');
      if (!this.ended) {
        this.state = CallState.Ended;
        this.release();
      }
    }
  }

  private perform(a: CallAction): void {
    const stack = this.deps.stack;
    switch (a) {
      case 'relay-provisional': {
        const p = this.provisional;
        if (!p || this.aTxn.terminated) return;
        this.provisional = undefined;
        stack.respond(this.aTxn, p.statusCode ?? 183, { toTag: this.aTag, reason: p.reasonPhrase, headers: [contactHeader(stack.via(this.aFlow, this.aReq.ruri?.toString()))] });
        return;
      }
      case 'answer-a':
        return this.answerA();
      case 'reject-a':
        if (!this.aTxn.terminated) stack.respond(this.aTxn, this.rejectStatus, { toTag: this.aTag, headers: this.rejectHeaders, ...(this.rejectReason ? { reason: this.rejectReason } : {}) });
        return;
      case 'reject-a-487':
        if (!this.aTxn.terminated) stack.respond(this.aTxn, 487, { toTag: this.aTag });
        return;
      case 'cancel-b':
        return this.agent.cancel();
      case 'ack-b':
        return this.agent.ackAnswer();
      case 'bye-a':
        return this.inDialog.sendBye('A');
      case 'bye-b':
        return this.inDialog.sendBye('B');
      case 'release':
        return this.release();
    }
  }

  private answerA(): void {
    const res = this.answer!;
    this.media!.initialAnswer(res.body).then(
      (sdp) => this.guard(() => this.answerAWith(sdp)),
      (err: unknown) => this.guard(() => this.answerAWith({ error: `agent answer failed: ${(err as Error).message}`, status: 488 })),
    );
  }

  private answerAWith(sdp: string | { error: string; status: number }): void {
    if (this.state !== CallState.Answered && this.state !== CallState.ByeAfterAck) return; // ended meanwhile
    if (typeof sdp !== 'string') {
      // The agent answered with SDP we cannot use: end both sides cleanly (RFC 3261 14.2 / 488).
      this.log.warn({ err: sdp.error }, 'agent answer unusable');
      this.rejectStatus = 488;
      this.rejectReason = sdp.error;
      this.inDialog.sendBye('B'); // its 2xx was ACKed on arrival (call-state.ts, 'b.answered')
      this.deps.stack.respond(this.aTxn, 488, { toTag: this.aTag, headers: [warningHeader(sdp.error)] });
      this.state = CallState.Ended;
      this.release();
      return;
    }
    this.aDialog = Dialog.asUas(this.aReq, this.aTag, this.aFlow.id);
    this.onDialog(this.aReq.callId, this.aTag, 'A', this);
    this.final2xx = this.deps.stack.respond(this.aTxn, 200, {
      toTag: this.aTag,
      headers: [contactHeader(this.deps.stack.via(this.aFlow, this.aReq.ruri?.toString())), ALLOW_HEADER, ...(this.sessions?.answerHeaders('A') ?? []).map(([k, v]) => `${k}: ${v}`)],
      body: { contentType: SDP, content: sdp },
    });
    this.inDialog.sdpSent('A', sdp);
    this.retransmit2xx(this.aTxn, this.final2xx, () => this.state === CallState.Answered || this.state === CallState.ByeAfterAck, () => this.dispatch('ack.timeout'));
  }

  /** RFC 3261 13.3.1.4 through the shared helper; the timer dies with the call. */
  retransmit2xx(txn: ServerTransaction, text: string, waiting: () => boolean, giveUp: () => void): void {
    this.timers.push(
      retransmit2xxUntilAck(this.deps.clock, txn, text, () => waiting() && !this.ended, () => {
        this.log.warn('no ACK for our 2xx: tearing the call down (RFC 3261 13.3.1.4)');
        this.endedReason ||= 'no ACK for our 2xx within 64*T1 (RFC 3261 13.3.1.4, RFC 6026 Timer L)';
        giveUp();
      }),
    );
  }

  private release(): void {
    for (const t of this.timers) t.cancel();
    this.timers = [];
    this.sessions?.stop();
    this.inDialog.close();
    void this.media?.close();
    this.onDialog(this.aReq.callId, this.aTag, 'A', undefined);
    this.registerAgentDialog(undefined);
    this.events.emit('ended', this.endedReason || 'normal');
    this.events.removeAll();
  }

  private fail(status: number, reason: string): void {
    this.rejectStatus = status;
    this.rejectReason = reason;
    this.dispatch('b.rejected');
  }

  /** The dialog of a leg (CallManager checks in-dialog sources against it). */
  dialogOf(leg: Leg): Dialog | undefined {
    return leg === 'A' ? this.aDialog : this.bDialog;
  }

  /** The dialog and flow of a leg (for in-dialog requests). */
  leg(leg: Leg): { dialog: Dialog | undefined; flow: SipFlow | undefined } {
    return leg === 'A' ? { dialog: this.aDialog, flow: this.aFlow } : { dialog: this.agent.dialog, flow: this.agent.flow };
  }
}

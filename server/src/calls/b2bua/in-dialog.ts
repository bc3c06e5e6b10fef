import type { TimerHandle } from '../../lib/clock.js';
import { reasonPhrase } from '../../sip/message/index.js';
import type { IncomingRequestMessage, IncomingResponseMessage, ServerTransaction } from '../../sip/transaction/index.js';
import { ACCEPT_SDP_HEADER, ALLOW_HEADER, contactHeader, RECV_INFO_NONE_HEADER, warningHeader } from '../../sip/ua/headers.js';
import { requestInDialog, type FinalResponse } from '../../sip/ua/in-dialog.js';
import { BRIDGE_LEG, otherLeg, type Leg } from '../media-anchor.js';
import { CallState } from './call-state.js';
import { forgetInfoBody, parseInfoDigit } from './info-dtmf.js';
import { parseRefer } from './refer.js';
import type { CallDeps, InDialogHost } from './types.js';

const SDP = 'application/sdp';

/**
 * Requests inside an established call: BYE, re-INVITE (hold/resume) relayed to the other leg,
 * REFER (RFC 3515) and INFO (RFC 6086) handed up, OPTIONS answered.
 */
export class InDialog {
  /** A re-INVITE relayed from one leg to the other, waiting for the other's answer (RFC 3261 14). */
  private reinvite: { from: Leg; txn: ServerTransaction; cseq: number; req: IncomingRequestMessage } | undefined;
  /** The SDP each leg's peer last got from us (offer or answer): a refresh re-INVITE resends it unchanged (RFC 3264 8). */
  private readonly lastSdp: Partial<Record<Leg, string>> = {};
  /** CSeq of 2xx responses to re-INVITEs we sent to a leg and await the ACK for. */
  private awaitingAck = new Map<Leg, number>();
  private referSeq = 0;
  private timers: TimerHandle[] = [];
  private closed = false;

  constructor(
    private readonly call: InDialogHost,
    private readonly deps: CallDeps,
  ) {}

  /** The SDP just sent to `leg`'s peer (call.ts: the caller's 200, the agent's INVITE). */
  sdpSent(leg: Leg, sdp: string): void {
    this.lastSdp[leg] = sdp;
  }

  /** Session-timer headers for a 2xx on `leg` (RFC 4028 9), as header lines. */
  private timerLines(leg: Leg): string[] {
    return (this.call.sessions?.answerHeaders(leg) ?? []).map(([k, v]) => `${k}: ${v}`);
  }

  close(): void {
    this.closed = true;
    for (const t of this.timers) t.cancel();
    this.timers = [];
  }

  /** Handles a request that arrived inside the dialog of `leg`. */
  onRequest(leg: Leg, req: IncomingRequestMessage, txn: ServerTransaction): void {
    const stack = this.deps.stack;
    const { dialog } = this.call.leg(leg);
    if (!dialog || this.call.ended) return void stack.respond(txn, 481);
    // RFC 3261 12.2.2: a lower CSeq than the last one is out of order.
    if (!dialog.acceptRemoteCSeq(req.cseq, req.method)) return void stack.respond(txn, 500, { reason: 'Out Of Order' });
    switch (req.method) {
      case 'BYE':
        stack.respond(txn, 200);
        return leg === 'A' ? this.call.dispatch('a.bye') : this.call.onAgentBye();
      case 'INVITE':
        return this.onReinvite(leg, req, txn);
      case 'INFO':
        return this.onInfo(leg, req, txn);
      case 'UPDATE':
        return this.onUpdate(leg, req, txn);
      case 'REFER':
        return this.onRefer(leg, req, txn);
      case 'OPTIONS':
        return void stack.respond(txn, 200, { headers: [ALLOW_HEADER, ACCEPT_SDP_HEADER] });
      case 'NOTIFY':
        // We never subscribe to anything inside a call (RFC 6665 4.1.3: 481 for an unknown subscription).
        return void stack.respond(txn, 481);
      default:
        return void stack.respond(txn, 405, { headers: [ALLOW_HEADER] });
    }
  }

  private onReinvite(leg: Leg, req: IncomingRequestMessage, txn: ServerTransaction): void {
    const stack = this.deps.stack;
    if (this.call.state !== CallState.Confirmed) return void stack.respond(txn, 491);
    // RFC 3261 14.2: a re-INVITE while another is in progress gets 491 Request Pending.
    if (this.reinvite) return void stack.respond(txn, 491);
    if (!req.body) return void stack.respond(txn, 488, { headers: [warningHeader('re-INVITE without an offer is not supported')] });
    if (this.call.media!.independent) return this.answerLocally(leg, req, txn);
    const offer = this.call.media!.offer(leg, req.body);
    if (typeof offer !== 'string') return void stack.respond(txn, offer.status, { headers: [warningHeader(offer.error)] });
    this.call.leg(leg).dialog!.refreshTarget(req);
    const to = otherLeg(leg);
    this.reinvite = { from: leg, txn, cseq: req.cseq, req };
    this.lastSdp[to] = offer;
    this.sendInDialog(to, 'INVITE', { body: { contentType: SDP, content: offer } }, (res) => this.onReinviteResponse(to, res));
  }

  /**
   * UPDATE (RFC 3311) without a body: a session refresh (RFC 4028 10), answered 200 with the
   * session-timer headers. An UPDATE carrying an offer is refused 488: media changes go by re-INVITE.
   */
  private onUpdate(leg: Leg, req: IncomingRequestMessage, txn: ServerTransaction): void {
    const stack = this.deps.stack;
    if (req.body) return void stack.respond(txn, 488, { headers: [warningHeader('UPDATE with an offer is not supported; use re-INVITE')] });
    stack.respond(txn, 200, { headers: [contactHeader(stack.via(this.call.leg(leg).flow!, req.ruri?.toString())), ...this.timerLines(leg)] });
    this.call.sessions?.refreshed(leg, req);
  }

  /**
   * Our session refresh on `leg` (RFC 4028 10): UPDATE without a body, or a re-INVITE offering the
   * session unchanged (the SDP the peer last got from us, same version: RFC 3264 8). A relayed
   * re-INVITE already in progress refreshes the legs itself.
   */
  sendRefresh(leg: Leg, method: 'UPDATE' | 'INVITE', headers: [string, string][], done: (ok: boolean, why: string) => void): void {
    if (this.reinvite) return done(true, 'a re-INVITE is in progress');
    const sdp = this.lastSdp[leg];
    if (method === 'INVITE' && !sdp) return done(false, 'no session description to refresh with');
    this.sendInDialog(leg, method, { headers, ...(method === 'INVITE' ? { body: { contentType: SDP, content: sdp! } } : {}) }, (res) => {
      if (res !== 'timeout' && (res.statusCode ?? 0) < 200) return;
      if (res === 'timeout') return done(false, 'no response');
      const code = res.statusCode ?? 500;
      if (code >= 300) return done(false, `${code} ${res.reasonPhrase ?? ''}`.trim());
      if (method === 'INVITE') this.ackReinvite(leg, res);
      done(true, 'ok');
    });
  }

  /** Independent legs (a browser on the call): the gateway answers the re-INVITE for its leg alone. */
  private answerLocally(leg: Leg, req: IncomingRequestMessage, txn: ServerTransaction): void {
    const stack = this.deps.stack;
    const answer = this.call.media!.answerLocally(leg, req.body);
    if (typeof answer !== 'string') return void stack.respond(txn, answer.status, { headers: [warningHeader(answer.error)] });
    this.call.leg(leg).dialog!.refreshTarget(req);
    const flow = this.call.leg(leg).flow!;
    const text = stack.respond(txn, 200, { headers: [contactHeader(stack.via(flow, req.ruri?.toString())), ALLOW_HEADER, ...this.timerLines(leg)], body: { contentType: SDP, content: answer } });
    this.lastSdp[leg] = answer;
    this.call.sessions?.refreshed(leg, req);
    this.awaitingAck.set(leg, req.cseq);
    this.call.retransmit2xx(txn, text, () => this.awaitingAck.get(leg) === req.cseq, () => this.call.hangup('no ACK for re-INVITE 2xx'));
  }

  private onReinviteResponse(to: Leg, res: FinalResponse): void {
    const pending = this.reinvite;
    if (!pending) return;
    const stack = this.deps.stack;
    const code = res === 'timeout' ? 408 : (res.statusCode ?? 500);
    if (code < 200) return;
    this.reinvite = undefined;
    if (res === 'timeout' || code >= 300) {
      this.call.media!.abandonOffer();
      const status = code;
      if (!pending.txn.terminated) stack.respond(pending.txn, status === 401 || status === 407 ? 500 : status);
      return;
    }
    this.ackReinvite(to, res);
    this.call.sessions?.refreshed(to); // RFC 4028 10: a 2xx to a re-INVITE refreshes the leg it went to
    const answer = this.call.media!.answer(to, res.body);
    if (typeof answer !== 'string') {
      stack.respond(pending.txn, 488, { headers: [warningHeader(answer.error)] });
      return;
    }
    const flow = this.call.leg(pending.from).flow!;
    const text = stack.respond(pending.txn, 200, {
      headers: [contactHeader(stack.via(flow, pending.req.ruri?.toString())), ALLOW_HEADER, ...this.timerLines(pending.from)],
      body: { contentType: SDP, content: answer },
    });
    this.lastSdp[pending.from] = answer;
    this.call.sessions?.refreshed(pending.from, pending.req);
    this.awaitingAck.set(pending.from, pending.cseq);
    this.call.retransmit2xx(pending.txn, text, () => this.awaitingAck.get(pending.from) === pending.cseq, () => this.call.hangup('no ACK for re-INVITE 2xx'));
  }

  /** ACK the 2xx of a re-INVITE we sent (RFC 3261 13.2.2.4). */
  private ackReinvite(leg: Leg, res: IncomingResponseMessage): void {
    const { dialog, flow } = this.call.leg(leg);
    if (!dialog || !flow) return;
    dialog.refreshTarget(res);
    flow.send(dialog.buildRequest('ACK', this.deps.stack.via(flow), { cseq: res.cseq }).text);
  }

  onAck(leg: Leg, ack: IncomingRequestMessage): void {
    if (this.awaitingAck.get(leg) === ack.cseq) this.awaitingAck.delete(leg);
  }

  /** Runs `then` once the call leaves Answered; a call that ends first answers the request 481. */
  private whenConfirmed(txn: ServerTransaction, then: () => void): void {
    const done = (confirmed: boolean): void => {
      offState();
      offEnded();
      if (confirmed && !this.closed) then();
      else this.deps.stack.respond(txn, 481);
    };
    const offState = this.call.events.on('state', (state) => {
      if (state !== CallState.Answered) done(state === CallState.Confirmed);
    });
    // release() empties the listeners before the final 'state', so the end arrives as 'ended'.
    const offEnded = this.call.events.on('ended', () => done(false));
  }

  private onInfo(leg: Leg, req: IncomingRequestMessage, txn: ServerTransaction): void {
    const stack = this.deps.stack;
    // RFC 6086 4.2.2: an INFO with an Info-Package we do not support is answered 469.
    if (req.getHeader('info-package')) return void stack.respond(txn, 469, { headers: [RECV_INFO_NONE_HEADER] });
    if (!req.body) return void stack.respond(txn, 200); // empty INFO: a keep-alive probe
    const type = (req.getHeader('content-type') ?? '').split(';')[0]!.trim().toLowerCase();
    const d = parseInfoDigit(type, req.body);
    if ('error' in d) return void stack.respond(txn, d.status, { reason: d.error });
    stack.respond(txn, 200);
    forgetInfoBody(req);
    // RFC 6086 INFO digits join the bridge's own, with the leg's role: one source of digits per call.
    this.call.media?.bridge.signalledDigit(BRIDGE_LEG[leg].id, d.digit, d.durationMs);
  }

  private onRefer(leg: Leg, req: IncomingRequestMessage, txn: ServerTransaction): void {
    const stack = this.deps.stack;
    // The agent's 200 is ACKed on arrival, so its REFER can overtake the caller's ACK of our 200:
    // hold it until that ACK confirms the call (or Timer L ends it), rather than answer 491.
    if (this.call.state === CallState.Answered) return this.whenConfirmed(txn, () => this.onRefer(leg, req, txn));
    if (this.call.state !== CallState.Confirmed) return void stack.respond(txn, 491);
    const parsed = parseRefer(req);
    if ('error' in parsed) return void stack.respond(txn, 400, { headers: [warningHeader(parsed.error)] });
    const id = req.cseq; // RFC 3515 2.4.6: the first NOTIFY's Event id is the REFER's CSeq number
    let rejected: { status: number; warning?: string; retryAfterS?: number } | undefined;
    let final = false;
    let emitting = true;
    const notify = (status: number, reason?: string, terminate = false): void => {
      if (final || this.closed) return;
      final = status >= 200 || terminate;
      const frag = `SIP/2.0 ${status} ${reason ?? reasonPhrase(status)}\r\n`;
      // RFC 3515 2.4.5 / RFC 6665: active until the final status, then terminated.
      const state = final ? 'terminated;reason=noresource' : 'active;expires=300';
      this.sendInDialog(leg, 'NOTIFY', {
        headers: [['Event', `refer;id=${id}`], ['Subscription-State', state]],
        body: { contentType: 'message/sipfrag;version=2.0', content: frag },
      });
    };
    this.referSeq++;
    let deferred = false;
    const answer = (decision: { status: number; warning?: string; retryAfterS?: number } | undefined): void => {
      if (txn.terminated || this.closed || this.call.ended) return;
      if (decision) {
        const warn = decision.warning ? [warningHeader(decision.warning)] : [];
        const after = decision.retryAfterS !== undefined ? [`Retry-After: ${decision.retryAfterS}`] : [];
        return void stack.respond(txn, decision.status, { headers: [...after, ...warn] });
      }
      stack.respond(txn, 202);
      // RFC 3515 2.4.4: the first NOTIFY follows at once with the state known so far.
      notify(100, 'Trying');
    };
    this.call.events.emit('refer', {
      leg,
      ...parsed,
      notify: (s, r, o) => (emitting ? queueMicrotask(() => notify(s, r, o?.terminate)) : notify(s, r, o?.terminate)),
      reject: (status, warning, retryAfterS) => {
        if (emitting) rejected = { status, ...(warning ? { warning } : {}), ...(retryAfterS !== undefined ? { retryAfterS } : {}) };
      },
      defer: () => {
        if (!emitting) throw new Error('REFER: defer() only while the refer event is emitted');
        deferred = true;
        let decided = false;
        const once = (d: { status: number; warning?: string } | undefined): void => {
          if (decided) return;
          decided = true;
          answer(d);
        };
        return { accept: () => once(undefined), reject: (status, warning) => once({ status, ...(warning ? { warning } : {}) }) };
      },
    });
    emitting = false;
    if (rejected) return answer(rejected);
    if (!deferred) answer(undefined);
  }

  /** Sends an in-dialog request on `leg` as a client transaction (sip/ua/in-dialog.ts). */
  sendInDialog(
    leg: Leg,
    method: string,
    opts: { body?: { contentType: string; content: string }; headers?: ReadonlyArray<readonly [string, string]> },
    onFinal?: (res: FinalResponse) => void,
  ): void {
    const { dialog, flow } = this.call.leg(leg);
    if (!dialog || !flow) return;
    const log = this.deps.logger;
    requestInDialog(this.deps.stack, dialog, flow, method, {
      ...opts,
      onFinal: (res) => {
        if (res !== 'timeout' && (res.statusCode === 481 || res.statusCode === 408)) log.info({ method, status: res.statusCode, leg }, 'in-dialog request failed');
        onFinal?.(res);
      },
      onError: (err) => log.warn({ err, method, leg }, 'in-dialog request not sent or its handler failed'),
    });
  }

  sendBye(leg: Leg): void {
    this.sendInDialog(leg, 'BYE', {});
  }
}

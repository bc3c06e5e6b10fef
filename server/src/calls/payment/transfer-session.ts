import type { Clock } from '../../lib/clock.js';
import type { Logger } from '../../observability/logger.js';
import { isSdpError, parseSdp } from '../../sdp/index.js';
import type { Dialog } from '../../sip/dialog/dialog.js';
import { retransmit2xxUntilAck } from '../../sip/dialog/uas-2xx.js';
import {
  negotiateAsUas, SessionTimer, sessionExpiresValue, uasAnswerHeaders, type SessionTimerSettings, type UasDecision,
} from '../../sip/dialog/session-timer.js';
import type { SipStack } from '../../sip/stack.js';
import type { IncomingRequestMessage, ServerTransaction } from '../../sip/transaction/index.js';
import type { SipFlow } from '../../sip/transport/types.js';
import { contactHeader, warningHeader } from '../../sip/ua/headers.js';
import { requestInDialog } from '../../sip/ua/in-dialog.js';

const lines = (h: [string, string][]): string[] => h.map(([k, v]) => `${k}: ${v}`);
const allowsUpdate = (req: IncomingRequestMessage): boolean => (req.getHeader('allow') ?? '').split(',').some((m) => m.trim().toUpperCase() === 'UPDATE');

/**
 * RFC 4028 session timer on a transfer-mode payment call (the customer's dialog, the gateway its
 * UAS): 422 for a too-small interval (8.1), the agreed interval in our 200 (9), refreshes taken as
 * UPDATE (RFC 3311) or as a re-INVITE that leaves the media as it is (answered with the same SDP,
 * RFC 3264 8), ours sent at half the interval when we are the refresher, BYE when none came (10).
 */
export class TransferSession {
  private timer: SessionTimer | undefined;
  private readonly decision: UasDecision;
  private closed = false;

  constructor(
    private readonly o: {
      clock: Clock; log: Logger; stack: SipStack; settings: SessionTimerSettings | undefined; invite: IncomingRequestMessage;
      /** The session expired or our refresh failed: the call ends with BYE. */
      expire: (reason: string) => void;
    },
  ) {
    this.decision = o.settings ? negotiateAsUas(o.invite, o.settings) : { kind: 'none' };
  }

  /** RFC 4028 8.1: the Min-SE for a 422, when the INVITE's Session-Expires is too small. */
  get tooSmall(): number | undefined {
    return this.decision.kind === 'too-small' ? this.decision.minSe : undefined;
  }

  /** Header lines of a 2xx to the INVITE or to a refresh (RFC 4028 9). */
  answerLines(): string[] {
    return this.decision.kind === 'timer' ? lines(uasAnswerHeaders(this.decision)) : [];
  }

  /** The ACK is in: the timer starts. `dialog`, `flow`, `sdp`: what our own refresh needs. */
  start(dialog: () => Dialog | undefined, flow: SipFlow, sdp: string): void {
    const d = this.decision;
    if (d.kind !== 'timer' || this.closed) return;
    this.o.log.info({ seconds: d.seconds, refresher: d.refresher }, 'session timer running (RFC 4028)');
    this.timer = new SessionTimer(this.o.clock, d.seconds, d.refresher === 'uas', {
      refresh: () => this.refresh(dialog(), flow, sdp, d.seconds),
      expire: (why) => this.o.expire(`session expired: ${why}`),
    });
  }

  private refresh(dialog: Dialog | undefined, flow: SipFlow, sdp: string, seconds: number): void {
    if (!dialog) return;
    const method = allowsUpdate(this.o.invite) ? 'UPDATE' : 'INVITE';
    requestInDialog(this.o.stack, dialog, flow, method, {
      headers: [['Supported', 'timer'], ['Session-Expires', sessionExpiresValue({ seconds, refresher: 'uac' })]],
      ...(method === 'INVITE' ? { body: { contentType: 'application/sdp', content: sdp } } : {}),
      onFinal: (res) => {
        if (res !== 'timeout' && (res.statusCode ?? 0) < 200) return;
        const code = res === 'timeout' ? 408 : (res.statusCode ?? 500);
        if (code >= 300) return this.timer?.failed(`session refresh (${method}) failed: ${code} (RFC 4028 10)`);
        // RFC 3261 13.2.2.4: our re-INVITE's 2xx is ACKed by us.
        if (method === 'INVITE' && res !== 'timeout') flow.send(dialog.buildRequest('ACK', this.o.stack.via(flow), { cseq: res.cseq }).text);
        this.timer?.refreshed();
      },
      onError: (err) => this.o.log.warn({ err }, 'session refresh not sent'),
    });
  }

  /** UPDATE without a body: a refresh (RFC 4028 10); with an offer: 488, the media stay as they are. */
  onUpdate(req: IncomingRequestMessage, txn: ServerTransaction): void {
    if (req.body) return void this.o.stack.respond(txn, 488, { headers: [warningHeader('UPDATE with an offer is not supported during a payment')] });
    this.o.stack.respond(txn, 200, { headers: [contactHeader(this.o.stack.via(txn.flow, req.ruri?.toString())), ...this.answerLines()] });
    this.timer?.refreshed();
  }

  /**
   * A re-INVITE during the payment: one that keeps the media where they are (same address and
   * port as the INVITE's offer) is a session refresh, answered with our SDP unchanged and resent
   * until its ACK (13.3.1.4); any real change is refused 488 (hold/resume is not supported here).
   */
  onReinvite(req: IncomingRequestMessage, txn: ServerTransaction, sdp: string, acked: (cseq: number) => boolean, giveUp: () => void): { cancel(): void } | undefined {
    const before = parseSdp(this.o.invite.body);
    const now = req.body ? parseSdp(req.body) : undefined;
    const same = now && !isSdpError(now) && !isSdpError(before) && now.address === before.address && now.port === before.port && !now.hold;
    if (!same) return void this.o.stack.respond(txn, 488, { headers: [warningHeader('re-INVITE during a payment is not supported')] });
    const text = this.o.stack.respond(txn, 200, {
      headers: [contactHeader(this.o.stack.via(txn.flow, req.ruri?.toString())), ...this.answerLines()],
      body: { contentType: 'application/sdp', content: sdp },
    });
    this.timer?.refreshed();
    return retransmit2xxUntilAck(this.o.clock, txn, text, () => !acked(req.cseq) && !this.closed, giveUp);
  }

  stop(): void {
    this.closed = true;
    this.timer?.stop();
  }
}

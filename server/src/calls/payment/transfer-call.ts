import type { Transaction } from '../../handoff/index.js';
import type { Bridge } from '../../media/plane.js';
import { answerOffer, isSdpError, parseSdp, SdpSession } from '../../sdp/index.js';
import { legSrtp } from '../media-anchor.js';
import { hangupCauseOf, watchMedia } from '../media-watch.js';
import { Dialog } from '../../sip/dialog/dialog.js';
import { newTag } from '../../sip/dialog/ids.js';
import { retransmit2xxUntilAck } from '../../sip/dialog/uas-2xx.js';
import type { IncomingRequestMessage, ServerTransaction } from '../../sip/transaction/index.js';
import { ACCEPT_SDP_HEADER, ALLOW_HEADER, contactHeader, warningHeader } from '../../sip/ua/headers.js';
import { requestInDialog } from '../../sip/ua/in-dialog.js';
import type { CallDeps } from '../b2bua/types.js';
import { forgetInfoBody, parseInfoDigit } from '../b2bua/info-dtmf.js';
import type { Leg } from '../media-anchor.js';
import type { CaptureRegistry } from './capture-registry.js';
import { closingPrompts } from './closing.js';
import { hangUpCustomer, referBack, type CustomerDialog } from './endings.js';
import { PaymentRun, type RunDeps } from './run.js';
import { TransferSession } from './transfer-session.js';

const SDP = 'application/sdp';
/** The customer's leg on the bridge of a transferred call (its only leg). */
const CUSTOMER = 'customer';

export interface TransferDeps extends CallDeps, RunDeps {}

/**
 * Transfer mode (docs/architecture.md, "Two ways a payment starts", 2): a PBX sends the customer to
 * `sip:pay@gateway` with the transaction on the INVITE. This is the SIP side only: the gateway
 * answers as a UAS, anchors the customer's media on a bridge, and once the ACK is in starts a
 * {@link PaymentRun} on that bridge whose end-of-run strategy hangs up or sends the customer back
 * to `X-Pay-Return-To` with a REFER (RFC 3515).
 */
export class TransferPaymentCall implements CustomerDialog {
  readonly tag = newTag();
  private bridge: Bridge | undefined;
  private dialog: Dialog | undefined;
  private run: PaymentRun | undefined;
  private acked = false;
  /** The customer's answer put the call on hold (RFC 3264 8.4): exempt from the media timeout. */
  private held = false;
  /** RFC 4028 on the customer's dialog (transfer-session.ts). */
  private session: TransferSession | undefined;
  /** Our answer SDP (a refresh re-INVITE is answered with it unchanged). */
  private sdp = '';
  /** CSeqs of refresh re-INVITEs whose ACK came. */
  private readonly reinviteAcks = new Set<number>();
  private closed = false;
  private cancelled = false;
  private byeSent = false;
  private timers: { cancel(): void }[] = [];
  private transferred: (() => void) | undefined;
  private markClosed!: () => void;
  /** Settles when the call is over and its media and capture are released. */
  readonly whenClosed = new Promise<void>((r) => (this.markClosed = r));

  constructor(
    private readonly deps: TransferDeps,
    readonly req: IncomingRequestMessage,
    readonly txn: ServerTransaction,
    readonly details: Transaction,
    private readonly onDialog: (callId: string, tag: string, owner: TransferPaymentCall | undefined) => void,
    /** Where the live capture is listed for agents' commands (the /events socket). */
    private readonly captures?: CaptureRegistry,
  ) {}

  private get log() {
    return this.deps.logger.child({ call: this.req.callId, mode: 'transfer', orderRef: this.details.orderRef });
  }

  get ended(): boolean {
    return this.closed;
  }

  async start(): Promise<void> {
    const stack = this.deps.stack;
    this.session = new TransferSession({
      clock: this.deps.clock, log: this.log, stack, settings: this.deps.sessionTimers, invite: this.req,
      expire: (reason) => {
        this.log.warn({ reason }, 'session timer expired: ending the payment call (RFC 4028 10)');
        this.hangup(reason);
      },
    });
    const minSe = this.session.tooSmall;
    // RFC 4028 8.1: 422 with Min-SE before any media is taken.
    if (minSe !== undefined) {
      stack.respond(this.txn, 422, { toTag: this.tag, headers: [`Min-SE: ${minSe}`] });
      return void this.close();
    }
    try {
      this.bridge = await this.deps.createBridge(`${this.req.callId}|${this.tag}`);
      const local = await this.bridge.addRtpLeg(CUSTOMER, 'customer');
      const session = new SdpSession({ address: local.address, username: 'tonegate' });
      const offer = parseSdp(this.req.body);
      if (isSdpError(offer)) return this.refuse(offer.status, offer.error);
      const srtp = this.deps.srtpPolicy?.(offer.address) ?? 'off';
      const ans = answerOffer(offer, { address: local.address, port: local.rtpPort, session }, { srtp });
      if (isSdpError(ans)) return this.refuse(ans.status, ans.error);
      const codec = ans.codec.name.toLowerCase() === 'pcma' ? 'pcma' : 'pcmu';
      const ptime = ans.ptime === 10 || ans.ptime === 30 ? ans.ptime : 20;
      await this.bridge.configureLeg(CUSTOMER, {
        remote: ans.remote ? { address: ans.remote.address, port: ans.remote.port, rtcpPort: ans.remote.rtcpPort } : null,
        codec,
        payloadType: ans.codec.pt,
        telephoneEventPt: ans.telephoneEvent?.pt ?? null,
        ptime,
        srtp: legSrtp(ans.srtp),
      });
      this.held = ans.hold;
      await this.bridge.setMode('capture');
      this.bridge.events.on('closed', (reason) => this.mediaLost(reason));
      // The caller may have cancelled, or its connection closed, while the media was set up.
      if (this.cancelled || this.closed || this.txn.terminated) return void this.close();
      this.dialog = Dialog.asUas(this.req, this.tag, this.txn.flow.id);
      this.onDialog(this.req.callId, this.tag, this);
      const text = stack.respond(this.txn, 200, {
        toTag: this.tag,
        headers: [contactHeader(stack.via(this.txn.flow, this.req.ruri?.toString())), ALLOW_HEADER, ...this.session.answerLines()],
        body: { contentType: SDP, content: ans.sdp },
      });
      this.sdp = ans.sdp;
      this.timers.push(
        retransmit2xxUntilAck(this.deps.clock, this.txn, text, () => !this.acked && !this.closed, () => {
          this.log.warn('no ACK for our 2xx: ending the payment call (RFC 3261 13.3.1.4)');
          this.hangup('no ACK');
        }),
      );
    } catch (err) {
      this.log.error({ err }, 'payment call set-up failed');
      this.refuse(503, 'media unavailable');
    }
  }

  private refuse(status: number, why: string): void {
    if (!this.txn.terminated) this.deps.stack.respond(this.txn, status, { toTag: this.tag, headers: [warningHeader(why)] });
    void this.close();
  }

  /** The caller gave up before we answered (the stack has answered the CANCEL with 200). */
  onCancel(): void {
    this.cancelled = true;
    if (!this.txn.terminated) this.deps.stack.respond(this.txn, 487, { toTag: this.tag });
    void this.close();
  }

  onAck(_leg: Leg, ack: IncomingRequestMessage): void {
    if (ack.cseq !== this.req.cseq) return void this.reinviteAcks.add(ack.cseq);
    if (this.acked || ack.cseq !== this.req.cseq || this.closed || !this.bridge) return;
    this.acked = true;
    const returnTo = this.details.returnTo;
    this.run = new PaymentRun(this.deps, {
      bridge: this.bridge,
      customerLeg: CUSTOMER,
      txn: this.details,
      ending: returnTo ? referBack(this, returnTo, this.deps.clock, this.log) : hangUpCustomer(this),
      closing: closingPrompts({ entry: 'transfer', returnTo: Boolean(returnTo) }),
      log: this.log,
      ...(this.captures ? { captures: this.captures } : {}),
    });
    this.run.start();
    this.watchMedia(this.bridge);
    this.session?.start(() => this.dialog, this.txn.flow, this.sdp);
  }

  /**
   * Media inactivity (calls/media-watch.ts): no RTP from the customer for MEDIA_TIMEOUT_S ends the
   * call with BYE; the run is killed, so a payment already sent to the provider keeps the outcome
   * the provider gives (run.ts kill: money in flight is let finish), one not yet sent never starts.
   */
  private watchMedia(bridge: Bridge): void {
    if (!this.deps.mediaTimeoutMs) return;
    const w = watchMedia({
      clock: this.deps.clock,
      timeoutMs: this.deps.mediaTimeoutMs,
      stats: () => bridge.stats(),
      exempt: () => this.held,
      onTimeout: (leg, ms) => {
        const reason = `media timeout: no RTP from the ${leg} for ${Math.round(ms / 1000)} s`;
        this.log.warn({ leg, silentMs: ms }, `${reason}: ending the payment call`);
        this.hangup(reason);
      },
      onError: (err) => this.log.debug({ err }, 'media watch stopped: bridge stats unavailable'),
    });
    this.timers.push({ cancel: () => w.stop() });
  }

  onRetransmitted2xx(): void {}

  /** The customer's dialog (CallManager checks in-dialog sources against it). */
  dialogOf(): Dialog | undefined {
    return this.dialog;
  }

  onInDialog(_leg: Leg, req: IncomingRequestMessage, txn: ServerTransaction): void {
    const stack = this.deps.stack;
    if (!this.dialog || this.closed) return void stack.respond(txn, 481);
    if (!this.dialog.acceptRemoteCSeq(req.cseq, req.method)) return void stack.respond(txn, 500, { reason: 'Out Of Order' });
    switch (req.method) {
      case 'BYE':
        stack.respond(txn, 200);
        // RFC 3261 15.1.2: the customer's BYE ended the dialog. Nothing more goes out in it: no BYE
        // back, no REFER to X-Pay-Return-To, when the capture finishes (now, or once money has moved).
        this.dialog = undefined;
        return this.hangup('customer hung up');
      case 'INFO': {
        if (!req.body) return void stack.respond(txn, 200);
        const type = (req.getHeader('content-type') ?? '').split(';')[0]!.trim().toLowerCase();
        const d = parseInfoDigit(type, req.body);
        if ('error' in d) return void stack.respond(txn, d.status, { reason: d.error });
        stack.respond(txn, 200);
        forgetInfoBody(req);
        // RFC 6086 INFO digits join the bridge's own: the run has one source of digits.
        this.bridge?.signalledDigit(CUSTOMER, d.digit, d.durationMs);
        return;
      }
      case 'NOTIFY':
        stack.respond(txn, 200);
        // The sipfrag of our REFER (RFC 3515 2.4.5): a final 2xx means the customer is with the target.
        if (/^SIP\/2\.0 2\d\d/.test(req.body)) this.transferred?.();
        return;
      case 'OPTIONS':
        return void stack.respond(txn, 200, { headers: [ALLOW_HEADER, ACCEPT_SDP_HEADER] });
      case 'INVITE': {
        // Hold/resume during a payment is not supported (488, RFC 3261 14.2); a re-INVITE that
        // keeps the media as they are is a session refresh (RFC 4028 10), answered unchanged.
        const t = this.session?.onReinvite(req, txn, this.sdp, (cseq) => this.reinviteAcks.has(cseq), () => this.hangup('no ACK for re-INVITE 2xx'));
        if (t) this.timers.push(t);
        return;
      }
      case 'UPDATE':
        return void this.session?.onUpdate(req, txn);
      default:
        return void stack.respond(txn, 405, { headers: [ALLOW_HEADER] });
    }
  }

  /** CustomerDialog: a REFER in the customer's dialog (RFC 3515), for the end-of-run strategy. */
  refer(referTo: string, onFinal: (status: number) => void): void {
    const d = this.dialog;
    if (!d || this.closed) return onFinal(481);
    requestInDialog(this.deps.stack, d, this.txn.flow, 'REFER', {
      headers: [['Refer-To', referTo], ['Referred-By', '<sip:pay@tonegate>']],
      onFinal: (res) => onFinal(res === 'timeout' ? 408 : (res.statusCode ?? 500)),
      onError: (err) => this.log.warn({ err }, 'REFER back not sent'),
    });
  }

  /** CustomerDialog: a NOTIFY of our REFER said 2xx. */
  onTransferred(fn: () => void): void {
    this.transferred = fn;
  }

  /**
   * Ends the call from our side (end of run, shutdown, lost media) or after the customer's BYE:
   * the run is killed (a no-op once it ended), the customer gets a BYE unless the dialog is gone.
   */
  hangup(reason: string): void {
    if (this.closed) return;
    this.log.info({ reason }, 'ending payment call');
    this.run?.kill(reason, hangupCauseOf(reason));
    this.bye();
    void this.close();
  }

  private bye(): void {
    if (this.byeSent || !this.dialog) return;
    this.byeSent = true;
    requestInDialog(this.deps.stack, this.dialog, this.txn.flow, 'BYE', { onError: (err) => this.log.warn({ err }, 'BYE not sent') });
  }

  private mediaLost(reason: string): void {
    if (this.closed) return;
    this.log.error({ reason }, 'media for the payment call was lost: ending it');
    this.hangup('media lost');
  }

  /** Idempotent. The capture (if any) wipes its buffers; the bridge is released. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const t of this.timers) t.cancel();
    this.session?.stop();
    this.onDialog(this.req.callId, this.tag, undefined);
    await this.run?.close();
    await this.bridge?.close().catch(() => {});
    this.markClosed();
  }
}

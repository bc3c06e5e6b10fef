import { CaptureSession } from '../../capture/session.js';
import type { CapturePort } from '../../capture/port.js';
import type { PromptSpec } from '../../capture/prompts.js';
import type { SessionEvent } from '../../capture/events.js';
import type { Transaction } from '../../handoff/index.js';
import type { TimerHandle } from '../../lib/clock.js';
import type { Bridge } from '../../media/plane.js';
import { answerOffer, isSdpError, SdpSession } from '../../sdp/index.js';
import type { EventBus, Outcome, SessionStore } from '../../store/index.js';
import { Dialog } from '../../sip/dialog/dialog.js';
import { newTag } from '../../sip/dialog/ids.js';
import { retransmit2xxUntilAck } from '../../sip/dialog/uas-2xx.js';
import type { IncomingRequestMessage, IncomingResponseMessage, ServerTransaction } from '../../sip/transaction/index.js';
import type { CallDeps } from '../b2bua/types.js';
import { parseInfoDigit } from '../b2bua/info-dtmf.js';
import type { Leg } from '../media-anchor.js';
import type { Payments } from './setup.js';
import { clipsFor } from './prompt-clips.js';
import type { CaptureRegistry } from './capture-registry.js';

const SDP = 'application/sdp';
const ALLOW = 'Allow: INVITE, ACK, CANCEL, BYE, OPTIONS, INFO, NOTIFY';
const CUSTOMER = 'customer';

export interface TransferDeps extends CallDeps {
  createBridge: (id: string) => Promise<Bridge>;
  payments: Payments;
  bus: EventBus<SessionEvent>;
  store: SessionStore;
  instanceId: string;
  defaultLanguage: 'en' | 'hi';
}

/**
 * Transfer mode (design.md "Two ways a payment starts", 2): a PBX sends the customer to
 * `sip:pay@gateway` with the transaction on the INVITE. The gateway answers as a UAS, anchors the
 * customer's media in a bridge, runs the capture, and afterwards hangs up or sends the customer back
 * to `X-Pay-Return-To` with a REFER (RFC 3515).
 */
export class TransferPaymentCall {
  readonly tag = newTag();
  private bridge: Bridge | undefined;
  private dialog: Dialog | undefined;
  private session: CaptureSession | undefined;
  private acked = false;
  private closed = false;
  private cancelled = false;
  private timers: { cancel(): void }[] = [];
  private referTimer: TimerHandle | undefined;
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

  async start(): Promise<void> {
    const stack = this.deps.stack;
    try {
      this.bridge = await this.deps.createBridge(`${this.req.callId}|${this.tag}`);
      const local = await this.bridge.addRtpLeg(CUSTOMER, 'customer');
      const session = new SdpSession({ address: local.address, username: 'tonegate' });
      const ans = answerOffer(this.req.body, { address: local.address, port: local.rtpPort, session });
      if (isSdpError(ans)) return this.refuse(ans.status, ans.error);
      const codec = ans.codec.name.toLowerCase() === 'pcma' ? 'pcma' : 'pcmu';
      const ptime = ans.ptime === 10 || ans.ptime === 30 ? ans.ptime : 20;
      await this.bridge.configureLeg(CUSTOMER, {
        remote: ans.remote ? { address: ans.remote.address, port: ans.remote.port, rtcpPort: ans.remote.rtcpPort } : null,
        codec,
        payloadType: ans.codec.pt,
        telephoneEventPt: ans.telephoneEvent?.pt ?? null,
        ptime,
      });
      await this.bridge.setMode('capture');
      this.bridge.events.on('digit', (d) => this.session?.onDigit(d.digit, d.transport));
      this.bridge.events.on('closed', (reason) => this.mediaLost(reason));
      // The caller may have cancelled, or its connection closed, while the media was set up.
      if (this.cancelled || this.closed || this.txn.terminated) return this.close();
      this.dialog = Dialog.asUas(this.req, this.tag, this.txn.flow.id);
      this.onDialog(this.req.callId, this.tag, this);
      const text = stack.respond(this.txn, 200, {
        toTag: this.tag,
        headers: [`Contact: ${stack.via(this.txn.flow).contact}`, ALLOW],
        body: { contentType: SDP, content: ans.sdp },
      });
      this.timers.push(
        retransmit2xxUntilAck(this.deps.clock, this.txn, text, () => !this.acked && !this.closed, () => {
          this.log.warn('no ACK for our 2xx: ending the payment call (RFC 3261 13.3.1.4)');
          this.bye();
          void this.close();
        }),
      );
    } catch (err) {
      this.log.error({ err }, 'payment call set-up failed');
      this.refuse(503, 'media unavailable');
    }
  }

  private refuse(status: number, why: string): void {
    if (!this.txn.terminated) this.deps.stack.respond(this.txn, status, { toTag: this.tag, headers: [`Warning: 399 tonegate "${why.replace(/"/g, "'")}"`] });
    void this.close();
  }

  /** The caller gave up before we answered (the stack has answered the CANCEL with 200). */
  onCancel(): void {
    this.cancelled = true;
    if (!this.txn.terminated) this.deps.stack.respond(this.txn, 487, { toTag: this.tag });
    void this.close();
  }

  onAck(_leg: Leg, ack: IncomingRequestMessage): void {
    if (this.acked || ack.cseq !== this.req.cseq) return;
    this.acked = true;
    this.startCapture();
  }

  onRetransmitted2xx(): void {}

  private startCapture(): void {
    const p = this.deps.payments;
    const session = new CaptureSession({
      txn: { ...this.details, language: this.details.language ?? this.deps.defaultLanguage },
      port: this.port(),
      payment: p.payment,
      sms: p.sms,
      templates: { otp: p.otpTemplate },
      ...(p.capture ? { config: p.capture } : {}),
      clock: this.deps.clock,
      bus: this.deps.bus,
      store: this.deps.store,
      logger: this.deps.logger,
      instanceId: this.deps.instanceId,
    });
    this.session = session;
    this.captures?.add(session);
    void session.done.then(() => this.captures?.remove(session));
    session.start().catch((err: unknown) => {
      this.log.error({ err }, 'capture failed to start');
      this.bye();
      void this.close();
    });
  }

  private port(): CapturePort {
    return {
      play: (spec: PromptSpec) => {
        const b = this.bridge;
        if (!b) return;
        b.play(CUSTOMER, clipsFor(spec).map((id) => ({ id })), { bargeIn: spec.bargeIn }).then(
          (r) => {
            if (r === 'done') this.session?.onPromptDone(spec.token);
          },
          (err: unknown) => {
            // A missing clip must not stall the payment: the customer keys on, the flow goes on.
            this.log.warn({ err }, 'prompt could not be played');
            this.session?.onPromptDone(spec.token);
          },
        );
      },
      stopPrompt: () => void this.bridge?.stopPrompts(CUSTOMER).catch(() => {}),
      setMode: () => {}, // no agent on a transferred call: the customer only ever hears prompts
      end: (outcome: Outcome) => this.finish(outcome),
    };
  }

  /** After the outcome prompt: back to X-Pay-Return-To (REFER) or hang up. */
  private finish(outcome: Outcome): void {
    this.log.info({ outcome }, 'payment call finished');
    const returnTo = this.details.returnTo;
    if (!returnTo || !this.dialog) {
      this.bye();
      void this.close();
      return;
    }
    this.sendInDialog('REFER', [['Refer-To', `<${returnTo}>`], ['Referred-By', '<sip:pay@tonegate>']], undefined, (res) => {
      const code = res === 'timeout' ? 408 : (res.statusCode ?? 500);
      if (code >= 300) {
        this.log.warn({ status: code }, 'customer could not be transferred back; hanging up');
        this.bye();
        void this.close();
        return;
      }
      // RFC 3515 2.4.5: wait for the NOTIFY saying the transfer succeeded, then leave the call.
      this.referTimer = this.deps.clock.setTimeout(() => {
        this.bye();
        void this.close();
      }, 10_000);
    });
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
        this.session?.onHangup();
        void this.close();
        return;
      case 'INFO': {
        if (!req.body) return void stack.respond(txn, 200);
        const type = (req.getHeader('content-type') ?? '').split(';')[0]!.trim().toLowerCase();
        const d = parseInfoDigit(type, req.body);
        if ('error' in d) return void stack.respond(txn, d.status, { reason: d.error });
        stack.respond(txn, 200);
        this.session?.onDigit(d.digit, 'info');
        return;
      }
      case 'NOTIFY': {
        stack.respond(txn, 200);
        // The sipfrag of our REFER: a final 2xx means the customer is with the return target.
        if (/^SIP\/2\.0 2\d\d/.test(req.body) && this.referTimer) {
          this.referTimer.cancel();
          this.bye();
          void this.close();
        }
        return;
      }
      case 'OPTIONS':
        return void stack.respond(txn, 200, { headers: [ALLOW, 'Accept: application/sdp'] });
      case 'INVITE':
        // Hold/resume during a payment is not supported: keep the session as it is (RFC 3261 14.2).
        return void stack.respond(txn, 488, { headers: ['Warning: 399 tonegate "re-INVITE during a payment is not supported"'] });
      default:
        return void stack.respond(txn, 405, { headers: [ALLOW] });
    }
  }

  private sendInDialog(method: string, headers: [string, string][], body?: { contentType: string; content: string }, onFinal?: (r: IncomingResponseMessage | 'timeout') => void): void {
    const d = this.dialog;
    if (!d) return;
    const stack = this.deps.stack;
    const flow = this.txn.flow;
    const r = d.buildRequest(method, stack.via(flow), { headers, ...(body ? { body } : {}) });
    stack.sendRequest({
      request: r.text,
      method,
      branch: r.branch,
      flow,
      user: {
        onResponse: (res) => {
          if ((res.statusCode ?? 0) >= 200) onFinal?.(res);
        },
        onTimeout: () => onFinal?.('timeout'),
        onTransportError: () => onFinal?.('timeout'),
      },
    });
  }

  private byeSent = false;
  private bye(): void {
    if (this.byeSent || !this.dialog) return;
    this.byeSent = true;
    this.sendInDialog('BYE', []);
  }

  private mediaLost(reason: string): void {
    if (this.closed) return;
    this.log.error({ reason }, 'media for the payment call was lost: ending it');
    this.session?.onHangup();
    this.bye();
    void this.close();
  }

  get ended(): boolean {
    return this.closed;
  }

  /** Ends the call from our side (shutdown): the customer gets a BYE, the capture is abandoned. */
  hangup(reason: string): void {
    this.log.info({ reason }, 'ending payment call');
    this.session?.onHangup();
    this.bye();
    void this.close();
  }

  /** Idempotent. The capture session (if any) wipes its buffers on close. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const t of this.timers) t.cancel();
    this.referTimer?.cancel();
    this.onDialog(this.req.callId, this.tag, undefined);
    if (this.session) this.captures?.remove(this.session);
    try {
      await this.session?.close();
    } catch (err) {
      this.log.error({ err }, 'capture close failed');
    }
    await this.bridge?.close().catch(() => {});
    this.markClosed();
  }
}

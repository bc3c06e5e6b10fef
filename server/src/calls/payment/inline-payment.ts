import { CaptureSession } from '../../capture/session.js';
import type { CapturePort, CommandResult } from '../../capture/port.js';
import type { PromptSpec } from '../../capture/prompts.js';
import type { Transaction } from '../../handoff/index.js';
import type { Outcome } from '../../store/index.js';
import type { Call } from '../b2bua/call.js';
import type { ReferRequest } from '../b2bua/types.js';
import { BRIDGE_LEG } from '../media-anchor.js';
import { clipsFor } from './prompt-clips.js';
import type { TransferDeps } from './transfer-call.js';

export type InlineDeps = Omit<TransferDeps, 'stack' | 'ringTimeoutMs' | 'createBridge' | 'mediaAddress'>;

/**
 * The final NOTIFY of the agent's REFER (RFC 3515 2.4.5, message/sipfrag): the outcome as a SIP
 * status the referrer's stack understands. Only `paid` is a 2xx.
 */
export const OUTCOME_SIPFRAG: Record<Outcome, { status: number; reason: string }> = {
  paid: { status: 200, reason: 'OK' },
  declined: { status: 603, reason: 'Declined' },
  failed: { status: 500, reason: 'Payment Failed' },
  abandoned: { status: 487, reason: 'Request Terminated' },
  cancelled: { status: 487, reason: 'Request Terminated' },
};

const CUSTOMER = BRIDGE_LEG.A.id;

/**
 * Inline mode (design.md "Two ways a payment starts", 1): the agent's in-dialog REFER started a
 * capture on the customer leg of a bridged call. The call's own media bridge switches to `capture`
 * (agent muted both ways, the customer hears prompts only, DTMF never reaches the agent), digits
 * keyed on the customer leg (RFC 4733, in-band, SIP INFO) feed the capture, NOTIFYs report to the
 * agent, and afterwards the bridge goes back to `normal`: customer and agent talk again. If the agent
 * left meanwhile, the customer hears the outcome and is then hung up on.
 */
export class InlinePayment {
  readonly session: CaptureSession;
  private readonly offs: (() => void)[] = [];
  private finished = false;
  private markClosed!: () => void;
  readonly whenClosed = new Promise<void>((r) => (this.markClosed = r));

  constructor(
    private readonly deps: InlineDeps,
    private readonly call: Call,
    private readonly refer: ReferRequest,
    details: Transaction,
  ) {
    this.session = new CaptureSession({
      txn: { ...details, agentId: call.target.agentId, language: details.language ?? deps.defaultLanguage },
      port: this.port(),
      payment: deps.payments.payment,
      sms: deps.payments.sms,
      templates: { otp: deps.payments.otpTemplate },
      ...(deps.payments.capture ? { config: deps.payments.capture } : {}),
      clock: deps.clock,
      bus: deps.bus,
      store: deps.store,
      logger: deps.logger,
      instanceId: deps.instanceId,
    });
  }

  get agentId(): string {
    return this.call.target.agentId;
  }

  private get log() {
    return this.deps.logger.child({ call: this.call.aReq.callId, mode: 'inline', sessionId: this.session.id, agent: this.call.target.agentId });
  }

  start(): void {
    this.call.capture = this;
    this.offs.push(
      this.call.events.on('digit', (d) => {
        // Only the customer's keys count: the agent's keypad never enters card data.
        if (d.leg === 'A') this.session.onDigit(d.digit, d.transport);
      }),
      this.call.events.on('ended', () => {
        this.session.onHangup();
        void this.close();
      }),
    );
    this.log.info('inline payment started');
    this.session.start().catch((err: unknown) => {
      this.log.error({ err }, 'capture failed to start');
      this.refer.notify(500, 'Payment Failed');
      void this.close();
    });
  }

  /** An agent command (field.retry, session.cancel) from the agent's widget. */
  command(cmd: unknown): CommandResult {
    return this.session.onAgentCommand(cmd);
  }

  /** The agent hung up or closed the tab: the capture goes on for the customer. */
  onAgentGone(): void {
    this.log.info('agent left during the capture; it goes on with the customer');
  }

  private port(): CapturePort {
    return {
      play: (spec: PromptSpec) => {
        const b = this.call.media?.bridge;
        if (!b) return;
        b.play(CUSTOMER, clipsFor(spec).map((id) => ({ id })), { bargeIn: spec.bargeIn }).then(
          (r) => {
            if (r === 'done') this.session.onPromptDone(spec.token);
          },
          (err: unknown) => {
            this.log.warn({ err }, 'prompt could not be played');
            this.session.onPromptDone(spec.token);
          },
        );
      },
      stopPrompt: () => void this.call.media?.bridge.stopPrompts(CUSTOMER).catch(() => {}),
      setMode: (mode) => {
        this.call.media?.bridge.setMode(mode).catch((err: unknown) => {
          // Never leave the agent able to hear a card: without the capture mode, end the call.
          if (mode === 'capture') {
            this.log.error({ err }, 'the bridge could not mute the agent: ending the call');
            this.call.hangup('mute failed');
          }
        });
      },
      end: (outcome: Outcome) => this.finish(outcome),
    };
  }

  private finish(outcome: Outcome): void {
    if (this.finished) return;
    this.finished = true;
    const frag = OUTCOME_SIPFRAG[outcome];
    this.log.info({ outcome }, 'inline payment finished');
    this.refer.notify(frag.status, frag.reason);
    void this.close();
  }

  /** Idempotent: the capture wipes its buffers; the call is the customer's and the agent's again. */
  async close(): Promise<void> {
    if (this.offs.length === 0 && this.call.capture !== this) return;
    for (const off of this.offs.splice(0)) off();
    if (this.call.capture === this) this.call.captureDone();
    try {
      await this.session.close();
    } catch (err) {
      this.log.error({ err }, 'capture close failed');
    }
    this.markClosed();
  }
}

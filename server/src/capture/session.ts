import { randomUUID } from 'node:crypto';
import type { TimerHandle } from '../lib/clock.js';
import { SafeEmitter } from '../lib/emitter.js';
import { InvalidStateError } from '../lib/errors.js';
import { newIdempotencyKey } from '../providers/resilience/idempotency.js';
import type { DtmfTransport, Outcome, SessionPatch } from '../store/index.js';
import { CardData } from './card-data.js';
import { DEFAULT_CAPTURE_CONFIG, type CaptureConfig } from './config.js';
import { agentCommandSchema, type CaptureField } from './events.js';
import { CaptureState, FIELD_OF_STATE, nextCapture, type CaptureAction, type CaptureEvent, type HangupCause, type MachineContext } from './machine.js';
import type { CaptureInputs, CommandResult } from './port.js';
import { assertReceiptTemplate } from './receipt.js';
import { promptIds, type PromptItem } from './prompts.js';
import { assertOtpTemplate } from './session-ops.js';
import { SessionRuntime } from './session-runtime.js';
import type { CaptureSessionDeps } from './session-deps.js';

export type { CaptureSessionDeps } from './session-deps.js';

export interface CaptureResult {
  readonly outcome: Outcome;
  readonly reason: string;
  readonly paymentId?: string;
  readonly needsReconciliation?: boolean;
}

export interface CaptureSessionEvents {
  state: (to: CaptureState, from: CaptureState) => void;
  ended: (result: CaptureResult) => void;
}

/**
 * One payment capture on one call: the runtime around the pure machine (./machine.ts). It owns the
 * card data (SensitiveDigits, wiped when the attempt ends whatever the outcome), drives the field
 * steps, makes the provider calls with their fallbacks, keeps the session record (masked) and
 * publishes the events. All I/O is behind the port, the provider interfaces, the store and the bus.
 */
export class CaptureSession implements CaptureInputs {
  readonly id: string;
  readonly events: SafeEmitter<CaptureSessionEvents>;
  /** Resolves once the capture is over and its record and events are written. */
  readonly done: Promise<CaptureResult>;
  readonly #rt: SessionRuntime;
  readonly #d: CaptureSessionDeps;
  readonly #cfg: CaptureConfig;
  readonly #card: CardData;
  #state = CaptureState.Idle;
  #queue: CaptureEvent[] = [];
  #dispatching = false;
  #promptToken = 0;
  #promptPending: { token: number; onDone: () => void; watchdog: TimerHandle } | undefined;
  #sessionTimer: TimerHandle | undefined;
  #transport: DtmfTransport | null = null;
  #result: CaptureResult | undefined;
  #resolve!: (r: CaptureResult) => void;

  constructor(deps: CaptureSessionDeps) {
    assertOtpTemplate(deps.templates.otp);
    if (deps.templates.receipt) assertReceiptTemplate(deps.templates.receipt);
    this.#d = deps;
    this.#cfg = { ...DEFAULT_CAPTURE_CONFIG, ...deps.config };
    this.id = deps.id ?? randomUUID();
    this.events = new SafeEmitter((err, ev) => deps.logger.error({ err, sessionId: this.id, event: ev }, 'capture listener threw'));
    this.done = new Promise((r) => (this.#resolve = r));
    this.#card = new CardData(deps.digits);
    this.#rt = new SessionRuntime({
      deps,
      cfg: this.#cfg,
      card: this.#card,
      sessionId: this.id,
      language: deps.txn.language ?? this.#cfg.language,
      now: deps.nowEpochMs ?? Date.now,
      newKey: deps.newIdempotencyKey ?? newIdempotencyKey,
      dispatch: (e) => this.#dispatch(e),
      state: () => this.#state,
      play: (items, onDone, bargeIn) => this.#play(items, onDone, bargeIn),
      stopPrompt: () => this.#stopPrompt(),
    });
  }

  get state(): CaptureState {
    return this.#state;
  }

  /** The outcome once decided (before the outcome prompt ends). */
  get result(): CaptureResult | undefined {
    return this.#result;
  }

  /**
   * Writes the session record, publishes `session.started`, and either refuses up front (provider
   * breaker open and cooling down: the customer stays with the agent) or mutes the agent and greets
   * the customer. Past the cooldown the session goes ahead: its first provider call is the probe.
   */
  async start(): Promise<void> {
    if (this.#state !== CaptureState.Idle) throw new InvalidStateError('capture', this.#state, 'start');
    await this.#rt.begin();
    if (this.#state !== CaptureState.Idle) return; // closed while the record was being written
    if (this.#d.payment.breaker.refusing) {
      this.#rt.publish({ type: 'provider.issue', step: 'breaker', code: 'breaker-open', action: 'refused' });
      this.#dispatch({ type: 'refuse', reason: 'provider-unavailable', announce: this.#cfg.announceRefusal });
      return;
    }
    this.#d.port.setMode('capture');
    this.#sessionTimer = this.#d.clock.setTimeout(() => this.#dispatch({ type: 'session.timeout' }), this.#cfg.sessionMs);
    this.#dispatch({ type: 'start' });
  }

  onDigit(digit: string, transport: DtmfTransport): void {
    if (!/^[0-9*#A-D]$/.test(digit) || this.#state === CaptureState.Idle || this.#state === CaptureState.Done) return;
    if (transport !== this.#transport) {
      this.#transport = transport;
      this.#rt.persist({ dtmfTransport: transport });
    }
    if (this.#state === CaptureState.Greeting) {
      if (!/^[0-9]$/.test(digit)) return;
      this.#stopPrompt(); // type-ahead: the digit cuts the greeting and is the PAN's first
      this.#dispatch({ type: 'greeting.done' });
    }
    const field = FIELD_OF_STATE[this.#state];
    // Anything else (waiting for the OTP, paying, the outcome prompt) is dropped: nothing typed
    // before the OTP prompt counts as OTP.
    if (field) this.#rt.step(field).digit(digit);
  }

  /** The named payment provider now serving this payment (calls/payment/provider-chain.ts): into the record before the call goes out. */
  recordProvider(provider: string): void {
    if (this.#state !== CaptureState.Done) this.#rt.persist({ provider });
  }

  onPromptDone(token?: number): void {
    const p = this.#promptPending;
    if (!p || (token !== undefined && token !== p.token)) return;
    this.#promptPending = undefined;
    p.watchdog.cancel();
    p.onDone();
  }

  /** The customer is gone (`cause`: why, when the gateway ended the call; default a hang-up). */
  onHangup(cause?: HangupCause): void {
    this.#rt.customerGone = true;
    this.#dispatch(cause ? { type: 'hangup', cause } : { type: 'hangup' });
  }

  onAgentCommand(cmd: unknown): CommandResult {
    const c = agentCommandSchema.safeParse(cmd);
    if (!c.success) return { ok: false, reason: 'not a valid command' };
    const ev: CaptureEvent = c.data.type === 'session.cancel' ? { type: 'cancel' } : { type: 'retry', field: c.data.field };
    try {
      nextCapture(this.#state, ev, this.#ctx()); // validate first: a refusal must not disturb the capture
    } catch (err) {
      if (err instanceof InvalidStateError) return { ok: false, reason: `not allowed while ${this.#state}` };
      throw err;
    }
    this.#d.logger.info({ sessionId: this.id, command: c.data.type }, 'agent command');
    this.#dispatch(ev);
    return { ok: true };
  }

  /**
   * Idempotent. A capture still running ends as if the customer hung up (money in flight is let
   * finish); one never started just wipes its buffers.
   */
  close(): Promise<CaptureResult> {
    if (this.#state === CaptureState.Idle) {
      this.#card.dispose();
      this.#state = CaptureState.Done;
      this.#result = { outcome: 'abandoned', reason: 'closed-before-start' };
      this.#resolve(this.#result);
    } else if (this.#state !== CaptureState.Done) {
      this.onHangup();
    }
    return this.done;
  }

  #ctx(): MachineContext {
    return this.#rt.context();
  }

  #dispatch(e: CaptureEvent): void {
    this.#queue.push(e);
    if (this.#dispatching) return;
    this.#dispatching = true;
    try {
      for (let ev = this.#queue.shift(); ev; ev = this.#queue.shift()) this.#step(ev);
    } finally {
      this.#dispatching = false;
    }
  }

  #step(e: CaptureEvent): void {
    const from = this.#state;
    if (from === CaptureState.Done) return; // late provider answers, timers after the end
    let tr;
    try {
      tr = nextCapture(from, e, this.#ctx());
    } catch (err) {
      this.#d.logger.warn({ sessionId: this.id, state: from, event: e.type, err: (err as Error).message }, 'capture event refused');
      return;
    }
    const leaving = FIELD_OF_STATE[from];
    if (leaving && tr.state !== from) this.#rt.step(leaving).exit();
    this.#state = tr.state;
    if (tr.state !== from) {
      this.#d.logger.info({ sessionId: this.id, from, to: tr.state, event: e.type }, 'capture state');
      this.#rt.persist({ state: tr.state, field: FIELD_OF_STATE[tr.state] ?? null });
    }
    for (const a of tr.actions) this.#perform(a, e);
    if (tr.state !== from) this.events.emit('state', tr.state, from);
  }

  #perform(a: CaptureAction, e: CaptureEvent): void {
    const rt = this.#rt;
    switch (a.do) {
      case 'play-greeting': {
        const { amount, currency } = this.#d.txn;
        return this.#play(['greeting.secure', 'greeting.amount', { amount, currency }], () => this.#dispatch({ type: 'greeting.done' }), true);
      }
      case 'enter-field':
        return rt.enterField(a.field, a.why, a.lead);
      case 'clear-fields':
        return rt.clearFields(a.fields as CaptureField[]);
      case 'request-otp':
        return rt.requestOtp(a.lead);
      case 'send-sms':
        return rt.sendSms();
      case 'validate-otp':
        return rt.validateOtp();
      case 'issuer-otp':
        return rt.issuerOtp(a.resend, a.lead);
      case 'submit-otp':
        return rt.submitOtp();
      case 'pay':
        return rt.pay();
      case 'confirm':
        return rt.confirm(e.type === 'payment.approved' ? e.paymentId : undefined);
      case 'mark-hung-up':
        rt.customerGone = true;
        return;
      case 'finish':
        return this.#finish(a);
      case 'end-call':
        return this.#endCall();
    }
  }

  #finish(a: Extract<CaptureAction, { do: 'finish' }>): void {
    this.#sessionTimer?.cancel();
    this.#rt.cancelTimer();
    this.#card.dispose(); // whatever the outcome, the card data is gone now
    const result: CaptureResult = {
      outcome: a.outcome,
      reason: a.reason,
      ...(a.paymentId !== undefined ? { paymentId: a.paymentId } : {}),
      ...(a.needsReconciliation ? { needsReconciliation: true } : {}),
    };
    this.#result = result;
    this.#d.logger.info({ sessionId: this.id, ...result }, 'capture outcome');
    const served = this.#d.payment.servedBy?.();
    const provider = served !== undefined ? { provider: served } : {};
    const patch: SessionPatch = { outcome: a.outcome, endedAt: this.#rt.iso(), ...(a.outcome !== 'paid' ? { failureReason: a.reason } : {}), ...provider };
    this.#rt.persist({ ...patch, ...(a.paymentId !== undefined ? { paymentId: a.paymentId } : {}), ...(a.needsReconciliation ? { needsReconciliation: true } : {}) });
    this.#rt.publish({ type: 'session.ended', ...result, ...provider });
    if (a.outcome === 'paid') this.#rt.sendReceipt(a.paymentId);
    if (a.prompt) {
      // Whatever was still playing or queued for the customer (an OTP prompt when the agent
      // cancels, say) is over: the outcome is said next, not after it.
      this.#stopPrompt();
      const closing = this.#cfg.closingPrompt;
      const items: PromptItem[] = [a.prompt, ...(closing ? [closing] : [])];
      this.#play(items, () => this.#dispatch({ type: 'outcome.done' }), false);
    }
  }

  #endCall(): void {
    this.#stopPrompt();
    const result = this.#result ?? { outcome: 'abandoned' as const, reason: 'customer-hung-up' };
    this.#d.port.setMode('normal');
    this.#d.port.end(result.outcome);
    void this.#rt.settled().then(() => {
      this.events.emit('ended', result);
      this.#resolve(result);
    });
  }

  #play(items: PromptItem[], onDone: () => void, bargeIn: boolean): void {
    this.#promptPending?.watchdog.cancel();
    const token = ++this.#promptToken;
    const watchdog = this.#d.clock.setTimeout(() => this.onPromptDone(token), this.#cfg.promptMaxMs);
    this.#promptPending = { token, onDone, watchdog };
    this.#rt.publish({ type: 'prompt.playing', prompts: promptIds(items) });
    this.#d.port.play({ token, items, bargeIn, language: this.#rt.language });
  }

  #stopPrompt(): void {
    if (!this.#promptPending) return;
    this.#promptPending.watchdog.cancel();
    this.#promptPending = undefined;
    this.#d.port.stopPrompt();
  }
}

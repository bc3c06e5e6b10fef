import type { TimerHandle } from '../lib/clock.js';
import type { Language } from '../handoff/index.js';
import type { SessionPatch, SessionRecord, Unsequenced } from '../store/index.js';
import type { CardData } from './card-data.js';
import { otpLengthAccepted, type CaptureConfig } from './config.js';
import { maskMobileForDisplay, type CaptureField, type SessionEvent, type SessionEventBody } from './events.js';
import { CaptureState, type CaptureEvent, type FieldWhy, type MachineContext } from './machine.js';
import type { PromptId, PromptItem } from './prompts.js';
import type { CaptureSessionDeps } from './session-deps.js';
import { confirmPayment, generateOtp, sendOtpSms, takePayment, validateOtp } from './session-ops.js';
import { IssuerOtp } from './issuer-ops.js';
import { sendReceipt } from './receipt.js';
import type { OtpMode } from '../providers/otp-mode.js';
import { cvvSpec } from './steps/cvv.js';
import { expirySpec } from './steps/expiry.js';
import { FieldStep, type StepHost } from './steps/field-step.js';
import { otpSpec, type OtpFieldState } from './steps/otp.js';
import { panSpec } from './steps/pan.js';

export interface RuntimeOptions {
  readonly deps: CaptureSessionDeps;
  readonly cfg: CaptureConfig;
  readonly card: CardData;
  readonly sessionId: string;
  readonly language: Language;
  readonly now: () => number;
  readonly newKey: () => string;
  dispatch(e: CaptureEvent): void;
  state(): CaptureState;
  play(items: PromptItem[], onDone: () => void, bargeIn: boolean): void;
  stopPrompt(): void;
}

const noop = () => {};

/**
 * The working parts of a CaptureSession: the four field steps, the provider steps with their
 * fallbacks (issue 4 part 5), and the ordered writes to the store and the bus.
 */
export class SessionRuntime {
  /** The customer's leg is gone: nobody to play an outcome to. */
  customerGone = false;
  readonly language: Language;
  readonly #o: RuntimeOptions;
  readonly #steps: Record<CaptureField, FieldStep>;
  readonly #otp: OtpFieldState = { length: 6, awaitingResend: false };
  #otpId: string | undefined;
  /** The card's last 4 digits (masked data), for the receipt. */
  #last4: string | undefined;
  #otpRequests = 0;
  #paymentId: string | undefined;
  readonly otpMode: OtpMode;
  readonly #issuer: IssuerOtp;
  #timer: TimerHandle | undefined;
  #op = 0;
  #storeChain: Promise<unknown> = Promise.resolve();
  #busChain: Promise<unknown> = Promise.resolve();

  constructor(o: RuntimeOptions) {
    this.#o = o;
    this.language = o.language;
    const { card, cfg, deps } = o;
    this.otpMode = deps.payment.otpModeFor?.(deps.txn.merchantId) ?? 'gateway-sms';
    const host: StepHost = {
      play: (items, onDone) => o.play(items, onDone, true),
      stopPrompt: () => o.stopPrompt(),
      startTimer: (ms, fn) => {
        this.cancelTimer();
        this.#timer = deps.clock.setTimeout(fn, ms);
      },
      cancelTimer: () => this.cancelTimer(),
      publish: (e) => this.publish(e),
      done: () => o.dispatch({ type: 'field.done' }),
      exhausted: () => o.dispatch({ type: 'field.exhausted' }),
      resend: () => o.dispatch({ type: 'otp.resend' }),
      firstDigitMs: cfg.firstDigitMs,
      interDigitMs: cfg.interDigitMs,
      maxAttempts: cfg.maxAttempts,
    };
    const pan = panSpec(card.pan, {
      allowedBrands: cfg.allowedBrands?.(deps.txn.merchantId),
      lengths: cfg.panLength,
      cardRefused: cfg.cardRefused,
      terminator: cfg.panTerminator,
      onBrand: (brand) => this.publish({ type: 'card.identified', brand, complete: false }),
      onCard: (brand, masked) => {
        this.#last4 = masked.last4;
        this.publish({ type: 'card.identified', brand, complete: true, ...(masked.first6 ? { first6: masked.first6 } : {}), last4: masked.last4 });
        this.persist({ card: { brand, ...masked } });
      },
    });
    // A field's own timers and attempts (cfg.fields) over the session-wide ones.
    const hostFor = (field: CaptureField): StepHost => ({ ...host, ...cfg.fields?.[field] });
    this.#steps = {
      pan: new FieldStep(pan, hostFor('pan')),
      expiry: new FieldStep(expirySpec(card.expiry, () => new Date(o.now()), cfg.maxExpiryYears), hostFor('expiry')),
      cvv: new FieldStep(cvvSpec(card.cvv, () => pan.brand()), hostFor('cvv')),
      otp: new FieldStep(otpSpec(card.otp, this.#otp), hostFor('otp')),
    };
    this.#issuer = new IssuerOtp({
      runtime: o,
      otp: this.#otp,
      otpStep: () => this.#steps.otp,
      publish: (e) => this.publish(e),
      persist: (p) => this.persist(p),
      stored: () => this.#storeChain,
      run: (p, then, late) => this.#run(p, then, late),
      approved: (paymentId) => (this.#paymentId = paymentId),
    });
  }

  context(): MachineContext {
    if (this.otpMode === 'issuer') {
      // Resends and sends as the provider answered (the bank decides how many OTPs it sends).
      return { hungUp: this.customerGone, resendsLeft: this.#issuer.resendsLeft, otpSends: this.#issuer.sends, paymentId: this.#paymentId, otpMode: 'issuer' };
    }
    const resendsLeft = Math.max(0, this.#o.cfg.maxResends - Math.max(0, this.#otpRequests - 1));
    return { hungUp: this.customerGone, resendsLeft, otpSends: this.#otpRequests, paymentId: this.#paymentId, otpMode: this.otpMode };
  }

  step(field: CaptureField): FieldStep {
    return this.#steps[field];
  }

  iso(): string {
    return new Date(this.#o.now()).toISOString();
  }

  /** Creates the session record (masked by its schema) and announces the session. */
  async begin(): Promise<void> {
    const { txn, store, instanceId } = this.#o.deps;
    const record: SessionRecord = {
      id: this.#o.sessionId,
      state: CaptureState.Idle,
      field: null,
      outcome: null,
      orderRef: txn.orderRef,
      amount: txn.amount,
      currency: txn.currency,
      merchantId: txn.merchantId,
      agentId: txn.agentId ?? null,
      dtmfTransport: null,
      card: null,
      startedAt: this.iso(),
      endedAt: null,
      instanceId: instanceId ?? 'local',
    };
    await store.create(record);
    const { orderRef, amount, currency, merchantId } = txn;
    this.publish({ type: 'session.started', orderRef, amount, currency, merchantId, language: this.language });
  }

  /** Store updates in order; a failure is logged, never thrown into the call. */
  persist(patch: SessionPatch): void {
    const { store, logger } = this.#o.deps;
    this.#storeChain = this.#storeChain
      .then(() => store.update(this.#o.sessionId, patch))
      .catch((err: unknown) => logger.warn({ sessionId: this.#o.sessionId, err: (err as Error).message }, 'session store update failed'));
  }

  /** Events in order, stamped with the session id and time (the bus adds seq). */
  publish(body: SessionEventBody): void {
    const { bus, logger } = this.#o.deps;
    const event = { ...body, sessionId: this.#o.sessionId, agentId: this.#o.deps.txn.agentId ?? null, at: this.iso() } as Unsequenced<SessionEvent>;
    this.#busChain = this.#busChain
      .then(() => bus.publish(event))
      .catch((err: unknown) => logger.warn({ sessionId: this.#o.sessionId, type: body.type, err: (err as Error).message }, 'event publish failed'));
  }

  /** Every store write and event published so far has landed. */
  async settled(): Promise<void> {
    await Promise.all([this.#storeChain, this.#busChain]);
  }

  cancelTimer(): void {
    this.#timer?.cancel();
    this.#timer = undefined;
  }

  enterField(field: CaptureField, why: FieldWhy, lead?: PromptId): void {
    this.#steps[field].enter(why, lead);
  }

  clearFields(fields: readonly CaptureField[]): void {
    for (const f of fields) {
      this.#steps[f].clear('gateway');
      if (f === 'pan') this.persist({ card: null });
    }
  }

  /** Runs a provider step; its result counts only if the capture is still where it started it. */
  #run<T>(p: Promise<T>, then: (r: T) => void, late: (r: T) => void = noop): void {
    const op = ++this.#op;
    const at = this.#o.state();
    void p.then((r) => (op === this.#op && this.#o.state() === at ? then(r) : late(r)));
  }

  requestOtp(lead?: PromptId): void {
    const { deps } = this.#o;
    this.#otpRequests++;
    this.#o.play([...(lead ? [lead] : []), 'otp.sending'], noop, false);
    this.#run(
      generateOtp(deps.payment, deps.txn),
      (r) => {
        if (!r.ok) {
          this.publish({ type: 'provider.issue', step: 'otp-generate', code: r.code, action: 'ended' });
          return this.#o.dispatch({ type: 'otp.unavailable' });
        }
        if (!otpLengthAccepted(this.#o.cfg, r.issued.length)) {
          r.issued.otp.dispose();
          this.publish({ type: 'provider.issue', step: 'otp-generate', code: 'otp-length', action: 'ended' });
          return this.#o.dispatch({ type: 'otp.unavailable' });
        }
        this.#o.card.holdIssued(r.issued.otp);
        this.#otpId = r.issued.otpId;
        this.#otp.length = r.issued.length;
        this.#o.dispatch({ type: 'otp.issued' });
      },
      (r) => r.ok && r.issued.otp.dispose(),
    );
  }

  sendSms(): void {
    const { deps, card } = this.#o;
    const issued = card.issuedOtp;
    if (!issued) return this.#o.dispatch({ type: 'sms.failed', final: true });
    const sending = sendOtpSms(deps.sms, deps.templates.otp, deps.txn, issued);
    void sending.finally(() => card.dropIssued()); // the SMS text is built: our copy of the OTP goes
    this.#run(sending, (r) => {
      if (r.ok) {
        this.#otp.awaitingResend = false;
        const failedRoutes = r.sent.failedRoutes.map((f) => f.route);
        if (failedRoutes.length) this.publish({ type: 'provider.issue', step: 'sms', code: r.sent.failedRoutes[0]!.code, action: 'second-route' });
        const mobile = maskMobileForDisplay(deps.txn.customerMobile);
        this.publish({ type: 'otp.sent', mobile, route: r.sent.route, resend: this.#otpRequests - 1, failedRoutes });
        return this.#o.dispatch({ type: 'sms.sent' });
      }
      const final = !r.retryable || this.context().resendsLeft === 0;
      this.#otp.awaitingResend = !final;
      this.publish({ type: 'provider.issue', step: 'sms', code: r.code, action: final ? 'ended' : 'offer-resend' });
      this.#o.dispatch({ type: 'sms.failed', final });
    });
  }

  validateOtp(): void {
    const { deps, card } = this.#o;
    this.publish({ type: 'payment.processing', stage: 'otp-validate' });
    this.#run(validateOtp(deps.payment, this.#otpId ?? '', card.otp), (r) => {
      switch (r.status) {
        case 'valid':
          return this.#o.dispatch({ type: 'otp.valid' });
        case 'invalid':
          return this.#o.dispatch({ type: 'otp.invalid', final: this.#steps.otp.recordFailure('otp-invalid', r.attemptsLeft) });
        case 'expired':
          return this.#o.dispatch({ type: 'otp.expired' });
        case 'unavailable':
          this.publish({ type: 'provider.issue', step: 'otp-validate', code: r.code, action: 'ended' });
          return this.#o.dispatch({ type: 'otp.check-unavailable' });
      }
    });
  }

  pay(): void {
    const { deps, card } = this.#o;
    const { orderRef, merchantId, amount, currency } = deps.txn;
    const idempotencyKey = this.#o.newKey();
    this.publish({ type: 'payment.processing', stage: 'payment' });
    this.#o.play(['processing'], noop, false);
    deps.logger.info({ sessionId: this.#o.sessionId, idempotencyKey }, 'payment attempt');
    this.persist({ idempotencyKey }); // recorded before the call, so a crash can still be reconciled
    // Mode `none`: no OTP, so no otpId.
    const otpId = this.#otpId !== undefined ? { otpId: this.#otpId } : {};
    const req = { orderRef, merchantId, amount, currency, ...otpId, card: { pan: card.pan, expiry: card.expiry, cvv: card.cvv }, idempotencyKey };
    this.#run(
      this.#storeChain.then(() => takePayment(deps.payment, req)),
      (d) => {
        if (d.outcome === 'approved') {
          this.#paymentId = d.paymentId;
          return this.#o.dispatch({ type: 'payment.approved', paymentId: d.paymentId });
        }
        if (d.outcome === 'declined') {
          return this.#o.dispatch({ type: 'payment.declined', reason: d.reason, ...(d.paymentId !== undefined ? { paymentId: d.paymentId } : {}) });
        }
        const action = d.needsReconciliation ? 'reconcile' : 'ended';
        this.publish({ type: 'provider.issue', step: 'payment', code: d.reason, action });
        this.#o.dispatch({ type: 'payment.failed', reason: d.reason, needsReconciliation: d.needsReconciliation });
      },
    );
  }

  /** After `paid`: the receipt SMS, when a receipt template is configured (./receipt.ts). */
  sendReceipt(paymentId: string | undefined): void {
    const { deps } = this.#o;
    const t = deps.templates.receipt;
    if (!t || this.#last4 === undefined || paymentId === undefined) return;
    const log = deps.logger.child({ sessionId: this.#o.sessionId });
    this.#receipt = sendReceipt(deps.sms, t, deps.txn, { last4: this.#last4, paymentId }, log);
  }

  /** The receipt SMS, once sent or refused (tests wait for it). */
  #receipt: Promise<boolean> | undefined;
  get receipt(): Promise<boolean> | undefined {
    return this.#receipt;
  }

  /** Issuer mode: start authentication (or ask for a new OTP); see ./issuer-ops.ts. */
  issuerOtp(resend: boolean, lead?: PromptId): void {
    this.#issuer.request(resend, lead);
  }

  /** Issuer mode: submit the keyed OTP, which charges the card. */
  submitOtp(): void {
    this.#issuer.submit();
  }

  confirm(paymentId = this.#paymentId): void {
    const { deps } = this.#o;
    this.publish({ type: 'payment.processing', stage: 'confirm' });
    this.#run(confirmPayment(deps.payment, paymentId ?? ''), (r) => {
      if (r.ok) return this.#o.dispatch({ type: 'confirm.ok' });
      this.publish({ type: 'provider.issue', step: 'confirm', code: r.code, action: 'reconcile' });
      this.#o.dispatch({ type: 'confirm.failed' });
    });
  }
}

import { CaptureSession } from '../../capture/session.js';
import type { HangupCause } from '../../capture/machine.js';
import type { CapturePort } from '../../capture/port.js';
import type { SessionEvent } from '../../capture/events.js';
import type { Language, Transaction } from '../../handoff/index.js';
import type { Clock } from '../../lib/clock.js';
import { InvalidStateError } from '../../lib/errors.js';
import type { Bridge, DigitEvent } from '../../media/plane.js';
import type { Logger } from '../../observability/logger.js';
import type { EventBus, Outcome, SessionStore } from '../../store/index.js';
import { BridgeCapturePort } from './capture-port.js';
import type { CaptureRegistry } from './capture-registry.js';
import type { ClosingPrompts } from './closing.js';
import { nextRunState, RunState, type RunAction, type RunEvent } from './run-state.js';
import type { Payments } from './setup.js';

/** What every payment run needs, whatever started it (INVITE to the pay URI, the agent's REFER). */
export interface RunDeps {
  payments: Pick<Payments, 'payment' | 'paymentFor' | 'sms' | 'otpTemplate' | 'receiptTemplate' | 'smsTemplates' | 'captureConfig' | 'capture' | 'recordedClips'>;
  bus: EventBus<SessionEvent>;
  store: SessionStore;
  clock: Clock;
  logger: Logger;
  instanceId: string;
  defaultLanguage: Language;
}

/**
 * How a run ends, once the customer has heard the outcome (the capture set the bridge back to
 * `normal` first): hang up (BYE), report to the agent who referred (final NOTIFY, RFC 3515 2.4.5)
 * or send the customer back (REFER, RFC 3515). A new way in (a DID route) is another strategy.
 */
export interface RunEnding {
  end(outcome: Outcome): void;
  /**
   * The run cannot go on: the capture did not start (`start-failed`) or the bridge could not mute
   * the agent (`mute-failed`: never leave the agent able to hear a card).
   */
  abort(why: 'start-failed' | 'mute-failed'): void;
}

export interface RunOptions {
  readonly bridge: Bridge;
  /** The bridge leg the customer is on (its role is `customer`). */
  readonly customerLeg: string;
  /** The validated transaction (handoff/); `agentId` is the agent on the call, when there is one. */
  readonly txn: Transaction;
  readonly ending: RunEnding;
  readonly log: Logger;
  /** Where agents' commands from the /events socket find the capture. */
  readonly captures?: CaptureRegistry;
  /** What the customer hears last (./closing.ts); absent: the inline defaults (handback, silent refusal). */
  readonly closing?: ClosingPrompts;
}

/** The one factory of capture sessions: every run's capture gets the same dependencies. */
export function newCaptureSession(deps: RunDeps, txn: Transaction, port: CapturePort, closing?: ClosingPrompts): CaptureSession {
  const p = deps.payments;
  const config = p.captureConfig || p.capture || closing ? { ...p.captureConfig?.(txn.merchantId), ...p.capture, ...closing } : undefined;
  const language = txn.language ?? deps.defaultLanguage;
  const made: { session?: CaptureSession } = {}; // the chain names its provider in the session record (set just below)
  const onServe = (provider: string): void => made.session?.recordProvider(provider);
  const session = new CaptureSession({
    txn: { ...txn, language },
    port,
    // The merchant's provider, with failover before any charge (./provider-chain.ts).
    payment: p.paymentFor ? p.paymentFor(txn.merchantId, deps.logger.child({ orderRef: txn.orderRef }), onServe) : p.payment,
    sms: p.sms,
    // The SMS in the call's language where one is registered (sms-setup.ts), else the default's.
    templates: p.smsTemplates ? p.smsTemplates.forLanguage(language) : { otp: p.otpTemplate, receipt: p.receiptTemplate },
    clock: deps.clock,
    bus: deps.bus,
    store: deps.store,
    logger: deps.logger,
    instanceId: deps.instanceId,
    ...(config ? { config } : {}),
  });
  made.session = session;
  return session;
}

/**
 * One payment run: a capture on the customer leg of a bridge, with a start / kill / done
 * lifecycle (./run-state.ts). The run subscribes to the bridge's digits by role (the customer's
 * keys only: the agent's keypad never enters card data), plays prompts through the one
 * {@link BridgeCapturePort}, and hands the end to its {@link RunEnding}. It owns nothing of the call:
 * whoever started it (transfer-call.ts, refer-entry.ts) keeps the SIP side and the bridge.
 */
export class PaymentRun {
  readonly session: CaptureSession;
  /** Settles once the run is closed: the capture is over and its buffers are wiped. */
  readonly done: Promise<void>;
  readonly #o: RunOptions;
  readonly #port: BridgeCapturePort;
  #state = RunState.Created;
  /** Why the call was ended under the capture (media timeout, session expiry): the session's reason. */
  #cause: HangupCause | undefined;
  #offDigits: (() => void) | undefined;
  #markDone!: () => void;

  constructor(deps: RunDeps, o: RunOptions) {
    this.#o = o;
    this.done = new Promise((r) => (this.#markDone = r));
    this.#port = new BridgeCapturePort({
      bridge: o.bridge,
      customerLeg: o.customerLeg,
      log: o.log,
      inputs: () => this.session,
      onMuteFailed: (err) => {
        o.log.error({ err }, 'the bridge could not mute the agent: ending the run');
        o.ending.abort('mute-failed');
      },
      onEnd: (outcome) => this.#dispatch('outcome', outcome),
      ...(deps.payments.recordedClips ? { recordedClips: deps.payments.recordedClips } : {}),
    });
    this.session = newCaptureSession(deps, o.txn, this.#port, o.closing);
    o.captures?.add(this.session);
  }

  get log(): Logger {
    return this.#o.log;
  }

  get state(): RunState {
    return this.#state;
  }

  /** Starts the capture (greeting, agent muted). A capture that cannot start aborts the run. */
  start(): void {
    this.#dispatch('start');
  }

  /**
   * The customer (or the whole call) is gone: the capture records it (money in flight is let
   * finish: a payment already sent keeps the provider's outcome) and no end-of-run strategy runs.
   * `cause`: the gateway ended the call (media timeout, session expiry), the abandoned session's
   * reason. Idempotent.
   */
  kill(reason: string, cause?: HangupCause): void {
    if (this.#state === RunState.Created || this.#state === RunState.Running) this.#o.log.info({ reason, cause }, 'payment run killed');
    this.#cause ??= cause;
    this.#dispatch('kill');
  }

  /** Idempotent: a running capture ends as if the customer hung up. Resolves once it is over. */
  close(): Promise<void> {
    this.#dispatch('close');
    return this.done;
  }

  #onDigit(d: DigitEvent): void {
    if (d.role !== 'customer') return;
    this.#port.noteDigit(d);
    this.session.onDigit(d.digit, d.transport);
  }

  #dispatch(ev: RunEvent, outcome?: Outcome): void {
    let tr;
    try {
      tr = nextRunState(this.#state, ev);
    } catch (err) {
      if (!(err instanceof InvalidStateError)) throw err;
      this.#o.log.warn({ state: this.#state, ev }, 'payment run event refused');
      return;
    }
    this.#state = tr.state;
    for (const a of tr.actions) this.#perform(a, outcome);
  }

  #perform(a: RunAction, outcome: Outcome | undefined): void {
    const o = this.#o;
    switch (a) {
      case 'start-capture':
        this.#offDigits = o.bridge.events.on('digit', (d) => this.#onDigit(d));
        this.session.start().catch((err: unknown) => {
          o.log.error({ err }, 'capture failed to start');
          o.ending.abort('start-failed');
          this.#dispatch('close');
        });
        return;
      case 'run-strategy':
        o.log.info({ outcome }, 'payment run finished');
        o.ending.end(outcome ?? 'abandoned');
        return this.#dispatch('close');
      case 'hang-up-capture':
        return this.session.onHangup(this.#cause);
      case 'release':
        return this.#release();
    }
  }

  #release(): void {
    this.#offDigits?.();
    this.#offDigits = undefined;
    this.session.close().then(
      () => this.#finish(),
      (err: unknown) => {
        this.#o.log.error({ err }, 'capture close failed');
        this.#finish();
      },
    );
  }

  #finish(): void {
    this.#o.captures?.remove(this.session);
    this.#markDone();
  }
}

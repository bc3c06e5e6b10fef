/**
 * The thin runtime under every transaction machine: it feeds events to the pure transition function
 * and executes the actions (send, timers, TU callbacks) on the injected Clock (docs/architecture.md practice 5).
 */
import type { Clock, TimerHandle } from '../../lib/clock.js';
import { SipTimers } from '../constants.js';
import type { SipFlow } from '../transport/types.js';
import {
  type ClientEvent,
  type ServerEvent,
  type TimerName,
  type Transition,
  type TransactionLogger,
  type TxnAction,
  InvalidStateError,
  describeEvent,
} from './types.js';

export interface RuntimeDeps {
  readonly id: string;
  readonly clock: Clock;
  readonly flow: SipFlow;
  readonly logger: TransactionLogger;
}

/**
 * Timer values (RFC 3261 Table 4; RFC 6026 for L and M). A/E/G back off from T1; D/I/J/K are 0 over
 * reliable flows, and a 0 timer fires at once, before the event that started it returns.
 */
export function timerDuration(timer: TimerName, reliable: boolean, previous: number | undefined, proceeding: boolean): number {
  const doubled = (cap: number): number => (previous === undefined ? SipTimers.T1 : Math.min(previous * 2, cap));
  switch (timer) {
    case 'A':
      return doubled(Infinity); // 17.1.1.2: T1, 2*T1, 4*T1 ... until B
    case 'E':
      return proceeding ? SipTimers.T2 : doubled(SipTimers.T2); // 17.1.2.2
    case 'G':
      return doubled(SipTimers.T2); // 17.2.1
    case 'B':
      return SipTimers.B;
    case 'F':
      return SipTimers.F;
    case 'H':
      return SipTimers.H;
    case 'D':
      return reliable ? 0 : SipTimers.D_UNRELIABLE;
    case 'I':
      return reliable ? 0 : SipTimers.I_UNRELIABLE;
    case 'J':
      return reliable ? 0 : SipTimers.J_UNRELIABLE;
    case 'K':
      return reliable ? 0 : SipTimers.K_UNRELIABLE;
    case 'L':
      return SipTimers.H; // RFC 6026 Timer L = 64*T1; constants.ts has no L, H has the same value
    case 'M':
      return SipTimers.B; // RFC 6026 Timer M = 64*T1; constants.ts has no M, B has the same value
    case 'Trying':
      return SipTimers.TRYING_DELAY;
  }
}

export abstract class TransactionRuntime<S extends string, E extends ClientEvent | ServerEvent> {
  readonly id: string;
  readonly flow: SipFlow;
  protected readonly clock: Clock;
  protected readonly logger: TransactionLogger;
  protected current: S;
  private readonly timers = new Map<TimerName, TimerHandle>();
  private readonly intervals = new Map<TimerName, number>();
  private readonly queue: E[] = [];
  private running = false;
  private done = false;
  private readonly terminatedCallbacks: Array<() => void> = [];

  protected abstract readonly machineName: string;
  protected abstract readonly terminatedState: S;
  protected abstract transition(state: S, event: E): Transition<S>;
  /** Executes the actions other than timers: send*, toTu, timeout, transportError. */
  protected abstract perform(action: TxnAction): void;

  constructor(deps: RuntimeDeps, initial: S) {
    this.id = deps.id;
    this.flow = deps.flow;
    this.clock = deps.clock;
    this.logger = deps.logger;
    this.current = initial;
  }

  get state(): S {
    return this.current;
  }

  get terminated(): boolean {
    return this.done;
  }

  onTerminated(cb: () => void): void {
    if (this.done) this.safely('onTerminated', cb);
    else this.terminatedCallbacks.push(cb);
  }

  /** Idempotent; no TU callback other than onTerminated runs. */
  dispose(): void {
    if (this.done) return;
    this.current = this.terminatedState;
    this.finish();
  }

  /** Runs the entry transition of the machine (actions of the initial state). */
  protected begin(entry: Transition<S>): void {
    this.running = true;
    try {
      this.apply(entry);
      this.drain();
    } finally {
      this.running = false;
    }
  }

  /**
   * Feeds one event. An InvalidStateError for this event is thrown to the caller; events queued by
   * the actions (a send that failed, a 0 ms timer) run after it, and their errors are only logged.
   */
  protected dispatch(event: E): void {
    if (this.done) throw new InvalidStateError(this.machineName, this.terminatedState, describeEvent(event));
    if (this.running) {
      this.queue.push(event);
      return;
    }
    this.running = true;
    try {
      this.apply(this.transition(this.current, event));
      this.drain();
    } finally {
      this.running = false;
    }
  }

  /** Sends on the flow; a refusal becomes a transport error event (17.1.4, 17.2.4). */
  protected send(message: string): void {
    let ok: boolean;
    try {
      ok = this.flow.send(message);
    } catch (err) {
      this.logger.warn({ txn: this.id, err }, 'sip transaction: flow.send threw');
      ok = false;
    }
    if (!ok) this.queue.push({ type: 'transportError' } as E);
  }

  /** Calls TU code; its exception is logged and never ends the transaction (docs/architecture.md practice 8). */
  protected safely(what: string, fn: () => void): void {
    try {
      fn();
    } catch (err) {
      this.logger.error({ txn: this.id, err }, `sip transaction: ${what} callback threw`);
    }
  }

  private drain(): void {
    while (this.queue.length > 0 && !this.done) {
      const event = this.queue.shift()!;
      try {
        this.apply(this.transition(this.current, event));
      } catch (err) {
        if (!(err instanceof InvalidStateError)) throw err;
        this.logger.warn({ txn: this.id, err: err.message }, 'sip transaction: internal event dropped');
      }
    }
  }

  private apply(t: Transition<S>): void {
    this.current = t.state;
    for (const action of t.actions) {
      if (this.done) return;
      if (action.type === 'startTimer') this.startTimer(action.timer);
      else if (action.type === 'cancelTimer') this.cancelTimer(action.timer);
      else this.perform(action);
    }
    if (t.state === this.terminatedState && !this.done) this.finish();
  }

  private startTimer(timer: TimerName): void {
    this.cancelTimer(timer);
    const ms = timerDuration(timer, this.flow.reliable, this.intervals.get(timer), this.current === 'Proceeding');
    this.intervals.set(timer, ms);
    const event = { type: 'timer', timer } as E;
    if (ms <= 0) {
      this.queue.push(event);
      return;
    }
    this.timers.set(
      timer,
      this.clock.setTimeout(() => {
        this.timers.delete(timer);
        if (!this.done) this.dispatchFromTimer(event);
      }, ms),
    );
  }

  private dispatchFromTimer(event: E): void {
    try {
      this.dispatch(event);
    } catch (err) {
      if (!(err instanceof InvalidStateError)) throw err;
      this.logger.warn({ txn: this.id, err: err.message }, 'sip transaction: stale timer dropped');
    }
  }

  private cancelTimer(timer: TimerName): void {
    this.timers.get(timer)?.cancel();
    this.timers.delete(timer);
  }

  private finish(): void {
    this.done = true;
    for (const t of this.timers.values()) t.cancel();
    this.timers.clear();
    this.queue.length = 0;
    const callbacks = this.terminatedCallbacks.splice(0);
    for (const cb of callbacks) this.safely('onTerminated', cb);
  }
}

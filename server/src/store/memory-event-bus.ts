import { systemClock, type Clock } from '../lib/clock.js';
import {
  EventBusClosedError,
  type BusEvent,
  type EventBus,
  type ReplayResult,
  type SubscribeOptions,
  type Subscription,
  type Unsequenced,
} from './event-bus.js';

export interface MemoryEventBusOptions {
  /** Events retained per session for replay. Default 500 (a whole capture is well under 200). */
  readonly historyPerSession?: number;
  /** Sessions whose history is retained; the least recently published go first. Default 10 000. */
  readonly maxSessions?: number;
  /** History dropped this long after a session's last event. Default 1 h. */
  readonly historyTtlMs?: number;
  readonly clock?: Clock;
  /** A subscriber threw (it is logged by the caller, never rethrown). */
  readonly onListenerError?: (err: unknown) => void;
}

interface History<E> {
  lastSeq: number;
  events: E[];
  lastAt: number;
}

interface Sub<E> {
  readonly listener: (e: E) => void;
  readonly sessionId: string | undefined;
}

export const DEFAULT_HISTORY_PER_SESSION = 500;

/** In-process {@link EventBus}: synchronous delivery, bounded per-session history. */
export class MemoryEventBus<E extends BusEvent = BusEvent> implements EventBus<E> {
  readonly #hist = new Map<string, History<E>>();
  readonly #subs = new Set<Sub<E>>();
  readonly #perSession: number;
  readonly #maxSessions: number;
  readonly #ttl: number;
  readonly #clock: Clock;
  readonly #onError: (err: unknown) => void;
  #closed = false;

  constructor(o: MemoryEventBusOptions = {}) {
    this.#perSession = Math.max(1, o.historyPerSession ?? DEFAULT_HISTORY_PER_SESSION);
    this.#maxSessions = Math.max(1, o.maxSessions ?? 10_000);
    this.#ttl = o.historyTtlMs ?? 60 * 60_000;
    this.#clock = o.clock ?? systemClock;
    this.#onError = o.onListenerError ?? (() => {});
  }

  async publish(event: Unsequenced<E>): Promise<E> {
    if (this.#closed) throw new EventBusClosedError();
    const now = this.#clock.now();
    const sid = event.sessionId;
    let h = this.#hist.get(sid);
    if (h && now - h.lastAt >= this.#ttl) h = undefined;
    if (h) this.#hist.delete(sid); // re-inserted below: Map order = least recently published first
    h ??= { lastSeq: 0, events: [], lastAt: now };
    const stamped = { ...event, seq: h.lastSeq + 1 } as unknown as E;
    h.lastSeq = stamped.seq;
    h.lastAt = now;
    h.events.push(stamped);
    if (h.events.length > this.#perSession) h.events.splice(0, h.events.length - this.#perSession);
    this.#hist.set(sid, h);
    this.#trim(now);
    for (const s of [...this.#subs]) if (s.sessionId === undefined || s.sessionId === sid) this.#deliver(s, stamped);
    return stamped;
  }

  async subscribe(listener: (event: E) => void, options: SubscribeOptions = {}): Promise<Subscription> {
    if (this.#closed) throw new EventBusClosedError();
    const sub: Sub<E> = { listener, sessionId: options.sessionId };
    const truncated: string[] = [];
    // Delivery is synchronous and publish() cannot interleave here, so replay-then-attach loses nothing.
    for (const [sid, afterSeq] of Object.entries(options.resume ?? {})) {
      if (options.sessionId !== undefined && sid !== options.sessionId) continue;
      const r = this.#replay(sid, afterSeq);
      if (r.truncated) truncated.push(sid);
      for (const e of r.events) this.#deliver(sub, e);
    }
    this.#subs.add(sub);
    return {
      truncated,
      unsubscribe: async () => void this.#subs.delete(sub),
    };
  }

  async replay(sessionId: string, afterSeq: number): Promise<ReplayResult<E>> {
    if (this.#closed) throw new EventBusClosedError();
    return this.#replay(sessionId, afterSeq);
  }

  async close(): Promise<void> {
    this.#closed = true;
    this.#subs.clear();
    this.#hist.clear();
  }

  #replay(sessionId: string, afterSeq: number): ReplayResult<E> {
    const h = this.#hist.get(sessionId);
    if (!h || this.#clock.now() - h.lastAt >= this.#ttl) return { events: [], truncated: afterSeq > 0, lastSeq: 0 };
    const oldest = h.events[0]?.seq ?? h.lastSeq + 1;
    return {
      events: h.events.filter((e) => e.seq > afterSeq),
      truncated: afterSeq + 1 < oldest,
      lastSeq: h.lastSeq,
    };
  }

  #deliver(s: Sub<E>, e: E): void {
    try {
      s.listener(e);
    } catch (err) {
      try {
        this.#onError(err);
      } catch {
        // the error reporter itself failed: nothing more to do
      }
    }
  }

  #trim(now: number): void {
    for (const [sid, h] of this.#hist) {
      if (this.#hist.size <= this.#maxSessions && now - h.lastAt < this.#ttl) break; // the rest are newer
      this.#hist.delete(sid);
    }
  }
}

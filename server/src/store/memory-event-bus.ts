import { systemClock, type Clock } from '../lib/clock.js';
import { packHistory, unpackHistory, type PackedHistory } from './packed-history.js';

/** How histories are packed and unpacked; a seam for tests (a history that fails to unpack). */
export interface HistoryCodec {
  pack<E>(h: { readonly lastSeq: number; readonly lastAt: number; readonly events: readonly E[] }): PackedHistory;
  unpack<E>(p: PackedHistory): { lastSeq: number; lastAt: number; events: E[] };
}
const zlibCodec: HistoryCodec = { pack: packHistory, unpack: unpackHistory };
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
  /**
   * A session's history is packed (packed-history.ts: deflated, outside V8's heap) this long after
   * its last event, and unpacked again by a later publish. Default 30 s: a payment's events come
   * seconds apart while it runs and stop when it ends.
   */
  readonly packAfterMs?: number;
  readonly clock?: Clock;
  /** A subscriber threw (it is logged by the caller, never rethrown). */
  readonly onListenerError?: (err: unknown) => void;
  /**
   * A packed history could not be unpacked (a PackedHistoryError: only a defect could cause it,
   * the bytes never leave the process). The session's events so far are lost to replay, which
   * says `truncated`; its sequence goes on, and the publish or replay that met it does not fail.
   */
  readonly onHistoryError?: (err: unknown, sessionId: string) => void;
  readonly codec?: HistoryCodec;
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
export const DEFAULT_PACK_AFTER_MS = 30_000;

/**
 * In-process {@link EventBus}: synchronous delivery, bounded per-session history. Histories live in
 * two maps, each in order of last publish (least recent first): `#hot` as objects, `#packed` those
 * quiet for `packAfterMs`. Every packed history is older than every hot one (a history is packed
 * from the head of `#hot`, and one published to again leaves `#packed`), so together they are one
 * least-recently-published order: `#packed`, then `#hot`.
 */
export class MemoryEventBus<E extends BusEvent = BusEvent> implements EventBus<E> {
  readonly #hot = new Map<string, History<E>>();
  readonly #packed = new Map<string, PackedHistory>();
  readonly #subs = new Set<Sub<E>>();
  readonly #perSession: number;
  readonly #maxSessions: number;
  readonly #ttl: number;
  readonly #packAfter: number;
  readonly #clock: Clock;
  readonly #onError: (err: unknown) => void;
  readonly #onHistoryError: (err: unknown, sessionId: string) => void;
  readonly #codec: HistoryCodec;
  #closed = false;

  constructor(o: MemoryEventBusOptions = {}) {
    this.#perSession = Math.max(1, o.historyPerSession ?? DEFAULT_HISTORY_PER_SESSION);
    this.#maxSessions = Math.max(1, o.maxSessions ?? 10_000);
    this.#ttl = o.historyTtlMs ?? 60 * 60_000;
    this.#packAfter = Math.max(0, o.packAfterMs ?? DEFAULT_PACK_AFTER_MS);
    this.#clock = o.clock ?? systemClock;
    this.#onError = o.onListenerError ?? (() => {});
    this.#onHistoryError = o.onHistoryError ?? (() => {});
    this.#codec = o.codec ?? zlibCodec;
  }

  async publish(event: Unsequenced<E>): Promise<E> {
    if (this.#closed) throw new EventBusClosedError();
    const now = this.#clock.now();
    const sid = event.sessionId;
    let h = this.#take(sid); // re-inserted below: Map order = least recently published first
    if (h && now - h.lastAt >= this.#ttl) h = undefined;
    h ??= { lastSeq: 0, events: [], lastAt: now };
    const stamped = { ...event, seq: h.lastSeq + 1 } as unknown as E;
    h.lastSeq = stamped.seq;
    h.lastAt = now;
    h.events.push(stamped);
    if (h.events.length > this.#perSession) h.events.splice(0, h.events.length - this.#perSession);
    this.#hot.set(sid, h);
    this.#pack(now);
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
    this.#hot.clear();
    this.#packed.clear();
  }

  /** Sessions whose history is held, and how many of them are packed. */
  get retained(): { sessions: number; packed: number; packedBytes: number } {
    let packedBytes = 0;
    for (const p of this.#packed.values()) packedBytes += p.bytes.byteLength;
    return { sessions: this.#hot.size + this.#packed.size, packed: this.#packed.size, packedBytes };
  }

  #replay(sessionId: string, afterSeq: number): ReplayResult<E> {
    const held = this.#packed.get(sessionId) ?? this.#hot.get(sessionId);
    if (!held || this.#clock.now() - held.lastAt >= this.#ttl) return { events: [], truncated: afterSeq > 0, lastSeq: 0 };
    // Nothing after afterSeq: answered without unpacking (a client resuming an ended session it saw to the end).
    if ('bytes' in held && afterSeq >= held.lastSeq) return { events: [], truncated: false, lastSeq: held.lastSeq };
    let h: History<E>;
    if (!('bytes' in held)) h = held;
    else {
      const unpacked = this.#unpack(sessionId, held);
      if (unpacked) h = unpacked;
      else {
        // Unreadable: replaced by an empty history in the same place of the order, its sequence kept.
        h = { lastSeq: held.lastSeq, lastAt: held.lastAt, events: [] };
        this.#packed.set(sessionId, this.#codec.pack(h));
      }
    }
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

  /** Removes a session's history from whichever map holds it, unpacked. */
  #take(sid: string): History<E> | undefined {
    const h = this.#hot.get(sid);
    if (h) {
      this.#hot.delete(sid);
      return h;
    }
    const p = this.#packed.get(sid);
    if (!p) return undefined;
    this.#packed.delete(sid);
    // Unreadable: the events are lost, the sequence goes on (replay says truncated).
    return this.#unpack(sid, p) ?? { lastSeq: p.lastSeq, lastAt: p.lastAt, events: [] };
  }

  /** Unpacks a history; one that cannot be read is reported (undefined). */
  #unpack(sid: string, p: PackedHistory): History<E> | undefined {
    try {
      return this.#codec.unpack<E>(p);
    } catch (err) {
      try {
        this.#onHistoryError(err, sid);
      } catch {
        // the error reporter itself failed: nothing more to do
      }
      return undefined;
    }
  }

  /** Packs the histories quiet for `packAfterMs`, least recently published first. */
  #pack(now: number): void {
    for (const [sid, h] of this.#hot) {
      if (now - h.lastAt < this.#packAfter) break; // the rest are newer
      this.#hot.delete(sid);
      this.#packed.set(sid, this.#codec.pack(h));
    }
  }

  #trim(now: number): void {
    for (const m of [this.#packed, this.#hot]) {
      for (const [sid, h] of m) {
        if (this.#hot.size + this.#packed.size <= this.#maxSessions && now - h.lastAt < this.#ttl) return; // the rest are newer
        m.delete(sid);
      }
    }
  }
}

import type { BusEvent, ReplayResult, SubscribeOptions, Subscription } from './event-bus.js';

interface Sub<E> {
  readonly listener: (e: E) => void;
  readonly sessionId: string | undefined;
  readonly localOnly: boolean;
  /** Per resumed session, the last seq this subscriber got: nothing at or below it again. */
  readonly floor: Map<string, number>;
  /** Live events held while the resume replay runs (delivered after it, deduplicated). */
  pending: { e: E; local: boolean }[] | undefined;
}

/**
 * The subscribers of one gateway instance. Every event reaches it once or twice: straight from
 * this instance's own publish (local-first, so a publisher's subscribers never wait on Redis and
 * keep getting events through an outage) and again as the pub/sub echo; and from other instances
 * through pub/sub only. Per session it delivers each seq at most once and never an older one after
 * a newer (a lost-and-refound echo is dropped), and keeps a short recent history so `replay` can
 * answer from memory while Redis is down.
 */
export class LocalFanout<E extends BusEvent> {
  readonly #subs = new Set<Sub<E>>();
  /** Highest seq delivered per session; least recently active first. */
  readonly #delivered = new Map<string, number>();
  readonly #recent = new Map<string, E[]>();

  constructor(
    private readonly onListenerError: (err: unknown) => void,
    private readonly maxSessions = 10_000,
    private readonly recentPerSession = 200,
  ) {}

  /** Sessions this instance has seen events of, with the last seq (catch-up after an outage). */
  delivered(): ReadonlyMap<string, number> {
    return this.#delivered;
  }

  dispatch(e: E, local: boolean): void {
    const sid = e.sessionId;
    const last = this.#delivered.get(sid) ?? 0;
    if (e.seq <= last) return;
    this.#delivered.delete(sid);
    this.#delivered.set(sid, e.seq);
    let recent = this.#recent.get(sid);
    if (recent) this.#recent.delete(sid);
    recent ??= [];
    recent.push(e);
    if (recent.length > this.recentPerSession) recent.shift();
    this.#recent.set(sid, recent);
    this.#trim();
    for (const s of [...this.#subs]) this.#to(s, e, local);
  }

  /** Answers a replay from the recent history (used while Redis is down). */
  replayLocal(sessionId: string, afterSeq: number): ReplayResult<E> {
    const recent = this.#recent.get(sessionId) ?? [];
    const lastSeq = this.#delivered.get(sessionId) ?? 0;
    const oldest = recent[0]?.seq ?? lastSeq + 1;
    return { events: recent.filter((e) => e.seq > afterSeq), truncated: afterSeq + 1 < oldest && afterSeq < lastSeq, lastSeq };
  }

  async subscribe(
    listener: (e: E) => void,
    o: SubscribeOptions,
    replay: (sessionId: string, afterSeq: number) => Promise<ReplayResult<E>>,
  ): Promise<Subscription> {
    const sub: Sub<E> = { listener, sessionId: o.sessionId, localOnly: o.localOnly ?? false, floor: new Map(), pending: [] };
    this.#subs.add(sub);
    const truncated: string[] = [];
    try {
      for (const [sid, afterSeq] of Object.entries(o.resume ?? {})) {
        if (o.sessionId !== undefined && sid !== o.sessionId) continue;
        sub.floor.set(sid, afterSeq);
        const r = await replay(sid, afterSeq);
        if (r.truncated) truncated.push(sid);
        for (const e of r.events) this.#call(sub, e);
      }
    } finally {
      const held = sub.pending ?? [];
      sub.pending = undefined;
      for (const { e, local } of held) this.#to(sub, e, local);
    }
    return { truncated, unsubscribe: async () => void this.#subs.delete(sub) };
  }

  clear(): void {
    this.#subs.clear();
    this.#delivered.clear();
    this.#recent.clear();
  }

  #to(s: Sub<E>, e: E, local: boolean): void {
    if (s.sessionId !== undefined && s.sessionId !== e.sessionId) return;
    if (s.localOnly && !local) return;
    if (s.pending) s.pending.push({ e, local });
    else this.#call(s, e);
  }

  #call(s: Sub<E>, e: E): void {
    const floor = s.floor.get(e.sessionId);
    if (floor !== undefined) {
      if (e.seq <= floor) return;
      s.floor.set(e.sessionId, e.seq);
    }
    try {
      s.listener(e);
    } catch (err) {
      try {
        this.onListenerError(err);
      } catch {
        // the error reporter itself failed: nothing more to do
      }
    }
  }

  #trim(): void {
    for (const map of [this.#delivered, this.#recent]) {
      for (const sid of map.keys()) {
        if (map.size <= this.maxSessions) break;
        map.delete(sid);
      }
    }
  }
}

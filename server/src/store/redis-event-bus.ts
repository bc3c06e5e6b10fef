import type { Logger } from '../observability/logger.js';
import {
  EventBusClosedError,
  type BusEvent,
  type EventBus,
  type ReplayResult,
  type SubscribeOptions,
  type Subscription,
  type Unsequenced,
} from './event-bus.js';
import { DEFAULT_HISTORY_PER_SESSION } from './memory-event-bus.js';
import { LocalFanout } from './redis-bus-fanout.js';
import { PUBLISH_EVENT, PUT_EVENT, RedisKeys } from './redis-keys.js';
import type { RedisLink } from './redis-link.js';

export interface RedisEventBusOptions<E extends BusEvent = BusEvent> {
  readonly link: RedisLink;
  readonly logger: Logger;
  /** Marks this instance's events on the channel (`localOnly` subscribers). */
  readonly instanceId: string;
  readonly keys?: RedisKeys;
  /** Stream length per session (`XADD MAXLEN ~`; exact below 100). Default 500. */
  readonly historyPerSession?: number;
  /** Streams and seq counters expire this long after a session's last event. Default 1 h. */
  readonly historyTtlMs?: number;
  /** Events held while Redis is down; beyond it the oldest are dropped (and counted). Default 10 000. */
  readonly outageBuffer?: number;
  readonly onListenerError?: (err: unknown) => void;
  /**
   * Checks an event read from Redis (channel or stream) before it reaches a subscriber; undefined
   * drops it, logged (docs/security.md). Default: a minimal check of type, sessionId and seq.
   */
  readonly parseEvent?: (value: unknown) => E | undefined;
}

export const DEFAULT_OUTAGE_BUFFER = 10_000;

/**
 * {@link EventBus} on Redis (key layout: redis-keys.ts). Publishing runs one Lua script that
 * assigns the seq (INCR), appends the event to the session's stream (`XADD events:{id} MAXLEN ~
 * 500 0-{seq}`) and PUBLISHes it on one channel for every instance: atomic, one round trip.
 * Streams are the retained history for `replay` and resume; pub/sub is live delivery. The
 * publisher's own subscribers get the event straight away (see {@link LocalFanout}).
 *
 * Outages: while Redis is down (or a publish fails) events get their seq locally (this instance
 * is the only publisher of its sessions' events and knows the last seq), are delivered locally
 * and queued, at most `outageBuffer` (oldest dropped beyond it, logged once, counted). Once Redis
 * is back the queue is written in order by an idempotent script, before any newer event, and
 * other instances receive them with their original seq.
 */
export class RedisEventBus<E extends BusEvent = BusEvent> implements EventBus<E> {
  readonly #link: RedisLink;
  readonly #log: Logger;
  readonly #k: RedisKeys;
  readonly #instance: string;
  readonly #maxlen: number;
  readonly #ttl: number;
  readonly #limit: number;
  readonly #fanout: LocalFanout<E>;
  readonly #parse: (value: unknown) => E | undefined;
  /** Last seq of the sessions this instance published; least recently published first. */
  readonly #lastSeq = new Map<string, number>();
  readonly #chains = new Map<string, Promise<unknown>>();
  #outbox: E[] = [];
  #dropped = 0;
  #droppedTotal = 0;
  #listening = false;
  #flushing: Promise<void> | undefined;
  #retry: NodeJS.Timeout | undefined;
  #closed = false;

  constructor(o: RedisEventBusOptions<E>) {
    this.#link = o.link;
    this.#log = o.logger;
    this.#k = o.keys ?? new RedisKeys();
    this.#instance = o.instanceId;
    this.#maxlen = Math.max(1, o.historyPerSession ?? DEFAULT_HISTORY_PER_SESSION);
    this.#ttl = o.historyTtlMs ?? 60 * 60_000;
    this.#limit = Math.max(1, o.outageBuffer ?? DEFAULT_OUTAGE_BUFFER);
    this.#fanout = new LocalFanout<E>(o.onListenerError ?? (() => {}));
    this.#parse = o.parseEvent ?? minimalEvent<E>;
    o.link.onUp(async (restarted) => {
      if (restarted) this.#restore();
      await this.#listen();
      await this.#flush();
      await this.#catchUp();
    });
  }

  /** Starts live delivery from other instances (when Redis is up; else on reconnection). */
  async start(): Promise<void> {
    if (this.#link.up) await this.#listen().catch(() => undefined);
  }

  /** Events waiting for Redis. */
  get buffered(): number {
    return this.#outbox.length;
  }

  /** Events dropped since start because the outage buffer was full. */
  get droppedTotal(): number {
    return this.#droppedTotal;
  }

  publish(event: Unsequenced<E>): Promise<E> {
    if (this.#closed) return Promise.reject(new EventBusClosedError());
    // One at a time per session: seqs go out in the order they were assigned.
    const sid = event.sessionId;
    const p = (this.#chains.get(sid) ?? Promise.resolve()).then(() => this.#publishOne(event));
    const tail = p.catch(() => undefined);
    this.#chains.set(sid, tail);
    void tail.then(() => this.#chains.get(sid) === tail && this.#chains.delete(sid));
    return p;
  }

  async subscribe(listener: (event: E) => void, options: SubscribeOptions = {}): Promise<Subscription> {
    if (this.#closed) throw new EventBusClosedError();
    return this.#fanout.subscribe(listener, options, (sid, after) => this.replay(sid, after));
  }

  async replay(sessionId: string, afterSeq: number): Promise<ReplayResult<E>> {
    if (this.#closed) throw new EventBusClosedError();
    if (!this.#link.up) return this.#withOutbox(this.#fanout.replayLocal(sessionId, afterSeq), sessionId, afterSeq);
    try {
      const [entries, last] = await this.#link.timed('event replay', (c) => Promise.all([c.xRange(this.#k.events(sessionId), `(0-${afterSeq}`, '+'), c.get(this.#k.seq(sessionId))]));
      const events = entries.flatMap((m) => {
        const e = m.message.e ? this.#read(m.message.e) : undefined;
        return e ? [e] : [];
      });
      const lastSeq = Number(last ?? 0);
      const first = events[0]?.seq;
      const truncated = first !== undefined ? first > afterSeq + 1 : lastSeq === 0 ? afterSeq > 0 : lastSeq > afterSeq;
      return this.#withOutbox({ events, truncated, lastSeq }, sessionId, afterSeq);
    } catch {
      return this.#withOutbox(this.#fanout.replayLocal(sessionId, afterSeq), sessionId, afterSeq);
    }
  }

  /** Idempotent: writes what it can of the outage buffer first (Redis up), then stops. */
  async close(): Promise<void> {
    if (this.#closed) return;
    if (this.#link.up) await Promise.all([...this.#chains.values()]).then(() => this.#flush());
    this.#closed = true;
    clearTimeout(this.#retry);
    this.#fanout.clear();
    if (this.#listening && this.#link.sub.isReady) await this.#link.sub.unsubscribe(this.#k.channel()).catch(() => undefined);
  }

  async #publishOne(event: Unsequenced<E>): Promise<E> {
    if (this.#closed) throw new EventBusClosedError();
    const sid = event.sessionId;
    const hint = this.#lastSeq.get(sid) ?? 0;
    if (this.#link.up && this.#outbox.length === 0) {
      try {
        const seq = Number(
          await this.#link.timed('event publish', (c) =>
            c.eval(PUBLISH_EVENT, {
              keys: [this.#k.seq(sid), this.#k.events(sid)],
              arguments: [String(hint), JSON.stringify(event), ...this.#streamArgs()],
            }),
          ),
        );
        return this.#local({ ...event, seq } as unknown as E);
      } catch {
        // Not known to have landed: queue it with the next local seq (the put is idempotent).
      }
    }
    const stamped = { ...event, seq: hint + 1 } as unknown as E;
    this.#buffer(stamped);
    return this.#local(stamped);
  }

  /** MAXLEN (with `~` when long enough to trim by whole nodes), TTL, channel, instance. */
  #streamArgs(): string[] {
    return [this.#maxlen >= 100 ? '~' : '=', String(this.#maxlen), String(this.#ttl), this.#k.channel(), this.#instance];
  }

  #local(e: E): E {
    this.#lastSeq.delete(e.sessionId);
    this.#lastSeq.set(e.sessionId, e.seq);
    if (this.#lastSeq.size > 10_000) this.#lastSeq.delete(this.#lastSeq.keys().next().value as string);
    this.#fanout.dispatch(e, true);
    return e;
  }

  #buffer(e: E): void {
    this.#outbox.push(e);
    if (this.#outbox.length > this.#limit) {
      this.#outbox.shift();
      if (this.#dropped++ === 0) {
        this.#log.error({ redis: 'buffer-full', bound: this.#limit }, `redis outage: event buffer full (${this.#limit} events); dropping the oldest`);
      }
      this.#droppedTotal++;
    }
    this.#scheduleRetry();
  }

  #withOutbox(r: ReplayResult<E>, sid: string, afterSeq: number): ReplayResult<E> {
    const queued = this.#outbox.filter((e) => e.sessionId === sid && e.seq > afterSeq);
    if (queued.length === 0) return r;
    const bySeq = new Map([...r.events, ...queued].map((e) => [e.seq, e]));
    const events = [...bySeq.values()].sort((a, b) => a.seq - b.seq);
    return { events, truncated: r.truncated && (events[0]?.seq ?? 0) > afterSeq + 1, lastSeq: Math.max(r.lastSeq, ...queued.map((e) => e.seq)) };
  }

  async #listen(): Promise<void> {
    if (this.#listening || this.#closed) return;
    await this.#link.sub.subscribe(this.#k.channel(), (msg) => this.#onMessage(msg));
    this.#listening = true;
  }

  #onMessage(msg: string): void {
    if (this.#closed) return;
    try {
      const m = JSON.parse(msg) as { i?: unknown; e?: unknown };
      const e = m && typeof m === 'object' ? this.#check(m.e) : undefined;
      if (!e) return;
      this.#fanout.dispatch(e, m.i === this.#instance);
    } catch (err) {
      this.#log.warn({ err: (err as Error).message }, 'redis: unreadable event on the channel');
    }
  }

  /** An event from Redis text, or undefined (logged) when it does not pass the check. */
  #read(text: string): E | undefined {
    try {
      return this.#check(JSON.parse(text));
    } catch {
      this.#log.warn('redis: unreadable event dropped');
      return undefined;
    }
  }

  #check(value: unknown): E | undefined {
    const e = this.#parse(value);
    if (!e) this.#log.warn('redis: malformed event dropped (not relayed)');
    return e;
  }

  /** Writes the outage buffer in order; stops at the first failure (retried). */
  #flush(): Promise<void> {
    // `.finally` runs after the assignment even when the flush has nothing to await.
    this.#flushing ??= this.#drain().finally(() => (this.#flushing = undefined));
    return this.#flushing;
  }

  async #drain(): Promise<void> {
    let n = 0;
    try {
      while (this.#outbox.length > 0 && this.#link.up) {
        const e = this.#outbox[0]!;
        await this.#link.timed('event flush', (c) =>
          c.eval(PUT_EVENT, {
            keys: [this.#k.seq(e.sessionId), this.#k.events(e.sessionId)],
            arguments: [String(e.seq), JSON.stringify(e), ...this.#streamArgs()],
          }),
        );
        this.#outbox.shift();
        n++;
      }
      if (n > 0) this.#log.info({ redis: 'flushed', events: n }, `redis: published ${n} events buffered during the outage`);
      if (this.#outbox.length === 0 && this.#dropped > 0) {
        this.#log.error({ redis: 'dropped', events: this.#dropped, bound: this.#limit }, `redis outage: ${this.#dropped} events were dropped (buffer bound ${this.#limit}); other instances see a gap, the session records are complete`);
        this.#dropped = 0;
      }
    } catch (err) {
      this.#log.debug({ err: (err as Error).message, left: this.#outbox.length }, 'redis: event flush interrupted');
      this.#scheduleRetry();
    }
  }

  #scheduleRetry(): void {
    if (this.#retry || this.#closed) return;
    this.#retry = setTimeout(() => {
      this.#retry = undefined;
      if (this.#outbox.length === 0) return;
      if (this.#link.up) void this.#flush();
      else this.#scheduleRetry();
    }, 1_000);
    this.#retry.unref();
  }

  /**
   * Redis restarted (and lost its data): queue the recent history of this instance's sessions
   * again, ahead of and merged with the outage buffer, each session in seq order.
   */
  #restore(): void {
    const bySession = new Map<string, Map<number, E>>();
    const add = (e: E): void => {
      let m = bySession.get(e.sessionId);
      if (!m) bySession.set(e.sessionId, (m = new Map()));
      m.set(e.seq, e);
    };
    for (const sid of this.#lastSeq.keys()) for (const e of this.#fanout.replayLocal(sid, 0).events) add(e);
    for (const e of this.#outbox) add(e);
    this.#outbox = [...bySession.values()].flatMap((m) => [...m.values()].sort((a, b) => a.seq - b.seq));
  }

  /** After a reconnection: what other instances published while this one was not listening. */
  async #catchUp(): Promise<void> {
    const sessions = [...this.#fanout.delivered()].filter(([sid]) => !this.#lastSeq.has(sid)).slice(-1_000);
    for (const [sid, last] of sessions) {
      const r = await this.replay(sid, last);
      for (const e of r.events) this.#fanout.dispatch(e, false);
    }
  }
}

/** Default check: an object with a string `type`, a session id and a positive integer `seq`. */
function minimalEvent<E extends BusEvent>(value: unknown): E | undefined {
  if (!value || typeof value !== 'object') return undefined;
  const v = value as { type?: unknown; sessionId?: unknown; seq?: unknown };
  const ok = typeof v.type === 'string' && typeof v.sessionId === 'string' && /^[A-Za-z0-9._-]{1,128}$/.test(v.sessionId) && Number.isInteger(v.seq) && (v.seq as number) >= 1;
  return ok ? (value as E) : undefined;
}

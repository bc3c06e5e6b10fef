import type { Logger } from '../observability/logger.js';
import { DEFAULT_ENDED_TTL_MS, DEFAULT_LIVE_TTL_MS } from './memory-session-store.js';
import { PUT_SESSION, RedisKeys } from './redis-keys.js';
import type { RedisLink } from './redis-link.js';
import {
  isBefore,
  newestFirst,
  parseRecord,
  SessionStoreError,
  type SessionFilter,
  type SessionPatch,
  type SessionRecord,
  type SessionStore,
} from './session-record.js';

export interface RedisSessionStoreOptions {
  readonly link: RedisLink;
  readonly logger: Logger;
  readonly keys?: RedisKeys;
  readonly endedTtlMs?: number;
  readonly liveTtlMs?: number;
  /**
   * Records this instance wrote, kept in memory (write-through) so captures go on while Redis is
   * down and so an outage can be repaired by rewriting them whole. Least recently written clean
   * ones go first beyond this; records not yet in Redis are never dropped. Default 10 000.
   */
  readonly localLimit?: number;
}

/**
 * {@link SessionStore} on Redis (key layout: redis-keys.ts). Each record is a hash with a TTL and
 * sits in index zsets (all, by orderRef, by agent, by instance) scored by its start time.
 *
 * Outages: every write lands in a local copy first. With Redis up it is written at once (whole
 * record, by a Lua script, so `create` can refuse a duplicate atomically); when that fails, or
 * while Redis is down, the id is marked dirty and the whole record is rewritten once Redis is back
 * (in write order, before any newer direct write of the same id). Reads while Redis is down come
 * from the local copies: this instance's sessions only.
 */
export class RedisSessionStore implements SessionStore {
  readonly #link: RedisLink;
  readonly #log: Logger;
  readonly #k: RedisKeys;
  readonly #endedTtl: number;
  readonly #liveTtl: number;
  readonly #localLimit: number;
  /** Insertion order = least recently written first. */
  readonly #local = new Map<string, SessionRecord>();
  readonly #dirty = new Set<string>();
  #flushing: Promise<void> | undefined;
  #retry: NodeJS.Timeout | undefined;
  #closed = false;

  constructor(o: RedisSessionStoreOptions) {
    this.#link = o.link;
    this.#log = o.logger;
    this.#k = o.keys ?? new RedisKeys();
    this.#endedTtl = o.endedTtlMs ?? DEFAULT_ENDED_TTL_MS;
    this.#liveTtl = o.liveTtlMs ?? DEFAULT_LIVE_TTL_MS;
    this.#localLimit = o.localLimit ?? 10_000;
    o.link.onUp((restarted) => {
      // A restarted Redis without persistence has lost every record: rewrite the ones held here.
      if (restarted) for (const id of this.#local.keys()) this.#dirty.add(id);
      return this.flush();
    });
  }

  /** Session writes waiting for Redis. */
  get pendingWrites(): number {
    return this.#dirty.size;
  }

  async create(record: SessionRecord): Promise<void> {
    this.#assertOpen();
    const r = parseRecord(record);
    if (this.#local.has(r.id)) throw new SessionStoreError('exists');
    if (this.#link.up && this.#dirty.size === 0) {
      const written = await this.#put(r, true).catch(() => undefined);
      if (written === false) throw new SessionStoreError('exists');
      this.#keep(r, written === undefined);
      return;
    }
    this.#keep(r, true);
  }

  async update(id: string, patch: SessionPatch): Promise<SessionRecord> {
    this.#assertOpen();
    const base = this.#local.get(id) ?? (this.#link.up ? await this.#read(id).catch(() => undefined) : undefined);
    if (!base) throw new SessionStoreError('not-found');
    const merged: Record<string, unknown> = { ...base };
    for (const [k, v] of Object.entries(patch)) {
      if (k === 'id' || k === 'instanceId' || k === 'startedAt') throw new SessionStoreError('invalid', `${k} is immutable`);
      if (v === undefined) delete merged[k];
      else merged[k] = v;
    }
    const r = parseRecord(merged);
    if (this.#link.up && !this.#dirty.has(id)) {
      this.#keep(r, false);
      await this.#put(r, false).catch(() => this.#markDirty(id));
    } else this.#keep(r, true);
    return structuredClone(r);
  }

  async get(id: string): Promise<SessionRecord | undefined> {
    this.#assertOpen();
    const own = this.#local.get(id);
    if (own && (this.#dirty.has(id) || !this.#link.up)) return structuredClone(own);
    if (!this.#link.up) return undefined;
    const r = await this.#read(id).catch(() => undefined);
    return r ?? (own ? structuredClone(own) : undefined);
  }

  async list(filter: SessionFilter = {}): Promise<SessionRecord[]> {
    this.#assertOpen();
    const byId = new Map<string, SessionRecord>();
    if (this.#link.up) {
      try {
        for (const r of await this.#listRedis(filter)) byId.set(r.id, r);
      } catch {
        for (const r of this.#local.values()) byId.set(r.id, r);
      }
      for (const id of this.#dirty) {
        const r = this.#local.get(id);
        if (r) byId.set(id, r);
      }
    } else for (const r of this.#local.values()) byId.set(r.id, r);
    const out = [...byId.values()].filter((r) => matches(r, filter));
    out.sort(newestFirst);
    const limited = filter.limit !== undefined ? out.slice(0, Math.max(0, filter.limit)) : out;
    return limited.map((r) => structuredClone(r));
  }

  /** Rewrites every dirty record (oldest write first); stops at the first failure and retries later. */
  flush(): Promise<void> {
    // `.finally` runs after the assignment even when the flush has nothing to await.
    this.#flushing ??= this.#drain().finally(() => (this.#flushing = undefined));
    return this.#flushing;
  }

  async #drain(): Promise<void> {
    let n = 0;
    try {
      while (this.#dirty.size > 0 && this.#link.up && !this.#closed) {
        const id = this.#dirty.values().next().value as string;
        const r = this.#local.get(id);
        if (r) await this.#put(r, false);
        this.#dirty.delete(id);
        n++;
      }
      if (n > 0) this.#log.info({ redis: 'flushed', sessions: n }, `redis: rewrote ${n} session records written during the outage`);
    } catch (err) {
      this.#log.debug({ err: (err as Error).message, left: this.#dirty.size }, 'redis: session flush interrupted');
      this.#scheduleRetry();
    }
  }

  /** Idempotent: writes what it can of the pending records first (Redis up), then stops. */
  async close(): Promise<void> {
    if (!this.#closed && this.#link.up) await this.flush();
    this.#closed = true;
    clearTimeout(this.#retry);
    this.#local.clear();
    this.#dirty.clear();
  }

  #assertOpen(): void {
    if (this.#closed) throw new SessionStoreError('closed');
  }

  #keep(r: SessionRecord, dirty: boolean): void {
    this.#local.delete(r.id);
    this.#local.set(r.id, r);
    if (dirty) this.#markDirty(r.id);
    if (this.#local.size <= this.#localLimit) return;
    for (const id of this.#local.keys()) {
      if (this.#local.size <= this.#localLimit) break;
      if (!this.#dirty.has(id)) this.#local.delete(id);
    }
  }

  #markDirty(id: string): void {
    this.#dirty.delete(id);
    this.#dirty.add(id);
    this.#scheduleRetry();
  }

  /** While Redis is up but a write failed (a timeout), try again shortly; `onUp` covers reconnections. */
  #scheduleRetry(): void {
    if (this.#retry || this.#closed) return;
    this.#retry = setTimeout(() => {
      this.#retry = undefined;
      if (this.#link.up && this.#dirty.size > 0) void this.flush();
      else if (this.#dirty.size > 0) this.#scheduleRetry();
    }, 1_000);
    this.#retry.unref();
  }

  /** True when written, false when `nx` and the record exists; rejects on a Redis failure. */
  async #put(r: SessionRecord, nx: boolean): Promise<boolean> {
    const keys = [this.#k.session(r.id), this.#k.sessions(), this.#k.order(r.orderRef), this.#k.instanceSessions(r.instanceId)];
    if (r.agentId !== null) keys.push(this.#k.agent(r.agentId));
    const ttl = r.outcome === null ? this.#liveTtl : this.#endedTtl;
    const fields = Object.entries(r).flatMap(([k, v]) => [k, JSON.stringify(v)]);
    const args = [nx ? '1' : '0', String(ttl), String(this.#liveTtl + this.#endedTtl), String(Date.parse(r.startedAt)), r.id, ...fields];
    const res = await this.#link.timed('session write', (c) => c.eval(PUT_SESSION, { keys, arguments: args }));
    return res === 1;
  }

  async #read(id: string): Promise<SessionRecord | undefined> {
    return decode(await this.#link.timed('session read', (c) => c.hGetAll(this.#k.session(id))));
  }

  async #listRedis(filter: SessionFilter): Promise<SessionRecord[]> {
    const index =
      filter.orderRef !== undefined ? this.#k.order(filter.orderRef)
      : filter.agentId !== undefined ? this.#k.agent(filter.agentId)
      : filter.instanceId !== undefined ? this.#k.instanceSessions(filter.instanceId)
      : this.#k.sessions();
    const page = Math.max(100, (filter.limit ?? 0) * 2);
    const out: SessionRecord[] = [];
    for (let start = 0; ; start += page) {
      // With a cursor, only scores (start ms) up to the cursor's, ties filtered by matches().
      const ids = filter.before
        ? await this.#link.timed('session list', (c) => c.zRange(index, Date.parse(filter.before!.startedAt), '-inf', { BY: 'SCORE', REV: true, LIMIT: { offset: start, count: page } }))
        : await this.#link.timed('session list', (c) => c.zRange(index, start, start + page - 1, { REV: true }));
      if (ids.length === 0) break;
      const hashes = await this.#link.timed('session list', (c) => Promise.all(ids.map((id) => c.hGetAll(this.#k.session(id)))));
      const gone: string[] = [];
      hashes.forEach((h, i) => {
        const r = decode(h);
        if (!r) gone.push(ids[i]!);
        else if (matches(r, filter)) out.push(r);
      });
      if (gone.length > 0) await this.#link.timed('session index', (c) => c.zRem(index, gone));
      if (ids.length < page || (filter.limit !== undefined && out.length >= filter.limit)) break;
      start -= gone.length;
    }
    return out;
  }
}

function matches(r: SessionRecord, f: SessionFilter): boolean {
  if (f.orderRef !== undefined && r.orderRef !== f.orderRef) return false;
  if (f.agentId !== undefined && r.agentId !== f.agentId) return false;
  if (f.instanceId !== undefined && r.instanceId !== f.instanceId) return false;
  if (f.status === 'live' && r.outcome !== null) return false;
  if (f.status === 'ended' && r.outcome === null) return false;
  if (f.before && !isBefore(r, f.before)) return false;
  return true;
}

/** A hash back into a record (validated: a hash that does not fit the schema is treated as absent). */
function decode(h: Record<string, string>): SessionRecord | undefined {
  const entries = Object.entries(h);
  if (entries.length === 0) return undefined;
  try {
    return parseRecord(Object.fromEntries(entries.map(([k, v]) => [k, JSON.parse(v) as unknown])));
  } catch {
    return undefined;
  }
}

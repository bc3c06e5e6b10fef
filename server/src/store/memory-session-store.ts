import { systemClock, type Clock } from '../lib/clock.js';
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

export interface MemorySessionStoreOptions {
  /** How long an ended session stays readable. Default 24 h. */
  readonly endedTtlMs?: number;
  /** How long a live session may go without an update before it is dropped. Default 2 h. */
  readonly liveTtlMs?: number;
  /** Most sessions held; beyond it the oldest ended ones go first, then the oldest live ones. Default 10 000. */
  readonly maxSessions?: number;
  readonly clock?: Clock;
}

interface Entry {
  record: SessionRecord;
  /** Clock time after which the entry is gone. */
  expiresAt: number;
}

export const DEFAULT_ENDED_TTL_MS = 24 * 60 * 60_000;
export const DEFAULT_LIVE_TTL_MS = 2 * 60 * 60_000;
export const DEFAULT_MAX_SESSIONS = 10_000;

/** The default {@link SessionStore}: a bounded Map with TTLs, expired lazily on access. */
export class MemorySessionStore implements SessionStore {
  readonly #byId = new Map<string, Entry>();
  readonly #endedTtl: number;
  readonly #liveTtl: number;
  readonly #max: number;
  readonly #clock: Clock;
  #closed = false;

  constructor(o: MemorySessionStoreOptions = {}) {
    this.#endedTtl = o.endedTtlMs ?? DEFAULT_ENDED_TTL_MS;
    this.#liveTtl = o.liveTtlMs ?? DEFAULT_LIVE_TTL_MS;
    this.#max = o.maxSessions ?? DEFAULT_MAX_SESSIONS;
    if (!(this.#max >= 1)) throw new RangeError('maxSessions must be at least 1');
    this.#clock = o.clock ?? systemClock;
  }

  /** Sessions held right now (after expiry). */
  get size(): number {
    this.#sweep();
    return this.#byId.size;
  }

  async create(record: SessionRecord): Promise<void> {
    this.#assertOpen();
    const r = parseRecord(record);
    this.#sweep();
    if (this.#byId.has(r.id)) throw new SessionStoreError('exists');
    this.#evictFor(1);
    this.#byId.set(r.id, { record: r, expiresAt: this.#expiry(r) });
  }

  async update(id: string, patch: SessionPatch): Promise<SessionRecord> {
    this.#assertOpen();
    const e = this.#live(id);
    if (!e) throw new SessionStoreError('not-found');
    const merged: Record<string, unknown> = { ...e.record };
    for (const [k, v] of Object.entries(patch)) {
      if (k === 'id' || k === 'instanceId' || k === 'startedAt') throw new SessionStoreError('invalid', `${k} is immutable`);
      if (v === undefined) delete merged[k];
      else merged[k] = v;
    }
    const r = parseRecord(merged);
    e.record = r;
    e.expiresAt = this.#expiry(r);
    return structuredClone(r);
  }

  async get(id: string): Promise<SessionRecord | undefined> {
    this.#assertOpen();
    const e = this.#live(id);
    return e ? structuredClone(e.record) : undefined;
  }

  async list(filter: SessionFilter = {}): Promise<SessionRecord[]> {
    this.#assertOpen();
    this.#sweep();
    const out: SessionRecord[] = [];
    for (const { record: r } of this.#byId.values()) {
      if (filter.orderRef !== undefined && r.orderRef !== filter.orderRef) continue;
      if (filter.agentId !== undefined && r.agentId !== filter.agentId) continue;
      if (filter.instanceId !== undefined && r.instanceId !== filter.instanceId) continue;
      if (filter.status === 'live' && r.outcome !== null) continue;
      if (filter.status === 'ended' && r.outcome === null) continue;
      if (filter.before && !isBefore(r, filter.before)) continue;
      out.push(r);
    }
    out.sort(newestFirst);
    const limited = filter.limit !== undefined ? out.slice(0, Math.max(0, filter.limit)) : out;
    return limited.map((r) => structuredClone(r));
  }

  async close(): Promise<void> {
    this.#closed = true;
    this.#byId.clear();
  }

  #assertOpen(): void {
    if (this.#closed) throw new SessionStoreError('closed');
  }

  #expiry(r: SessionRecord): number {
    return this.#clock.now() + (r.outcome === null ? this.#liveTtl : this.#endedTtl);
  }

  #live(id: string): Entry | undefined {
    const e = this.#byId.get(id);
    if (e && e.expiresAt <= this.#clock.now()) {
      this.#byId.delete(id);
      return undefined;
    }
    return e;
  }

  #sweep(): void {
    const now = this.#clock.now();
    for (const [id, e] of this.#byId) if (e.expiresAt <= now) this.#byId.delete(id);
  }

  /**
   * Makes room for `n` more: the oldest ended sessions first, then the oldest live ones. A Map
   * iterates in insertion order and entries are never re-inserted, so iteration order is age.
   */
  #evictFor(n: number): void {
    let excess = this.#byId.size + n - this.#max;
    if (excess <= 0) return;
    for (const ended of [true, false]) {
      for (const [id, e] of this.#byId) {
        if (excess <= 0) return;
        if ((e.record.outcome !== null) === ended && this.#byId.delete(id)) excess--;
      }
    }
  }
}

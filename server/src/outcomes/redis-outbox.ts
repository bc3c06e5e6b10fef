import { createClient } from 'redis';
import type { Outbox, OutboxEntry } from './outbox.js';

const PENDING = 'tonegate:webhook:outbox';
const done = (id: string) => `tonegate:webhook:done:{${id}}`;
const lock = (id: string) => `tonegate:webhook:lock:{${id}}`;
/** How long a settled id is remembered, so the same outcome is not enqueued twice. */
const DONE_TTL_S = 7 * 24 * 3600;

/** Adds the entry unless it is waiting or was settled: one step, so two instances never both add it. */
const APPEND = `if redis.call('EXISTS', KEYS[2]) == 1 then return 0 end
return redis.call('HSETNX', KEYS[1], ARGV[1], ARGV[2])`;

/**
 * The outbox with Redis (REDIS_URL): a hash `tonegate:webhook:outbox` (id -> entry JSON) shared
 * by every gateway instance, `done:{id}` markers (7 days) against a second enqueue, and a per-entry
 * claim `lock:{id}` (SET NX PX) so that one instance at a time delivers an entry: the others skip
 * it until the holder's lock lapses (it died, or its next retry is due). Redis's own persistence
 * (AOF/RDB) is what makes it durable: configure it (docs/operations.md).
 */
export class RedisOutbox implements Outbox {
  readonly #c: ReturnType<typeof createClient>;
  #size = 0;

  private constructor(c: ReturnType<typeof createClient>) {
    this.#c = c;
  }

  static async open(url: string): Promise<RedisOutbox> {
    // The default offline queue: while Redis is away, appends wait for it rather than fail.
    const c = createClient({ url, socket: { reconnectStrategy: (n: number) => Math.min(50 * 2 ** n, 2_000) } });
    c.on('error', () => {}); // reconnects by itself; the store's link reports outages
    // Not awaited: a Redis that is down at start must not hold the gateway's start (commands queue).
    c.connect().catch(() => {});
    return new RedisOutbox(c);
  }

  size(): number {
    return this.#size;
  }

  async append(entry: OutboxEntry): Promise<boolean> {
    const r = await this.#c.eval(APPEND, { keys: [PENDING, done(entry.id)], arguments: [entry.id, JSON.stringify(entry)] });
    if (r === 1) this.#size++;
    return r === 1;
  }

  async pending(): Promise<OutboxEntry[]> {
    const all = await this.#c.hGetAll(PENDING);
    this.#size = Object.keys(all).length;
    return Object.values(all)
      .map((v) => JSON.parse(v) as OutboxEntry)
      .sort((a, b) => a.createdAt - b.createdAt);
  }

  /** Claims the entry for `ms` (true: this instance may deliver it now). */
  async claim(id: string, owner: string, ms: number): Promise<boolean> {
    return (await this.#c.set(lock(id), owner, { NX: true, PX: Math.max(1, Math.round(ms)) })) === 'OK';
  }

  async settle(id: string, how: 'delivered' | 'dead'): Promise<void> {
    const [, removed] = await this.#c.multi().set(done(id), how, { EX: DONE_TTL_S }).hDel(PENDING, id).del(lock(id)).exec();
    if (Number(removed) === 1) this.#size = Math.max(0, this.#size - 1);
  }

  async close(): Promise<void> {
    if (this.#c.isReady) await this.#c.quit();
    else if (this.#c.isOpen) this.#c.destroy();
  }
}

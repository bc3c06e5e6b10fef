import type { SharedRedis } from '../store/index.js';
import type { Clock } from '../lib/clock.js';
import { MemoryHandoffCodeStore, type CodeFormat, type HandoffCodeStore } from './codes.js';
import { MemoryDidPool, type DidPool } from './did-pool.js';
import { RedisHandoffCodeStore } from './redis-codes.js';
import { RedisDidPool } from './redis-did-pool.js';

export interface HandoffStoresOptions {
  /** Set with REDIS_URL (StoreBackend.shared): codes and reservations live in Redis, so any instance redeems them, once. */
  readonly redis?: SharedRedis | undefined;
  /** The number plan's DID pool, E.164 (routing.didPool). */
  readonly dids: readonly string[];
  /** How long a DID reservation lasts (routing.didPool.ttlSeconds). */
  readonly poolTtlMs: number;
  /** The api profile's codeFormat. */
  readonly codeFormat: CodeFormat;
  readonly clock: Clock;
}

/** The handoff code store and the DID pool: in Redis when configured (any instance redeems, exactly once), else in memory. */
export function openHandoffStores(o: HandoffStoresOptions): { codes: HandoffCodeStore; pool: DidPool } {
  if (o.redis) {
    const shared = { client: o.redis, keys: o.redis.keys, timeoutMs: o.redis.timeoutMs };
    return {
      codes: new RedisHandoffCodeStore({ ...shared, format: o.codeFormat }),
      pool: new RedisDidPool(o.dids, { ...shared, ttlMs: o.poolTtlMs }),
    };
  }
  return {
    codes: new MemoryHandoffCodeStore({ clock: o.clock, format: o.codeFormat }),
    pool: new MemoryDidPool(o.dids, { clock: o.clock, ttlMs: o.poolTtlMs }),
  };
}

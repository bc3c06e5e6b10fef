import type { Logger } from '../observability/logger.js';
import type { BusEvent, EventBus } from './event-bus.js';
import { MemoryEventBus } from './memory-event-bus.js';
import { MemorySessionStore } from './memory-session-store.js';
import { RedisEventBus } from './redis-event-bus.js';
import { InstanceHeartbeat } from './redis-heartbeat.js';
import { RedisKeys } from './redis-keys.js';
import { RedisLink, type RedisHealth } from './redis-link.js';
import { RedisSessionStore } from './redis-session-store.js';
import type { SessionStore } from './session-record.js';

export interface StoreBackendOptions<E extends BusEvent = BusEvent> {
  /** Unset: memory (one instance, the default of `npm start`). */
  readonly redisUrl?: string | undefined;
  /** AUTH password when the URL has none; CA for a `rediss://` server with a private CA. */
  readonly redisPassword?: string | undefined;
  readonly redisTlsCa?: Buffer | undefined;
  readonly instanceId: string;
  readonly logger: Logger;
  /** Events held while Redis is down (REDIS_OUTAGE_BUFFER). */
  readonly outageBuffer?: number;
  readonly keyPrefix?: string;
  readonly onListenerError?: (err: unknown) => void;
  /** Checks events read from Redis before they are relayed (RedisEventBusOptions.parseEvent). */
  readonly parseEvent?: (value: unknown) => E | undefined;
}

export interface RedisStatus extends RedisHealth {
  /** Events waiting for Redis. */
  readonly bufferedEvents: number;
  readonly droppedEvents: number;
  /** Session records waiting for Redis. */
  readonly pendingWrites: number;
}

/** Lua scripts on the shared Redis, each bounded by the link's command timeout ({@link RedisLink.timed}). */
export interface SharedRedis {
  /** `what` names the command in the link's "not answering" log line (default `handoff script`). */
  eval(script: string, opts: { keys: string[]; arguments?: string[] }, what?: string): Promise<unknown>;
  readonly keys: RedisKeys;
  /** How long a caller waits: a script that reaches the server later than that must change nothing. */
  readonly timeoutMs: number;
}

export interface StoreBackend<E extends BusEvent> {
  readonly kind: 'memory' | 'redis';
  readonly store: SessionStore;
  readonly bus: EventBus<E>;
  /** Redis only. */
  readonly heartbeat: InstanceHeartbeat | undefined;
  /** Redis only: connection state and what waits for it (`/healthz`, `/metrics`). */
  redis(): RedisStatus | undefined;
  /**
   * Redis only: true the first time `key` is claimed within `ttlSeconds` on any instance (`SET NX
   * EX`), for single-use handoff nonces (docs/security.md). Rejects while Redis is down: a nonce
   * that cannot be checked everywhere is not accepted.
   */
  readonly claimOnce?: (key: string, ttlSeconds: number) => Promise<boolean>;
  /** Redis only: the connection and key layout for the handoff code store and DID pool (handoff/redis-codes.ts, redis-did-pool.ts). */
  readonly shared?: SharedRedis;
  /** Closes bus, store and connection (flushing what it can first). Idempotent. */
  close(): Promise<void>;
}

/** Memory or Redis, by `REDIS_URL` (design.md: "memory default, Redis for scale-out"). */
export async function createStoreBackend<E extends BusEvent>(o: StoreBackendOptions<E>): Promise<StoreBackend<E>> {
  if (!o.redisUrl) {
    const store = new MemorySessionStore();
    const bus = new MemoryEventBus<E>({
      ...(o.onListenerError ? { onListenerError: o.onListenerError } : {}),
      // A defect, never card data: the error names the session and what failed to unpack.
      onHistoryError: (err, sessionId) => o.logger.error({ err, sessionId }, 'event bus: a session\'s packed event history was unreadable and is lost to replay; its events go on'),
    });
    return {
      kind: 'memory', store, bus, heartbeat: undefined, redis: () => undefined,
      close: async () => {
        await bus.close();
        await store.close();
      },
    };
  }
  const link = await RedisLink.open({ url: o.redisUrl, logger: o.logger, password: o.redisPassword, tlsCa: o.redisTlsCa });
  const keys = new RedisKeys(o.keyPrefix);
  const store = new RedisSessionStore({ link, logger: o.logger, keys });
  const bus = new RedisEventBus<E>({
    link, logger: o.logger, keys, instanceId: o.instanceId,
    ...(o.outageBuffer !== undefined ? { outageBuffer: o.outageBuffer } : {}),
    ...(o.onListenerError ? { onListenerError: o.onListenerError } : {}),
    ...(o.parseEvent ? { parseEvent: o.parseEvent } : {}),
  });
  await bus.start();
  const heartbeat = new InstanceHeartbeat({ link, instanceId: o.instanceId, logger: o.logger, keys });
  heartbeat.start();
  let closing: Promise<void> | undefined;
  return {
    kind: 'redis', store, bus, heartbeat,
    shared: { eval: (script, opts, what = 'handoff script') => link.timed(what, (c) => c.eval(script, opts)), keys, timeoutMs: link.commandTimeoutMs },
    claimOnce: async (key, ttlSeconds) => (await link.timed('nonce claim', (c) => c.set(keys.nonce(key), '1', { NX: true, EX: Math.max(1, Math.ceil(ttlSeconds)) }))) === 'OK',
    redis: () => ({ ...link.health(), bufferedEvents: bus.buffered, droppedEvents: bus.droppedTotal, pendingWrites: store.pendingWrites }),
    close: () =>
      (closing ??= (async () => {
        await bus.close();
        await store.close();
        await heartbeat.stop();
        await link.close();
      })()),
  };
}

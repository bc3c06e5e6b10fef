import type { RedisKeys } from '../store/redis-keys.js';
import { HANDOFF_TTL_MS, HandoffCodeError } from './codes.js';
import { DidPoolError, retryAfterSeconds, rotated, type DidPool, type DidReservation } from './did-pool.js';
import { TAKE_ONCE } from './redis-codes.js';
import { DEADLINE_CHECK, runScript, type ScriptTarget } from './redis-script.js';
import { decodeTransaction, encodeTransaction } from './stored-txn.js';
import type { Transaction } from './transaction.js';

/**
 * Reserves the first free DID. KEYS: the pool's `did:{e164}` keys, in the order to try. ARGV:
 * transaction JSON, TTL ms, deadline. Returns `{index (1-based), 0}`, `{0, soonest PTTL ms}`
 * when every DID is held, -2 past the deadline (redis-script.ts). One script, so two gateways
 * never reserve the same DID.
 */
export const RESERVE_DID = `${DEADLINE_CHECK}
local soonest = -1
for i = 1, #KEYS do
  if redis.call('SET', KEYS[i], ARGV[1], 'NX', 'PX', ARGV[2]) then return {i, 0} end
  local p = redis.call('PTTL', KEYS[i])
  if p >= 0 and (soonest < 0 or p < soonest) then soonest = p end
end
return {0, soonest}
`;

export interface RedisDidPoolOptions extends ScriptTarget {
  readonly keys: RedisKeys;
  /** Default {@link HANDOFF_TTL_MS}. */
  readonly ttlMs?: number;
  /** Epoch ms, for `expiresAt`. */
  readonly nowEpochMs?: () => number;
}

/**
 * {@link DidPool} in Redis (REDIS_URL): a DID reserved through one gateway is redeemed by the
 * INVITE on any other, exactly once (`did:{e164}` holds the transaction JSON, `SET NX PX`; the
 * redeem takes it in one script). While Redis is down or not answering both reject with
 * HandoffStoreUnavailable (the POST answers 503 with Retry-After, the INVITE 503): a reservation
 * that cannot be seen everywhere is not made or trusted, and a late run changes nothing.
 */
export class RedisDidPool implements DidPool {
  readonly #o: RedisDidPoolOptions;
  readonly #ttl: number;

  constructor(
    readonly dids: readonly string[],
    o: RedisDidPoolOptions,
  ) {
    this.#o = o;
    this.#ttl = o.ttlMs ?? HANDOFF_TTL_MS;
  }

  async reserve(txn: Transaction): Promise<DidReservation> {
    const order = rotated(this.dids);
    if (order.length === 0) throw new DidPoolError('exhausted', retryAfterSeconds(this.#ttl));
    const r = await runScript(this.#o, RESERVE_DID, order.map((d) => this.#o.keys.did(d)), [encodeTransaction(txn), String(this.#ttl)]);
    const [index, soonest] = Array.isArray(r) ? r.map(Number) : [];
    const did = index !== undefined && index > 0 ? order[index - 1] : undefined;
    if (did !== undefined) return { did, expiresAt: (this.#o.nowEpochMs ?? Date.now)() + this.#ttl };
    throw new DidPoolError('exhausted', retryAfterSeconds(soonest !== undefined && soonest >= 0 ? soonest : this.#ttl));
  }

  async redeem(did: string): Promise<Transaction | undefined> {
    if (!this.dids.includes(did)) return undefined;
    const v = await runScript(this.#o, TAKE_ONCE, [this.#o.keys.did(did)]);
    if (v === null || v === undefined) return undefined;
    if (typeof v !== 'string') throw new HandoffCodeError('corrupt', 'not a string');
    return decodeTransaction(v);
  }
}

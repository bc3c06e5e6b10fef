import type { RedisKeys } from '../store/redis-keys.js';
import { HANDOFF_TTL_MS, HandoffCodeError, newCode, type CodeFormat, type HandoffCodeStore, type IssuedCode } from './codes.js';
import { DEADLINE_CHECK, runScript, type ScriptTarget } from './redis-script.js';
import { decodeTransaction, encodeTransaction } from './stored-txn.js';
import type { Transaction } from './transaction.js';

/**
 * Stores a code. KEYS: code key, index zset (code keys by expiry). ARGV: transaction JSON, TTL ms,
 * most outstanding, deadline. Returns -2 past the deadline (redis-script.ts), -1 when full, 0
 * when the code exists (the caller draws another), else 1. Expired index members are dropped
 * first, by the server's clock, so every instance counts the same codes.
 */
export const ISSUE_CODE = `${DEADLINE_CHECK}
redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', now)
if redis.call('ZCARD', KEYS[2]) >= tonumber(ARGV[3]) then return -1 end
if not redis.call('SET', KEYS[1], ARGV[1], 'NX', 'PX', ARGV[2]) then return 0 end
redis.call('ZADD', KEYS[2], now + tonumber(ARGV[2]), KEYS[1])
redis.call('PEXPIRE', KEYS[2], ARGV[2])
return 1
`;

/**
 * Takes a stored value once: GET and DEL in one script (a second taker sees nil). KEYS: value
 * key, index zset (may be absent). ARGV: deadline (-2 past it, nothing taken).
 */
export const TAKE_ONCE = `${DEADLINE_CHECK}
local v = redis.call('GET', KEYS[1])
if v then
  redis.call('DEL', KEYS[1])
  if KEYS[2] then redis.call('ZREM', KEYS[2], KEYS[1]) end
end
return v
`;

export interface RedisHandoffCodeStoreOptions extends ScriptTarget {
  readonly keys: RedisKeys;
  /** Default {@link HANDOFF_TTL_MS}. */
  readonly ttlMs?: number;
  readonly format?: CodeFormat;
  /** Codes outstanding at most, over every instance. Default 10 000. */
  readonly maxOutstanding?: number;
  /** Epoch ms, for `expiresAt`. */
  readonly nowEpochMs?: () => number;
}

/** Draws before giving up on collisions (with 53+ bits and at most 10 000 codes, one is almost always enough). */
const MAX_DRAWS = 8;

/**
 * {@link HandoffCodeStore} in Redis (REDIS_URL): a code issued on one gateway is redeemed on any
 * other behind the SIP load balancer, exactly once. Key `handoff:{code}` holds the transaction's
 * JSON (`SET NX PX`: a collision draws again) and expires with the code; redeeming takes it in one
 * script. While Redis is down or not answering both reject with HandoffStoreUnavailable: a code
 * that cannot be checked everywhere is not given out or accepted (like the v2 nonces,
 * docs/security.md), and the scripts' deadline keeps a late run from using one up.
 */
export class RedisHandoffCodeStore implements HandoffCodeStore {
  readonly #o: RedisHandoffCodeStoreOptions;
  readonly #ttl: number;

  constructor(o: RedisHandoffCodeStoreOptions) {
    this.#o = o;
    this.#ttl = o.ttlMs ?? HANDOFF_TTL_MS;
  }

  async issue(txn: Transaction, format: CodeFormat = this.#o.format ?? 'alnum'): Promise<IssuedCode> {
    const json = encodeTransaction(txn);
    for (let i = 0; i < MAX_DRAWS; i++) {
      const code = newCode(format);
      const r = Number(
        await runScript(this.#o, ISSUE_CODE, [this.#o.keys.handoff(code), this.#o.keys.handoffs()], [json, String(this.#ttl), String(this.#o.maxOutstanding ?? 10_000)]),
      );
      if (r === -1) throw new HandoffCodeError('full');
      if (r === 1) return { code, expiresAt: (this.#o.nowEpochMs ?? Date.now)() + this.#ttl };
    }
    throw new HandoffCodeError('full');
  }

  async redeem(code: string): Promise<Transaction | undefined> {
    const key = code.trim().toLowerCase();
    if (!/^[0-9a-z]{1,32}$/.test(key)) return undefined;
    const v = await runScript(this.#o, TAKE_ONCE, [this.#o.keys.handoff(key), this.#o.keys.handoffs()]);
    if (v === null || v === undefined) return undefined;
    if (typeof v !== 'string') throw new HandoffCodeError('corrupt', 'not a string');
    return decodeTransaction(v);
  }
}

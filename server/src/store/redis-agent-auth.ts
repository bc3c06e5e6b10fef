import type { SharedRedis } from './backend.js';
import { BACKOFF_AFTER, MAX_BACKOFF_MS, type LockState } from '../security/lockout.js';

/**
 * Agent sign-in state shared by the gateways (README, "Redis, metrics, audit": agents across
 * instances): bearer tokens and the sign-in lockout counters, so a token issued by one instance is
 * accepted by every other, a sign-out anywhere revokes it everywhere, and failed logins count
 * cluster-wide (docs/security.md, "Sign-in"; PCI DSS v4.0.1 8.3.4).
 *
 * - `agent-token:{key}`: `{"a": agentId, "e": expiresAt}` with the token's remaining life as TTL.
 *   `key` is the token's SHA-256 (api/agent-tokens.ts tokenKey); the token itself is never stored.
 * - `signin:{user}`: a hash, one field per source address, `{"f","n","l"}` (failures, next attempt
 *   allowed at, locked until; epoch ms); the hash lives as long as a lock (30 min) after its last
 *   write, so a supervisor's unlock is one DEL. Both SIP REGISTER and the HTTP login count here
 *   (store/shared-lockout.ts); concurrent attempts on several instances add up (SAVE_LOCK).
 *
 * Every command goes through the link's deadline (store/redis-link.ts, RedisLink.timed, via
 * SharedRedis.eval): a hung Redis makes these reject within the command timeout, never hang.
 * Nothing of a card reaches these keys: agent ids, source addresses, hashes and times only.
 */
export interface SharedToken {
  readonly agentId: string;
  readonly expiresAt: number;
}

/** What the agent sign-in keeps cluster-wide. Each method rejects when Redis is down or late. */
export interface AgentAuthDirectory {
  putToken(key: string, token: SharedToken): Promise<void>;
  getToken(key: string): Promise<SharedToken | undefined>;
  dropToken(key: string): Promise<void>;
  loadLock(user: string, source: string): Promise<SharedLock>;
  /**
   * Writes this instance's counters after an attempt, over what {@link loadLock} returned
   * (`loaded`, its `raw`). `undefined`: the key starts afresh (a success). When another instance
   * wrote the key in between, nothing is lost: its failures and ours are added and the policy is
   * applied to the sum, in one Redis script (atomic). Returns what is stored now.
   */
  saveLock(user: string, source: string, state: LockState | undefined, loaded: string, policy: LockPolicy): Promise<LockState | undefined>;
  /** Forgets every source's counters of `user` (a supervisor's unlock). */
  unlock(user: string): Promise<void>;
}

/** What {@link AgentAuthDirectory.loadLock} read: the counters, and the stored text ('' for none) to write over. */
export interface SharedLock {
  readonly state: LockState | undefined;
  readonly raw: string;
}

/** The lockout's rules (security/lockout.ts), for a merge done inside Redis. */
export interface LockPolicy {
  /** Wall clock, epoch ms. */
  readonly now: number;
  readonly lockAfter: number;
  readonly lockMs: number;
}

/** KEYS: agent-token:{key}. ARGV: JSON, TTL ms. */
const PUT_TOKEN = `
if tonumber(ARGV[2]) <= 0 then return 0 end
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
return 1
`;
const GET = `return redis.call('GET', KEYS[1])`;
const DEL = `return redis.call('DEL', KEYS[1])`;
const HGET = `return redis.call('HGET', KEYS[1], ARGV[1])`;
/**
 * KEYS: signin:{user}. ARGV: source, new JSON ('' to delete), TTL ms, the JSON read before ('' for
 * none), now, lockAfter, lockMs, backoffAfter, maxBackoffMs. Unchanged since the read: the new
 * counters are stored. Changed (another instance counted meanwhile): the failures we added are
 * added to the stored ones, and the backoff and lock of security/lockout.ts (backoffMs, #count)
 * are applied to the sum. A stored value that does not parse is replaced. Returns what is stored.
 */
const SAVE_LOCK = `
if ARGV[2] == '' then
  redis.call('HDEL', KEYS[1], ARGV[1])
  return ''
end
local out = ARGV[2]
local cur = redis.call('HGET', KEYS[1], ARGV[1])
if cur and cur ~= ARGV[4] then
  local okc, c = pcall(cjson.decode, cur)
  local okn, n = pcall(cjson.decode, ARGV[2])
  local base = 0
  if ARGV[4] ~= '' then
    local okl, l = pcall(cjson.decode, ARGV[4])
    if okl and type(l) == 'table' and tonumber(l.f) then base = tonumber(l.f) end
  end
  if okc and okn and type(c) == 'table' and type(n) == 'table' and tonumber(c.f) and tonumber(c.n) and tonumber(c.l) then
    local now = tonumber(ARGV[5])
    local f = tonumber(c.f) + math.max(0, tonumber(n.f) - base)
    local nextAt = math.max(tonumber(c.n), tonumber(n.n))
    local lockedUntil = math.max(tonumber(c.l), tonumber(n.l))
    local after = tonumber(ARGV[8])
    if f >= after then nextAt = math.max(nextAt, now + math.min(tonumber(ARGV[9]), 1000 * 2 ^ (f - after))) end
    if f >= tonumber(ARGV[6]) and lockedUntil <= now then lockedUntil = now + tonumber(ARGV[7]) end
    out = string.format('{"f":%d,"n":%d,"l":%d}', f, nextAt, lockedUntil)
  end
end
redis.call('HSET', KEYS[1], ARGV[1], out)
redis.call('PEXPIRE', KEYS[1], ARGV[3])
return out
`;

export class RedisAgentAuth implements AgentAuthDirectory {
  constructor(
    private readonly redis: SharedRedis,
    private readonly now: () => number = Date.now,
  ) {}

  async putToken(key: string, t: SharedToken): Promise<void> {
    const ttl = Math.ceil(t.expiresAt - this.now());
    await this.redis.eval(PUT_TOKEN, { keys: [this.redis.keys.agentToken(key)], arguments: [JSON.stringify({ a: t.agentId, e: t.expiresAt }), String(ttl)] }, 'agent token write');
  }

  async getToken(key: string): Promise<SharedToken | undefined> {
    const raw = await this.redis.eval(GET, { keys: [this.redis.keys.agentToken(key)] }, 'agent token read');
    const t = typeof raw === 'string' ? parseToken(raw) : undefined;
    return t && t.expiresAt > this.now() ? t : undefined;
  }

  async dropToken(key: string): Promise<void> {
    await this.redis.eval(DEL, { keys: [this.redis.keys.agentToken(key)] }, 'agent token revoke');
  }

  async loadLock(user: string, source: string): Promise<SharedLock> {
    const raw = await this.redis.eval(HGET, { keys: [this.redis.keys.signIn(user)], arguments: [source] }, 'sign-in lockout read');
    return typeof raw === 'string' ? { state: parseLock(raw), raw } : { state: undefined, raw: '' };
  }

  async saveLock(user: string, source: string, s: LockState | undefined, loaded: string, p: LockPolicy): Promise<LockState | undefined> {
    const json = s ? JSON.stringify({ f: s.failures, n: s.nextAt, l: s.lockedUntil }) : '';
    const args = [source, json, String(Math.max(1, Math.ceil(p.lockMs))), loaded, String(Math.floor(p.now)), String(p.lockAfter), String(Math.ceil(p.lockMs)), String(BACKOFF_AFTER), String(MAX_BACKOFF_MS)];
    const out = await this.redis.eval(SAVE_LOCK, { keys: [this.redis.keys.signIn(user)], arguments: args }, 'sign-in lockout write');
    return typeof out === 'string' && out !== '' ? parseLock(out) : undefined;
  }

  async unlock(user: string): Promise<void> {
    await this.redis.eval(DEL, { keys: [this.redis.keys.signIn(user)] }, 'sign-in unlock');
  }
}

/** Values from Redis are checked field by field: a malformed entry is dropped, never trusted. */
export function parseToken(raw: string): SharedToken | undefined {
  const o = parseObject(raw);
  if (!o) return undefined;
  const [a, e] = [o['a'], o['e']];
  return typeof a === 'string' && a.length > 0 && isTime(e) ? { agentId: a, expiresAt: e } : undefined;
}

export function parseLock(raw: string): LockState | undefined {
  const o = parseObject(raw);
  if (!o) return undefined;
  const [f, n, l] = [o['f'], o['n'], o['l']];
  return isTime(f) && isTime(n) && isTime(l) ? { failures: f, nextAt: n, lockedUntil: l } : undefined;
}

function parseObject(raw: string): Record<string, unknown> | undefined {
  try {
    const v: unknown = JSON.parse(raw);
    return typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

const isTime = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v) && v >= 0;

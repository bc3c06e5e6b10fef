import type { SharedRedis } from './backend.js';
import type { LockState } from '../security/lockout.js';

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
 *   write, so a supervisor's unlock is one DEL.
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
  loadLock(user: string, source: string): Promise<LockState | undefined>;
  /** `undefined`: the key starts afresh (a success). `ttlMs`: how long the user's hash is kept. */
  saveLock(user: string, source: string, state: LockState | undefined, ttlMs: number): Promise<void>;
  /** Forgets every source's counters of `user` (a supervisor's unlock). */
  unlock(user: string): Promise<void>;
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
/** KEYS: signin:{user}. ARGV: source, JSON ('' to delete), TTL ms. */
const SAVE_LOCK = `
if ARGV[2] == '' then
  redis.call('HDEL', KEYS[1], ARGV[1])
  return 0
end
redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
redis.call('PEXPIRE', KEYS[1], ARGV[3])
return 1
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

  async loadLock(user: string, source: string): Promise<LockState | undefined> {
    const raw = await this.redis.eval(HGET, { keys: [this.redis.keys.signIn(user)], arguments: [source] }, 'sign-in lockout read');
    return typeof raw === 'string' ? parseLock(raw) : undefined;
  }

  async saveLock(user: string, source: string, s: LockState | undefined, ttlMs: number): Promise<void> {
    const json = s ? JSON.stringify({ f: s.failures, n: s.nextAt, l: s.lockedUntil }) : '';
    await this.redis.eval(SAVE_LOCK, { keys: [this.redis.keys.signIn(user)], arguments: [source, json, String(Math.max(1, Math.ceil(ttlMs)))] }, 'sign-in lockout write');
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

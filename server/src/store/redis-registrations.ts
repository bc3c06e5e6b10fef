import type { SharedRedis } from './backend.js';

/**
 * The registration directory shared by the gateways (README, "Redis, metrics, audit": agents
 * across instances). Each agent's (address-of-record's) bindings are one JSON value under
 * `reg:{aor}`, replaced whole by the gateway that handled the REGISTER (RFC 3261 10.3 step 7: all
 * updates or none), with the time to live of its latest binding; `regs` lists the registered
 * agents by that expiry. A binding keeps its Path (RFC 3327): a request from any gateway reaches
 * the agent through the proxy that added it, so a binding with a Path is reachable cluster-wide;
 * one without (an agent connected straight to a gateway) only from the gateway that holds its
 * connection (`gateway`).
 *
 * Every command goes through the link's deadline (store/redis-link.ts, RedisLink.timed, via
 * SharedRedis.eval): a hung Redis makes these reject within the command timeout, never hang.
 * Nothing of a card ever reaches these keys: they hold SIP URIs, agent ids and times.
 */
export interface DirectoryBinding {
  /** Binding identity (calls/registrar bindingKey). */
  readonly key: string;
  readonly uri: string;
  readonly params?: Readonly<Record<string, string>>;
  /** Path header values in order (RFC 3327 5.3), empty when the agent is connected straight to `gateway`. */
  readonly path: readonly string[];
  /** INSTANCE_ID of the gateway that accepted the REGISTER. */
  readonly gateway: string;
  /** That gateway's transport flow. */
  readonly flowId: string;
  /** Wall clock (epoch ms). */
  readonly expiresAt: number;
  readonly callId: string;
  readonly cseq: number;
  readonly instance?: string;
}

/** What the registrar keeps cluster-wide. Each method rejects when Redis is down or does not answer in time. */
export interface RegistrationDirectory {
  load(aor: string): Promise<DirectoryBinding[]>;
  /** Replaces the bindings of `aor` (none: the agent is gone). */
  save(aor: string, bindings: readonly DirectoryBinding[]): Promise<void>;
  /** Agents with a binding that has not expired. */
  aors(): Promise<string[]>;
}

/** KEYS: reg:{aor}, regs. ARGV: aor, JSON, expiry (epoch ms, 0: none), now (epoch ms). */
const SAVE = `
local ttl = tonumber(ARGV[3]) - tonumber(ARGV[4])
if ttl <= 0 then
  redis.call('DEL', KEYS[1])
  redis.call('ZREM', KEYS[2], ARGV[1])
  return 0
end
redis.call('SET', KEYS[1], ARGV[2], 'PX', ttl)
redis.call('ZADD', KEYS[2], ARGV[3], ARGV[1])
return 1
`;
const LOAD = `return redis.call('GET', KEYS[1])`;
/** KEYS: regs. ARGV: now (epoch ms). */
const AORS = `
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', ARGV[1])
return redis.call('ZRANGE', KEYS[1], 0, -1)
`;

export class RedisRegistrations implements RegistrationDirectory {
  constructor(
    private readonly redis: SharedRedis,
    private readonly now: () => number = Date.now,
  ) {}

  async load(aor: string): Promise<DirectoryBinding[]> {
    const raw = await this.redis.eval(LOAD, { keys: [this.redis.keys.registration(aor)] }, 'registration read');
    if (typeof raw !== 'string') return [];
    const now = this.now();
    return parseBindings(raw).filter((b) => b.expiresAt > now);
  }

  async save(aor: string, bindings: readonly DirectoryBinding[]): Promise<void> {
    const expiry = bindings.reduce((m, b) => Math.max(m, b.expiresAt), 0);
    const keys = [this.redis.keys.registration(aor), this.redis.keys.registrations()];
    await this.redis.eval(SAVE, { keys, arguments: [aor, JSON.stringify(bindings), String(expiry), String(this.now())] }, 'registration write');
  }

  async aors(): Promise<string[]> {
    const r = await this.redis.eval(AORS, { keys: [this.redis.keys.registrations()], arguments: [String(this.now())] }, 'registrations list');
    return Array.isArray(r) ? r.filter((x): x is string => typeof x === 'string') : [];
  }
}

/** Values from Redis are checked field by field: a malformed entry is dropped, never trusted. */
export function parseBindings(raw: string): DirectoryBinding[] {
  let v: unknown;
  try {
    v = JSON.parse(raw);
  } catch {
    return [];
  }
  if (!Array.isArray(v)) return [];
  const out: DirectoryBinding[] = [];
  for (const e of v as unknown[]) {
    if (typeof e !== 'object' || e === null) continue;
    const o = e as Record<string, unknown>;
    const str = (k: string): string | undefined => (typeof o[k] === 'string' ? (o[k] as string) : undefined);
    const num = (k: string): number | undefined => (typeof o[k] === 'number' && Number.isFinite(o[k]) ? (o[k] as number) : undefined);
    const [key, uri, gateway, flowId, callId] = [str('key'), str('uri'), str('gateway'), str('flowId'), str('callId')];
    const [expiresAt, cseq] = [num('expiresAt'), num('cseq')];
    const path = Array.isArray(o['path']) && (o['path'] as unknown[]).every((p) => typeof p === 'string') ? (o['path'] as string[]) : undefined;
    if (key === undefined || uri === undefined || gateway === undefined || flowId === undefined || callId === undefined || expiresAt === undefined || cseq === undefined || !path) continue;
    const params = stringRecord(o['params']);
    const instance = str('instance');
    out.push({ key, uri, path, gateway, flowId, expiresAt, callId, cseq, ...(params ? { params } : {}), ...(instance !== undefined ? { instance } : {}) });
  }
  return out;
}

function stringRecord(v: unknown): Record<string, string> | undefined {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) return undefined;
  const entries = Object.entries(v as Record<string, unknown>);
  return entries.every(([, x]) => typeof x === 'string') ? Object.fromEntries(entries as [string, string][]) : undefined;
}

import type { SharedRedis } from './backend.js';

/**
 * Supervisor sessions shared by the gateways, so a dashboard behind a load balancer needs no
 * sticky sessions (README, "Redis, metrics, audit"): a session opened on one instance is good on
 * every other, a sign-out anywhere ends it everywhere, and the 15-minute idle timeout (PCI DSS
 * v4.0.1 8.2.8) runs cluster-wide.
 *
 * - `supervisor-session:{key}`: the supervisor's name, with the idle timeout as TTL; each use on any
 *   instance starts it again (TOUCH). `key` is the token's SHA-256 (api/agent-tokens.ts tokenKey);
 *   the token itself is never stored.
 *
 * Every command goes through the link's deadline (store/redis-link.ts): a hung Redis makes these
 * reject within the command timeout, never hang.
 */
export interface SupervisorSessionDirectory {
  /** Opens the session `key` of supervisor `name` for `idleMs`. */
  put(key: string, name: string, idleMs: number): Promise<void>;
  /** The name of the live session `key`, whose idle timer starts again; undefined when it ended. */
  touch(key: string, idleMs: number): Promise<string | undefined>;
  /** Ends the session `key` on every instance. */
  drop(key: string): Promise<void>;
}

const PUT = `redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
return 1`;
/** KEYS: supervisor-session:{key}. ARGV: idle ms. The name, its TTL started again; nil when gone. */
const TOUCH = `local name = redis.call('GET', KEYS[1])
if name then redis.call('PEXPIRE', KEYS[1], ARGV[1]) end
return name`;
const DEL = `return redis.call('DEL', KEYS[1])`;

/** Supervisor names as the login accepts them (api/supervisors.ts loginSchema). */
const NAME = /^[A-Za-z0-9._-]{1,64}$/;

export class RedisSupervisorSessions implements SupervisorSessionDirectory {
  constructor(private readonly redis: SharedRedis) {}

  async put(key: string, name: string, idleMs: number): Promise<void> {
    await this.redis.eval(PUT, { keys: [this.redis.keys.supervisorSession(key)], arguments: [name, String(Math.max(1, Math.ceil(idleMs)))] }, 'supervisor session write');
  }

  async touch(key: string, idleMs: number): Promise<string | undefined> {
    const raw = await this.redis.eval(TOUCH, { keys: [this.redis.keys.supervisorSession(key)], arguments: [String(Math.max(1, Math.ceil(idleMs)))] }, 'supervisor session read');
    // What Redis returns is checked like any outside input: anything but a valid name is no session.
    return typeof raw === 'string' && NAME.test(raw) ? raw : undefined;
  }

  async drop(key: string): Promise<void> {
    await this.redis.eval(DEL, { keys: [this.redis.keys.supervisorSession(key)] }, 'supervisor session end');
  }
}

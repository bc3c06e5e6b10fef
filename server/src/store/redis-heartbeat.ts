import type { Logger } from '../observability/logger.js';
import { RedisKeys } from './redis-keys.js';
import type { RedisLink } from './redis-link.js';

export interface InstanceHeartbeatOptions {
  readonly link: RedisLink;
  readonly instanceId: string;
  readonly logger: Logger;
  readonly keys?: RedisKeys;
  /** The heartbeat key lives this long unless refreshed. Default 15 000 ms. */
  readonly ttlMs?: number;
  /** Refreshed this often. Default 5 000 ms. */
  readonly intervalMs?: number;
}

export interface InstanceInfo {
  readonly instanceId: string;
  readonly startedAt: string;
  readonly at: string;
}

/**
 * Liveness of gateway instances: each instance keeps `instance:{id}` (`SET ... PX ttl`)
 * alive and is a member of the `instances` set. An instance in the set whose key has expired has
 * stopped (crashed, or lost Redis for longer than the TTL). A survivor calls {@link claimExpired}:
 * SREM is atomic, so exactly one survivor gets each dead instance and marks its sessions failed
 * (`store.list({instanceId, status: 'live'})`).
 */
export class InstanceHeartbeat {
  readonly #o: InstanceHeartbeatOptions;
  readonly #k: RedisKeys;
  readonly #ttl: number;
  readonly #startedAt = new Date().toISOString();
  #timer: NodeJS.Timeout | undefined;

  constructor(o: InstanceHeartbeatOptions) {
    this.#o = o;
    this.#k = o.keys ?? new RedisKeys();
    this.#ttl = o.ttlMs ?? 15_000;
    o.link.onUp(async () => void (await this.beat()));
  }

  start(): void {
    if (this.#timer) return;
    void this.beat();
    this.#timer = setInterval(() => void this.beat(), this.#o.intervalMs ?? 5_000);
    this.#timer.unref();
  }

  /** One refresh; false when Redis did not take it (it is down: the link reports that). */
  async beat(): Promise<boolean> {
    if (!this.#o.link.up) return false;
    const info: InstanceInfo = { instanceId: this.#o.instanceId, startedAt: this.#startedAt, at: new Date().toISOString() };
    try {
      await this.#o.link.timed('heartbeat', (c) =>
        c
          .multi()
          .set(this.#k.instance(this.#o.instanceId), JSON.stringify(info), { expiration: { type: 'PX', value: this.#ttl } })
          .sAdd(this.#k.instances(), this.#o.instanceId)
          .exec(),
      );
      return true;
    } catch (err) {
      this.#o.logger.debug({ err: (err as Error).message }, 'redis: heartbeat failed');
      return false;
    }
  }

  /** Instances whose heartbeat is current. */
  async live(): Promise<InstanceInfo[]> {
    const { alive } = await this.#scan();
    return alive;
  }

  /** Instances that sent a heartbeat once and whose key has since expired. */
  async expired(): Promise<string[]> {
    return (await this.#scan()).dead;
  }

  /** True for exactly one caller per dead instance: that one takes over its sessions. */
  async claimExpired(instanceId: string): Promise<boolean> {
    const link = this.#o.link;
    if ((await link.timed('heartbeat check', (c) => c.exists(this.#k.instance(instanceId)))) === 1) return false;
    return (await link.timed('heartbeat claim', (c) => c.sRem(this.#k.instances(), instanceId))) === 1;
  }

  /** Stops refreshing and removes this instance (a clean shutdown is not a death). */
  async stop(): Promise<void> {
    clearInterval(this.#timer);
    this.#timer = undefined;
    if (!this.#o.link.up) return;
    await this.#o.link
      .timed('heartbeat removal', (c) => c.multi().del(this.#k.instance(this.#o.instanceId)).sRem(this.#k.instances(), this.#o.instanceId).exec())
      .catch(() => undefined);
  }

  async #scan(): Promise<{ alive: InstanceInfo[]; dead: string[] }> {
    const link = this.#o.link;
    const ids = await link.timed('heartbeat scan', (c) => c.sMembers(this.#k.instances()));
    const values = ids.length > 0 ? await link.timed('heartbeat scan', (c) => c.mGet(ids.map((id) => this.#k.instance(id)))) : [];
    const alive: InstanceInfo[] = [];
    const dead: string[] = [];
    ids.forEach((id, i) => {
      const v = values[i];
      if (v) alive.push(JSON.parse(v) as InstanceInfo);
      else dead.push(id);
    });
    return { alive, dead };
  }
}

import type { Logger } from '../observability/logger.js';
import type { EventBus, SessionRecord, SessionStore } from '../store/index.js';
import type { SessionEvent } from './events.js';

/** What the takeover needs of the instance heartbeats (store/redis-heartbeat.ts fits). */
export interface InstanceLiveness {
  /** Instances that sent a heartbeat once and whose heartbeat has since expired. */
  expired(): Promise<string[]>;
  /** True for exactly one caller per dead instance. */
  claimExpired(instanceId: string): Promise<boolean>;
}

/** The capture states in which money may have moved: the provider was asked to charge. */
const MONEY_IN_FLIGHT = new Set(['paying', 'confirming']);

/**
 * Scale-out: a gateway instance that dies (crash, SIGKILL, lost host) cannot end
 * its own sessions. Every survivor checks the instance heartbeats; the one that claims a dead
 * instance marks each of that instance's live sessions `failed` (reason `gateway-lost`) and
 * publishes `session.ended`, so the agent's widget and the supervisors are told. A session that
 * died while the provider was being asked to pay is flagged `needsReconciliation`: nobody knows
 * whether the card was charged, and operations settle it by the recorded Idempotency-Key.
 */
export class InstanceTakeover {
  #timer: NodeJS.Timeout | undefined;
  #running: Promise<void> | undefined;

  constructor(
    private readonly o: {
      self: string;
      liveness: InstanceLiveness;
      store: SessionStore;
      bus: EventBus<SessionEvent>;
      logger: Logger;
      /** How often to look. Default 5 000 ms. */
      intervalMs?: number;
    },
  ) {}

  start(): void {
    if (this.#timer) return;
    this.#timer = setInterval(() => void this.sweep(), this.o.intervalMs ?? 5_000);
    this.#timer.unref();
  }

  /** One look at the heartbeats; never rejects (a Redis outage is logged by the link). */
  sweep(): Promise<void> {
    this.#running ??= this.#sweep()
      .catch((err: unknown) => this.o.logger.debug({ err: (err as Error).message }, 'takeover: sweep failed'))
      .finally(() => (this.#running = undefined));
    return this.#running;
  }

  async #sweep(): Promise<void> {
    for (const id of await this.o.liveness.expired()) {
      if (id === this.o.self || !(await this.o.liveness.claimExpired(id))) continue;
      const live = await this.o.store.list({ instanceId: id, status: 'live' });
      this.o.logger.warn({ instance: id, sessions: live.length }, 'gateway instance lost (heartbeat expired): marking its live sessions failed');
      for (const s of live) await this.#fail(s);
    }
  }

  async #fail(s: SessionRecord): Promise<void> {
    const needsReconciliation = MONEY_IN_FLIGHT.has(s.state);
    await this.o.store.update(s.id, {
      state: 'done', field: null, outcome: 'failed', failureReason: 'gateway-lost', endedAt: new Date().toISOString(),
      ...(needsReconciliation ? { needsReconciliation: true } : {}),
    });
    await this.o.bus.publish({
      type: 'session.ended', sessionId: s.id, agentId: s.agentId, at: new Date().toISOString(), outcome: 'failed', reason: 'gateway-lost',
      ...(needsReconciliation ? { needsReconciliation: true } : {}),
    });
  }

  async stop(): Promise<void> {
    clearInterval(this.#timer);
    this.#timer = undefined;
    await this.#running;
  }
}

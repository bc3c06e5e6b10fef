import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import type { Logger } from '../observability/logger.js';
import type { Outbox, OutboxEntry } from './outbox.js';
import { signWebhook } from './webhook-sign.js';

export interface WebhookRetry {
  /** Delay before the first retry; doubles per attempt (exponential backoff). */
  readonly baseMs: number;
  readonly maxMs: number;
  /** Attempts before the entry is given up (`dead`). */
  readonly maxAttempts: number;
}

export interface WebhookOptions {
  readonly url: string;
  readonly secret: string;
  readonly outbox: Outbox & { claim?(id: string, owner: string, ms: number): Promise<boolean> };
  /** This instance (the claim owner with a shared outbox). */
  readonly instanceId: string;
  readonly timeoutMs: number;
  readonly retry: WebhookRetry;
  readonly logger: Logger;
  readonly registry?: Registry;
  readonly fetch?: typeof fetch;
  readonly nowMs?: () => number;
  readonly random?: () => number;
  /** How often the outbox is re-read for entries another instance left (shared outbox). Default 30 s. */
  readonly rescanMs?: number;
  /** POSTs in flight at once (a restart with many waiting outcomes must not flood the merchant). Default 8. */
  readonly concurrency?: number;
}

/** The delay before attempt `n + 1` after `n` failed ones: base·2^(n-1), capped, with "equal jitter" (half fixed, half random). */
export function webhookBackoff(r: WebhookRetry, failed: number, random: () => number = Math.random): number {
  const d = Math.min(r.maxMs, r.baseMs * 2 ** Math.max(0, failed - 1));
  return Math.round(d / 2 + (d / 2) * random());
}

/**
 * Delivers the outbox to the merchant's WEBHOOK_URL, at least once: POST the stored body with
 * `Idempotency-Key`, `X-Tonegate-Timestamp` and `X-Tonegate-Signature` (./webhook-sign.ts); any
 * 2xx settles the entry, anything else (or no answer within the timeout) is retried with
 * exponential backoff until `maxAttempts`, after which it is settled `dead` and logged at error.
 * Attempt counts live in memory: after a restart every waiting entry is tried again at once.
 */
export class WebhookDeliverer {
  readonly #o: WebhookOptions;
  readonly #timers = new Map<string, NodeJS.Timeout>();
  readonly #attempts = new Map<string, number>();
  readonly #inflight = new Map<string, AbortController>();
  readonly #log: Logger;
  readonly #deliveries: Counter<'result'> | undefined;
  readonly #latency: Histogram<'result'> | undefined;
  #rescan: NodeJS.Timeout | undefined;
  #closed = false;

  constructor(o: WebhookOptions) {
    this.#o = o;
    this.#log = o.logger.child({ component: 'webhook' });
    if (o.registry) {
      const registers = [o.registry];
      this.#deliveries = new Counter({
        name: 'tonegate_webhook_deliveries_total',
        help: 'Merchant webhook POSTs by result: delivered (2xx), failed (retried later), dead (given up)',
        labelNames: ['result'],
        registers,
      });
      this.#latency = new Histogram({
        name: 'tonegate_webhook_request_duration_seconds',
        help: 'Merchant webhook POSTs: time to the answer (or the timeout)',
        labelNames: ['result'],
        buckets: [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
        registers,
      });
      const outbox = o.outbox;
      new Gauge({ name: 'tonegate_webhook_outbox_pending', help: 'Outcomes waiting in the webhook outbox', registers, collect() { this.set(outbox.size()); } });
    }
  }

  /**
   * Schedules every entry already waiting (after a restart) and, with a shared outbox, re-reads it
   * now and then. Resolves once the first read is done, or at once with a shared outbox (Redis
   * may be down at start: its read then happens when it is back).
   */
  async start(): Promise<void> {
    const scan = () => this.#scan().catch((err: unknown) => this.#log.warn({ err: (err as Error).message }, 'webhook outbox scan failed'));
    if (!this.#o.outbox.claim) return void (await this.#scan());
    void scan();
    this.#rescan = setInterval(() => void scan(), this.#o.rescanMs ?? 30_000);
    this.#rescan.unref();
  }

  /** Durably enqueues an outcome and tries it at once. False: it was already waiting or delivered. */
  async enqueue(entry: OutboxEntry): Promise<boolean> {
    const added = await this.#o.outbox.append(entry);
    if (added) this.#schedule(entry, 0);
    return added;
  }

  async close(): Promise<void> {
    this.#closed = true;
    if (this.#rescan) clearInterval(this.#rescan);
    for (const t of this.#timers.values()) clearTimeout(t);
    this.#timers.clear();
    for (const c of this.#inflight.values()) c.abort();
    await this.#o.outbox.close();
  }

  async #scan(): Promise<void> {
    for (const e of await this.#o.outbox.pending()) if (!this.#timers.has(e.id) && !this.#inflight.has(e.id)) this.#schedule(e, 0);
  }

  #schedule(entry: OutboxEntry, delayMs: number): void {
    if (this.#closed) return;
    clearTimeout(this.#timers.get(entry.id));
    const t = setTimeout(() => {
      this.#timers.delete(entry.id);
      void this.#attempt(entry).catch((err: unknown) => {
        // The outbox itself failed (disk, Redis): the entry stays, try again later.
        this.#log.error({ id: entry.id, err: (err as Error).message }, 'webhook outbox write failed');
        this.#schedule(entry, webhookBackoff(this.#o.retry, this.#attempts.get(entry.id) ?? 1, this.#o.random));
      });
    }, delayMs);
    t.unref();
    this.#timers.set(entry.id, t);
  }

  async #attempt(entry: OutboxEntry): Promise<void> {
    const o = this.#o;
    if (this.#inflight.size >= (o.concurrency ?? 8)) return this.#schedule(entry, 50 + Math.round(100 * (o.random ?? Math.random)()));
    const n = (this.#attempts.get(entry.id) ?? 0) + 1;
    const nextDelay = webhookBackoff(o.retry, n, o.random);
    if (o.outbox.claim && !(await o.outbox.claim(entry.id, o.instanceId, o.timeoutMs + nextDelay))) {
      return this.#schedule(entry, nextDelay); // another instance has it now
    }
    this.#attempts.set(entry.id, n);
    const ctl = new AbortController();
    this.#inflight.set(entry.id, ctl);
    const timer = setTimeout(() => ctl.abort(), o.timeoutMs);
    const started = performance.now();
    let status = 0;
    try {
      const ts = Math.floor((o.nowMs ?? Date.now)() / 1000);
      const res = await (o.fetch ?? fetch)(o.url, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          'user-agent': 'tonegate-webhook',
          'idempotency-key': entry.id,
          'x-tonegate-timestamp': String(ts),
          'x-tonegate-signature': signWebhook(o.secret, ts, entry.body),
          'x-tonegate-attempt': String(n),
        },
        body: entry.body,
        signal: ctl.signal,
        redirect: 'manual',
      });
      status = res.status;
      await res.body?.cancel();
    } catch {
      status = 0; // no answer: refused, reset, or timed out
    } finally {
      clearTimeout(timer);
      this.#inflight.delete(entry.id);
    }
    if (this.#closed) return; // shutting down: the entry stays in the outbox for the next start
    const ok = status >= 200 && status <= 299;
    this.#latency?.observe({ result: ok ? 'delivered' : 'failed' }, (performance.now() - started) / 1000);
    if (ok) {
      await o.outbox.settle(entry.id, 'delivered');
      this.#attempts.delete(entry.id);
      this.#deliveries?.inc({ result: 'delivered' });
      this.#log.info({ id: entry.id, attempt: n, status }, 'webhook delivered');
      return;
    }
    this.#deliveries?.inc({ result: 'failed' });
    if (n >= o.retry.maxAttempts) {
      await o.outbox.settle(entry.id, 'dead');
      this.#attempts.delete(entry.id);
      this.#deliveries?.inc({ result: 'dead' });
      this.#log.error({ id: entry.id, attempts: n, status }, 'webhook given up after the last attempt');
      return;
    }
    this.#log.warn({ id: entry.id, attempt: n, status, retryInMs: nextDelay }, 'webhook delivery failed; will retry');
    this.#schedule(entry, nextDelay);
  }
}

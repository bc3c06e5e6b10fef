import type { Registry } from 'prom-client';
import type { SessionEvent, SessionReconciledEvent, SessionEndedEvent } from '../capture/events.js';
import type { Config } from '../config/schema.js';
import type { AuditLog } from '../observability/audit.js';
import type { Logger } from '../observability/logger.js';
import type { EventBus, SessionRecord, SessionStore } from '../store/index.js';
import { FileOutbox, type Outbox, type OutboxEntry } from './outbox.js';
import { Reconciler, type ReconcileProvider } from './reconcile.js';
import { RedisOutbox } from './redis-outbox.js';
import { WebhookDeliverer } from './webhook.js';

export { FileOutbox, type Outbox, type OutboxEntry } from './outbox.js';
export { RedisOutbox } from './redis-outbox.js';
export { Reconciler, type Reconciled, type ReconcileProvider } from './reconcile.js';
export { WebhookDeliverer, webhookBackoff, type WebhookRetry } from './webhook.js';
export { signWebhook, verifyWebhook } from './webhook-sign.js';

/** The masked session outcome a merchant receives (docs/operations.md, "Merchant webhook"). */
export interface WebhookBody {
  readonly type: 'session.outcome';
  /** Also the `Idempotency-Key` header: `<sessionId>:<outcome>`, one per (session, outcome). */
  readonly idempotencyKey: string;
  readonly sessionId: string;
  readonly outcome: string;
  readonly reason: string;
  readonly orderRef: string | null;
  readonly merchantId: string | null;
  readonly amount: string | null;
  readonly currency: string | null;
  /** Brand and last 4 only. */
  readonly card: { readonly brand: string; readonly last4: string } | null;
  readonly paymentId: string | null;
  readonly needsReconciliation: boolean;
  /** Settled later by the reconciliation worker (`session.reconciled`). */
  readonly reconciled: boolean;
  readonly startedAt: string | null;
  readonly endedAt: string;
}

/** The webhook body of an outcome event, from the event and the (masked) session record. */
export function webhookBody(e: SessionEndedEvent | SessionReconciledEvent, r: SessionRecord | undefined): WebhookBody {
  const reconciled = e.type === 'session.reconciled';
  return {
    type: 'session.outcome',
    idempotencyKey: `${e.sessionId}:${e.outcome}`,
    sessionId: e.sessionId,
    outcome: e.outcome,
    reason: e.reason,
    orderRef: r?.orderRef ?? null,
    merchantId: r?.merchantId ?? null,
    amount: r?.amount ?? null,
    currency: r?.currency ?? null,
    card: r?.card ? { brand: r.card.brand, last4: r.card.last4 } : null,
    paymentId: e.paymentId ?? r?.paymentId ?? null,
    needsReconciliation: !reconciled && (e as SessionEndedEvent).needsReconciliation === true,
    reconciled,
    startedAt: r?.startedAt ?? null,
    endedAt: reconciled ? (r?.endedAt ?? e.at) : e.at,
  };
}

export interface AfterPaymentDeps {
  readonly config: Config;
  readonly bus: EventBus<SessionEvent>;
  readonly store: SessionStore;
  readonly audit: AuditLog;
  readonly provider: ReconcileProvider;
  /** The named provider of a session (reconciliation asks the one that served it). */
  readonly providerFor?: (name: string | undefined) => ReconcileProvider | undefined;
  readonly logger: Logger;
  readonly registry?: Registry;
}

export interface AfterPayment {
  readonly webhook: WebhookDeliverer | undefined;
  readonly reconciler: Reconciler;
  close(): Promise<void>;
}

/** WEBHOOK_SECRET (from the environment or WEBHOOK_SECRET_FILE, read by config/load.ts). Throws naming the variable. */
export function webhookSecret(config: Config): string {
  if (!config.WEBHOOK_SECRET) throw new Error('WEBHOOK_SECRET: required with WEBHOOK_URL (or WEBHOOK_SECRET_FILE), at least 16 characters');
  return config.WEBHOOK_SECRET;
}

/**
 * What happens after the payment, wired on the event bus (the capture knows nothing of it): the
 * merchant webhook for every outcome this instance published (`session.ended`, and
 * `session.reconciled` when it changes the outcome), from a durable outbox; and the
 * reconciliation worker. The receipt SMS is the capture's own (capture/receipt.ts): it needs the
 * customer's mobile, which no event or record carries.
 */
export async function startAfterPayment(d: AfterPaymentDeps): Promise<AfterPayment> {
  const { config, logger } = d;
  let webhook: WebhookDeliverer | undefined;
  if (config.WEBHOOK_URL) {
    const secret = webhookSecret(config);
    const outbox: Outbox = config.REDIS_URL ? await RedisOutbox.open(config.REDIS_URL) : await FileOutbox.open(config.WEBHOOK_OUTBOX);
    if (outbox instanceof FileOutbox && outbox.skippedLines > 0) logger.warn({ lines: outbox.skippedLines, file: outbox.path }, 'webhook outbox: torn lines skipped');
    webhook = new WebhookDeliverer({
      url: config.WEBHOOK_URL,
      secret,
      outbox,
      instanceId: config.INSTANCE_ID,
      timeoutMs: config.WEBHOOK_TIMEOUT_MS,
      retry: { baseMs: config.WEBHOOK_RETRY_BASE_MS, maxMs: config.WEBHOOK_RETRY_MAX_MS, maxAttempts: config.WEBHOOK_MAX_ATTEMPTS },
      logger,
      ...(d.registry ? { registry: d.registry } : {}),
    });
    await webhook.start();
    const w = webhook;
    const enqueue = async (e: SessionEndedEvent | SessionReconciledEvent) => {
      const r = await d.store.get(e.sessionId).catch(() => undefined);
      const body = webhookBody(e, r);
      const entry: OutboxEntry = { id: body.idempotencyKey, body: JSON.stringify(body), createdAt: Date.now() };
      await w.enqueue(entry);
    };
    await d.bus.subscribe(
      (e) => {
        const outcomeEvent = e.type === 'session.ended' || (e.type === 'session.reconciled' && e.outcome !== e.previousOutcome);
        if (!outcomeEvent) return;
        void enqueue(e).catch((err: unknown) => logger.error({ sessionId: e.sessionId, err: (err as Error).message }, 'webhook: outcome not enqueued'));
      },
      { localOnly: true }, // the instance that published the outcome enqueues it, once
    );
  }
  const reconciler = new Reconciler({ store: d.store, bus: d.bus, audit: d.audit, provider: d.provider, ...(d.providerFor ? { providerFor: d.providerFor } : {}), logger: logger.child({ component: 'reconcile' }), intervalMs: config.RECONCILE_INTERVAL_S * 1000, ...(d.registry ? { registry: d.registry } : {}) });
  reconciler.start();
  return {
    webhook,
    reconciler,
    close: async () => {
      await reconciler.stop();
      await webhook?.close();
    },
  };
}

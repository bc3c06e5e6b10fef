import { Counter, type Registry } from 'prom-client';
import type { SessionEvent } from '../capture/events.js';
import type { AuditLog } from '../observability/audit.js';
import type { Logger } from '../observability/logger.js';
import { ProviderError } from '../providers/errors.js';
import type { PaymentStatus } from '../providers/schemas.js';
import type { EventBus, Outcome, SessionPatch, SessionRecord, SessionStore, Unsequenced } from '../store/index.js';

/** The provider calls reconciliation needs (PaymentProviderClient fits). */
export interface ReconcileProvider {
  /** Status by Idempotency-Key (past the breaker: it settles unknown outcomes). */
  paymentStatus(idempotencyKey: string): Promise<PaymentStatus>;
  confirm(paymentId: string): Promise<unknown>;
}

export interface ReconcileOptions {
  readonly store: SessionStore;
  readonly bus: EventBus<SessionEvent>;
  readonly audit: AuditLog;
  readonly provider: ReconcileProvider;
  /** The named provider that served a session (its record's `provider`; a record without one: `provider`); undefined: not configured. */
  readonly providerFor?: (name: string | undefined) => ReconcileProvider | undefined;
  readonly logger: Logger;
  /** Between sweeps; 0: no timer (sweep() by hand). */
  readonly intervalMs: number;
  readonly nowMs?: () => number;
  /** Registers `tonegate_reconciliations_total{result}`. */
  readonly registry?: Registry;
}

export type Reconciled =
  | { readonly sessionId: string; readonly result: 'settled'; readonly outcome: Outcome; readonly providerStatus: 'approved' | 'declined' | 'not-found' }
  /** Still unknown (pending, or the provider did not answer): tried again next sweep. */
  | { readonly sessionId: string; readonly result: 'unresolved'; readonly why: string };

const codeOf = (err: unknown) => (err instanceof ProviderError ? err.code : 'internal');

/**
 * The reconciliation worker (docs/operations.md, "Reconciliation"): every `intervalMs` it takes
 * the ended sessions flagged `needsReconciliation`, asks the provider for the payment's status by
 * the recorded Idempotency-Key, and settles them: `approved` -> confirmed and `paid`; `declined`
 * -> `declined`; `not-found` -> never charged, stays `failed`; `pending` or no answer -> left
 * flagged for the next sweep. Each settlement is written to the session, audited
 * (`session.reconcile`) and published as `session.reconciled`, so agents and supervisors see it.
 * Settling is idempotent (the same status gives the same record), so several instances sweeping
 * at once do no harm.
 */
export class Reconciler {
  readonly #o: ReconcileOptions;
  #timer: NodeJS.Timeout | undefined;
  #sweeping: Promise<Reconciled[]> | undefined;
  readonly #count: Counter<'result'> | undefined;

  constructor(o: ReconcileOptions) {
    this.#o = o;
    if (o.registry) {
      this.#count = new Counter({
        name: 'tonegate_reconciliations_total',
        help: 'Sessions needing reconciliation looked at, by result: approved, declined, not-found (settled) or unresolved (tried again later)',
        labelNames: ['result'],
        registers: [o.registry],
      });
    }
  }

  start(): void {
    if (this.#o.intervalMs <= 0 || this.#timer) return;
    this.#timer = setInterval(() => void this.sweep(), this.#o.intervalMs);
    this.#timer.unref();
  }

  stop(): Promise<unknown> {
    if (this.#timer) clearInterval(this.#timer);
    this.#timer = undefined;
    return this.#sweeping ?? Promise.resolve();
  }

  /** One pass over the flagged sessions (one at a time; a sweep still running is joined). */
  sweep(): Promise<Reconciled[]> {
    this.#sweeping ??= this.#sweep().finally(() => (this.#sweeping = undefined));
    return this.#sweeping;
  }

  async #sweep(): Promise<Reconciled[]> {
    let flagged: SessionRecord[];
    try {
      flagged = (await this.#o.store.list({ status: 'ended' })).filter((s) => s.needsReconciliation === true);
    } catch (err) {
      this.#o.logger.warn({ err: (err as Error).message }, 'reconciliation: sessions could not be listed');
      return [];
    }
    const out: Reconciled[] = [];
    for (const s of flagged) {
      const r = await this.#one(s);
      this.#count?.inc({ result: r.result === 'settled' ? r.providerStatus : 'unresolved' });
      out.push(r);
    }
    return out;
  }

  async #one(s: SessionRecord): Promise<Reconciled> {
    const log = this.#o.logger.child({ sessionId: s.id, idempotencyKey: s.idempotencyKey });
    const unresolved = (why: string): Reconciled => {
      log.info({ why }, 'reconciliation: still unresolved');
      return { sessionId: s.id, result: 'unresolved', why };
    };
    if (!s.idempotencyKey) return unresolved('no-idempotency-key');
    // The provider that may hold the charge: the one that served the session (docs/operations.md, "Several payment providers").
    // A provider no longer configured is never replaced by another: its "not-found" would wrongly settle the session.
    const named = s.provider !== undefined && this.#o.providerFor ? this.#o.providerFor(s.provider) : this.#o.provider;
    if (!named) return unresolved('unknown-provider');
    const provider = named;
    let st: PaymentStatus;
    try {
      st = await provider.paymentStatus(s.idempotencyKey);
    } catch (err) {
      return unresolved(`status-${codeOf(err)}`);
    }
    if (st.status === 'pending') return unresolved('pending');
    const previousOutcome = s.outcome ?? 'failed';
    let patch: SessionPatch;
    let reason: string;
    if (st.status === 'approved') {
      try {
        await provider.confirm(st.paymentId); // the customer authorised it: complete the sale
      } catch (err) {
        return unresolved(`confirm-${codeOf(err)}`);
      }
      reason = 'approved';
      patch = { outcome: 'paid', paymentId: st.paymentId, failureReason: undefined };
    } else if (st.status === 'declined') {
      reason = st.declineReason ?? 'declined';
      patch = { outcome: 'declined', paymentId: st.paymentId, failureReason: reason };
    } else {
      reason = s.failureReason ?? 'not-charged';
      patch = {}; // never charged: the failure stands
    }
    const outcome = patch.outcome ?? previousOutcome;
    const at = new Date((this.#o.nowMs ?? Date.now)()).toISOString();
    try {
      await this.#o.store.update(s.id, { ...patch, needsReconciliation: false, reconciledAt: at });
    } catch (err) {
      return unresolved(`store-${(err as Error).message}`);
    }
    this.#o.audit.record({
      actor: { kind: 'system' },
      action: 'session.reconcile',
      target: { type: 'session', id: s.id },
      outcome: 'success',
      details: { previousOutcome, outcome, providerStatus: st.status, ...(st.status !== 'not-found' ? { paymentId: st.paymentId } : {}) },
    });
    const event: Unsequenced<SessionEvent> = {
      type: 'session.reconciled',
      sessionId: s.id,
      agentId: s.agentId ?? null,
      at,
      outcome,
      previousOutcome,
      providerStatus: st.status,
      reason,
      ...(st.status !== 'not-found' ? { paymentId: st.paymentId } : {}),
    };
    await this.#o.bus.publish(event).catch((err: unknown) => log.warn({ err: (err as Error).message }, 'reconciliation: event not published'));
    log.info({ previousOutcome, outcome, providerStatus: st.status }, 'reconciliation: settled');
    return { sessionId: s.id, result: 'settled', outcome, providerStatus: st.status };
  }
}

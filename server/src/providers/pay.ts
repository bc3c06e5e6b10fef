import type { Logger } from '../observability/logger.js';
import type { CardDigits } from '../security/card-crypto.js';
import { ProviderError, type ProviderErrorCode } from './errors.js';
import { backoffDelay, retryDelay, type RetryPolicy, type Sleep } from './resilience/retry.js';
import type { PaymentResult, PaymentStatus } from './schemas.js';

export interface PaymentRequest {
  readonly orderRef: string;
  readonly merchantId: string;
  /** Decimal string, e.g. `1499.00`. */
  readonly amount: string;
  /** ISO 4217. */
  readonly currency: string;
  /** The OTP the customer keyed, already validated with the provider; absent in the `none` OTP mode. */
  readonly otpId?: string | undefined;
  readonly card: CardDigits;
  /**
   * One key per payment attempt. Pass one to record it before the call (so a crash can still be
   * reconciled); otherwise pay() makes one. Every retry of this attempt reuses it.
   */
  readonly idempotencyKey?: string;
}

export type PaymentFailureReason = Extract<
  ProviderErrorCode,
  'breaker-open' | 'timeout' | 'network' | 'unreachable' | 'server-error' | 'rate-limited' | 'bad-response' | 'rejected' | 'conflict' | 'insecure-transport' | 'not-found' | 'card-key-mismatch'
>;

interface DecisionBase {
  readonly idempotencyKey: string;
  /** Payment POSTs sent. */
  readonly attempts: number;
  /**
   * Whether a charge request may have reached the provider: false only when every POST was refused
   * before leaving (breaker open, connection refused) or none was made. Absent: assume it may have.
   * Failover to another provider is allowed only on false (providers/failover.ts).
   */
  readonly chargeSent?: boolean;
}

export type PaymentDecision =
  | (DecisionBase & { readonly outcome: 'approved'; readonly paymentId: string })
  | (DecisionBase & { readonly outcome: 'declined'; readonly paymentId?: string | undefined; readonly reason: string })
  | (DecisionBase & {
      readonly outcome: 'failed';
      readonly reason: PaymentFailureReason;
      /**
       * The provider may have charged the card and we could not find out: the session ends
       * `failed`, the agent is told, and operations must reconcile by `idempotencyKey`.
       */
      readonly needsReconciliation: boolean;
    });

export interface PayDeps {
  readonly policy: RetryPolicy;
  /** One payment POST with this key and this exact body. */
  readonly post: (body: string | Uint8Array, idempotencyKey: string) => Promise<PaymentResult>;
  /** Status by key (with its own retries, past the breaker); throws when it cannot find out. */
  readonly status: (idempotencyKey: string) => Promise<PaymentStatus>;
  readonly sleep: Sleep;
  readonly random?: () => number;
  readonly logger: Logger;
}

const asFailure = (code: ProviderErrorCode): PaymentFailureReason =>
  code === 'dlt-invalid' || code === 'all-routes-failed' ? 'rejected' : code;

/**
 * Runs one payment attempt so that a card is never charged twice:
 *
 * - The body (card encrypted or not) and the Idempotency-Key are fixed once and reused verbatim.
 * - 429: the request was not processed (RFC 6585 §4): wait `Retry-After` (capped by the policy),
 *   retry with the same key.
 * - Unreachable (connection refused, DNS): nothing was sent: back off, retry.
 * - Timeout, broken connection, 5xx, malformed 2xx: the charge may have happened. Ask the status by
 *   key FIRST. approved/declined settle it; pending or an unanswered status query ends `failed`
 *   with `needsReconciliation`; only `not-found` allows another POST, with the same key.
 * - 409 (key in use): settle by status likewise, never by a new key.
 */
export async function runPayment(body: string | Uint8Array, idempotencyKey: string, deps: PayDeps): Promise<PaymentDecision> {
  const { policy, logger } = deps;
  const log = logger.child({ idempotencyKey });
  let unresolved = false;
  let attempts = 0;
  let chargeSent = false;

  const decide = (d: PaymentDecision): PaymentDecision => {
    const extra =
      d.outcome === 'failed' ? { reason: d.reason, needsReconciliation: d.needsReconciliation } : d.outcome === 'declined' ? { reason: d.reason } : {};
    log.info({ outcome: d.outcome, attempts: d.attempts, chargeSent, ...extra }, 'payment decided');
    return { ...d, chargeSent };
  };
  const failed = (reason: PaymentFailureReason, needsReconciliation: boolean) =>
    decide({ outcome: 'failed', reason, needsReconciliation, idempotencyKey, attempts });
  const settle = async (): Promise<PaymentStatus | undefined> => {
    try {
      return await deps.status(idempotencyKey);
    } catch (err) {
      log.warn({ code: err instanceof ProviderError ? err.code : 'unknown' }, 'payment status query failed');
      return undefined;
    }
  };
  const fromStatus = (s: PaymentStatus): PaymentDecision | undefined => {
    if (s.status === 'approved') return decide({ outcome: 'approved', paymentId: s.paymentId, idempotencyKey, attempts });
    if (s.status === 'declined') {
      return decide({ outcome: 'declined', paymentId: s.paymentId, reason: s.declineReason ?? 'declined', idempotencyKey, attempts });
    }
    return undefined;
  };

  for (let attempt = 1; attempt <= policy.attempts; attempt++) {
    attempts = attempt;
    let err: ProviderError;
    try {
      const r = await deps.post(body, idempotencyKey);
      chargeSent = true;
      return r.status === 'approved'
        ? decide({ outcome: 'approved', paymentId: r.paymentId, idempotencyKey, attempts })
        : decide({ outcome: 'declined', paymentId: r.paymentId, reason: r.declineReason ?? 'declined', idempotencyKey, attempts });
    } catch (e) {
      err = e instanceof ProviderError ? e : new ProviderError('network', true, { cause: e });
      // Anything but a refusal before leaving (breaker open, connection refused) may have reached the provider.
      if (err.code !== 'breaker-open' && err.code !== 'unreachable') chargeSent = true;
    }
    // Another POST (same key, same body) only if attempts remain AND the policy lists the error.
    const more = attempt < policy.attempts && policy.retryOn.includes(err.code);

    switch (err.code) {
      case 'breaker-open':
        if (attempt === 1) attempts = 0; // refused before anything was sent
        return failed('breaker-open', unresolved);
      case 'rate-limited': {
        const delay = retryDelay(policy, err, attempt, deps.random);
        if (!more || delay === undefined) return failed('rate-limited', unresolved);
        log.info({ attempt, delayMs: delay }, 'payment rate-limited: waiting Retry-After');
        await deps.sleep(delay);
        continue;
      }
      case 'unreachable':
        if (!more) return failed('unreachable', unresolved);
        await deps.sleep(backoffDelay(policy, attempt, deps.random));
        continue;
      case 'conflict': {
        const s = await settle();
        return (s && fromStatus(s)) ?? failed('conflict', true);
      }
      case 'timeout':
      case 'network':
      case 'server-error':
      case 'bad-response': {
        log.warn({ attempt, code: err.code }, 'payment outcome unknown: querying status before anything else');
        const s = await settle();
        if (!s || s.status === 'pending') return failed(asFailure(err.code), true);
        if (s.status !== 'not-found') return fromStatus(s) ?? failed(asFailure(err.code), true);
        // not-found: the provider has no charge under this key (yet, if our request may still be in flight).
        unresolved = err.code === 'timeout' || err.code === 'network';
        if (!more) return failed(asFailure(err.code), unresolved);
        await deps.sleep(backoffDelay(policy, attempt, deps.random));
        continue;
      }
      default:
        return failed(asFailure(err.code), unresolved);
    }
  }
  return failed('rejected', unresolved); // only with a policy of 0 attempts: nothing was sent
}

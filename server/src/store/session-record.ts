import { z } from 'zod';
import { OUTCOMES, type Outcome } from '../contract/events.js';

/**
 * The session record: exactly the session JSON of the contract (docs/architecture.md, "Session REST"), and
 * the only thing a {@link SessionStore} holds. Masked data only: the card is brand + first 6 +
 * last 4 (PCI DSS v4.0 req. 3.4.1), never a PAN, expiry, CVV or OTP. The schema is `.strict()`, so
 * a record carrying any other key (a stray `pan`, say) is refused by every store, memory or Redis.
 */
export { OUTCOMES, type Outcome };

export const DTMF_TRANSPORTS = ['rfc4733', 'inband', 'info'] as const;
export type DtmfTransport = (typeof DTMF_TRANSPORTS)[number];

const isoTime = z.string().datetime({ offset: true });
const id = z.string().min(1).max(128);

export const maskedCardSchema = z
  .object({
    /** Lower-case brand (`visa`, `mastercard`, `amex`, `rupay`, `diners`, `discover`, `jcb`, `maestro`, `unknown`). */
    brand: z.string().regex(/^[a-z]{2,16}$/),
    /** Null for PANs under 15 digits: last 4 only (docs/security.md). */
    first6: z.string().regex(/^\d{6}$/).nullable(),
    last4: z.string().regex(/^\d{4}$/),
  })
  .strict();
export type MaskedCard = z.infer<typeof maskedCardSchema>;

export const sessionRecordSchema = z
  .object({
    id,
    /** The capture state (`greeting`, `pan`, ..., `done`). */
    state: z.string().regex(/^[a-z][a-z-]{1,31}$/),
    /** The field being keyed (`pan`, `expiry`, `cvv`, `otp`), null between fields. */
    field: z.enum(['pan', 'expiry', 'cvv', 'otp']).nullable(),
    outcome: z.enum(OUTCOMES).nullable(),
    orderRef: id,
    /** Decimal string, e.g. `1499.00`. */
    amount: z.string().regex(/^\d{1,12}(\.\d{1,2})?$/),
    /** ISO 4217. */
    currency: z.string().regex(/^[A-Z]{3}$/),
    merchantId: id,
    agentId: id.nullable(),
    /** How the customer's digits arrive (the latest seen); null before the first digit. */
    dtmfTransport: z.enum(DTMF_TRANSPORTS).nullable(),
    card: maskedCardSchema.nullable(),
    startedAt: isoTime,
    endedAt: isoTime.nullable(),
    failureReason: z.string().max(64).optional(),
    needsReconciliation: z.boolean().optional(),
    paymentId: id.optional(),
    /** The payment attempt's Idempotency-Key: what operations reconcile by. */
    idempotencyKey: z.string().max(255).optional(),
    /** The named payment provider that served the payment (config/provider-plan.ts); absent when none was called. */
    provider: z.string().regex(/^[a-z0-9][a-z0-9-]{0,31}$/).optional(),
    /** When the reconciliation worker settled a `needsReconciliation` session by the provider's status query. */
    reconciledAt: isoTime.optional(),
    /** The gateway instance running the capture (scale-out). */
    instanceId: id,
  })
  .strict();
export type SessionRecord = z.infer<typeof sessionRecordSchema>;

/** What an update may change: everything but the identity and the start. */
export type SessionPatch = Partial<Omit<SessionRecord, 'id' | 'instanceId' | 'startedAt'>>;

export interface SessionFilter {
  readonly orderRef?: string;
  readonly agentId?: string;
  /** Sessions run by this gateway instance (scale-out: what a survivor takes over). */
  readonly instanceId?: string;
  /** `live`: outcome null; `ended`: outcome set. */
  readonly status?: 'live' | 'ended';
  /** At most this many, newest first. */
  readonly limit?: number;
  /** Only sessions after this one in newest-first order (paging: startedAt, then id, descending). */
  readonly before?: { readonly startedAt: string; readonly id: string };
}

/** Newest first; sessions started in the same instant by id, descending (a stable order for paging). */
export function newestFirst(a: SessionRecord, b: SessionRecord): number {
  if (a.startedAt !== b.startedAt) return a.startedAt < b.startedAt ? 1 : -1;
  return a.id < b.id ? 1 : a.id > b.id ? -1 : 0;
}

/** True when `r` comes after the cursor in {@link newestFirst} order. */
export function isBefore(r: SessionRecord, c: { readonly startedAt: string; readonly id: string }): boolean {
  return r.startedAt < c.startedAt || (r.startedAt === c.startedAt && r.id < c.id);
}

/**
 * Where sessions live: memory by default, Redis for scale-out. Promise-returning so a
 * networked store fits. Every method validates against {@link sessionRecordSchema} and returns
 * copies: a caller can never mutate what the store holds.
 */
export interface SessionStore {
  /** Throws `SessionStoreError('exists' | 'invalid' | 'closed')`. */
  create(record: SessionRecord): Promise<void>;
  /** Applies the patch; returns the new record. Throws `SessionStoreError('not-found' | 'invalid' | 'closed')`. */
  update(id: string, patch: SessionPatch): Promise<SessionRecord>;
  get(id: string): Promise<SessionRecord | undefined>;
  /** Matching sessions, newest `startedAt` first. */
  list(filter?: SessionFilter): Promise<SessionRecord[]>;
  /** Idempotent; later calls reject with `SessionStoreError('closed')`. */
  close(): Promise<void>;
}

export type SessionStoreErrorCode = 'exists' | 'not-found' | 'invalid' | 'closed';

/** A store refusal. The message names the code and the offending keys, never values. */
export class SessionStoreError extends Error {
  constructor(
    readonly code: SessionStoreErrorCode,
    detail?: string,
  ) {
    super(`session store: ${code}${detail ? ` (${detail})` : ''}`);
    this.name = 'SessionStoreError';
  }
}

/** Parses a record, naming only the paths of what is wrong (zod messages can quote values). */
export function parseRecord(value: unknown): SessionRecord {
  const r = sessionRecordSchema.safeParse(value);
  if (r.success) return r.data;
  const paths = r.error.issues.slice(0, 5).map((i) => `${i.path.join('.') || '(root)'}:${i.code}`);
  throw new SessionStoreError('invalid', paths.join(', '));
}

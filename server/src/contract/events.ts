/**
 * The wire contract of the `/events` socket (server/src/capture/EVENTS.md): the capture's progress
 * events and the socket's other messages, exactly as JSON carries them. A leaf module: it imports
 * nothing, so the server (capture/, api/, store/) and the agent widget (agent-widget/src, the one
 * server module ESLint lets it import) share one definition instead of copies.
 *
 * Masked by construction: no event has a field that could hold a PAN, expiry, CVV or OTP digit.
 * The card is at most brand + first 6 + last 4, and those only once the PAN is complete and
 * Luhn-valid (PCI DSS v4.0 req. 3.4.1); digits are counted, never carried.
 */
export type CaptureField = 'pan' | 'expiry' | 'cvv' | 'otp';
export const CAPTURE_FIELDS: readonly CaptureField[] = ['pan', 'expiry', 'cvv', 'otp'];

/**
 * The prompt languages built in (ISO 639-1): English, Hindi, Tamil, with text, voices and number
 * words. Any other language is one given only as recorded clips (docs/operations.md, "A language
 * of recorded prompts"): a configured code, its files in the prompt directory.
 */
export const PROMPT_LANGUAGES = ['en', 'hi', 'ta'] as const;
export type BuiltinLanguage = (typeof PROMPT_LANGUAGES)[number];
/** A prompt language code (ISO 639-1 or 639-3: 2-3 lower-case letters); which ones a gateway speaks is configured. */
export type PromptLanguage = string;
export const LANGUAGE_CODE = /^[a-z]{2,3}$/;
export const isBuiltinLanguage = (l: string): l is BuiltinLanguage => (PROMPT_LANGUAGES as readonly string[]).includes(l);

/** How a capture ended (the session record's `outcome`). */
export const OUTCOMES = ['paid', 'declined', 'failed', 'abandoned', 'cancelled'] as const;
export type Outcome = (typeof OUTCOMES)[number];

/** Fields every event carries. */
export interface EventBase<T extends string> {
  readonly type: T;
  readonly sessionId: string;
  /**
   * The agent whose session it is (null: none, a supervisor's only). Every event carries it, so
   * the `/events` socket routes it without looking the session up.
   */
  readonly agentId: string | null;
  /** Per-session sequence number from 1, no gaps (assigned by the EventBus); resume from it. */
  readonly seq: number;
  /** ISO 8601 wall time the gateway published it. */
  readonly at: string;
}

/** A capture began (the customer hears the greeting). */
export interface SessionStartedEvent extends EventBase<'session.started'> {
  readonly orderRef: string;
  readonly amount: string;
  readonly currency: string;
  readonly merchantId: string;
  readonly language: PromptLanguage;
}

/** The customer is asked for a field (first time, after a failure, or on the agent's request). */
export interface FieldStartedEvent extends EventBase<'field.started'> {
  readonly field: CaptureField;
  /** 1 for the first try; +1 after each failure. */
  readonly attempt: number;
  /** Digits expected: exact for expiry/CVV/OTP, `{min: 13, max: 19}` for the PAN. */
  readonly length: { readonly min: number; readonly max: number };
  /** `repeat`: asked again without a failure (no resend left, or the SMS could not be sent). */
  readonly why: 'first' | 'after-failure' | 'agent-retry' | 'new-otp' | 'repeat';
}

/** A digit went into the field. `count` is how many the field holds now: never the digit. */
export interface DigitEnteredEvent extends EventBase<'digit.entered'> {
  readonly field: CaptureField;
  readonly count: number;
}

/** The field was emptied: `*` by the customer, or before a re-prompt. */
export interface FieldClearedEvent extends EventBase<'field.cleared'> {
  readonly field: CaptureField;
  readonly by: 'customer' | 'gateway';
}

/**
 * The card brand is known. Sent when the leading digits first identify it (`complete: false`,
 * brand only) and again when the PAN is complete and Luhn-valid (`complete: true`, with first6 and
 * last4). Luhn failures arrive as `field.failed` with reason `luhn`.
 */
export interface CardIdentifiedEvent extends EventBase<'card.identified'> {
  readonly brand: string;
  readonly complete: boolean;
  readonly first6?: string;
  readonly last4?: string;
}

/** The field was keyed and is valid (locally; the OTP is then checked with the provider). */
export interface FieldCompletedEvent extends EventBase<'field.completed'> {
  readonly field: CaptureField;
}

/** Why a field was refused. */
export type FieldFailureReason =
  | 'no-input'
  | 'incomplete'
  | 'bad-length'
  | 'luhn'
  | 'brand-not-allowed'
  /** A valid card refused by policy (too many payments with it: docs/security.md). */
  | 'card-refused'
  | 'bad-month'
  | 'expired'
  | 'too-far'
  | 'otp-invalid';

/** A field was refused; `attemptsLeft` 0 means the attempt ends. */
export interface FieldFailedEvent extends EventBase<'field.failed'> {
  readonly field: CaptureField;
  readonly reason: FieldFailureReason;
  readonly attemptsLeft: number;
}

/** The OTP SMS left through `route`. `mobile` is masked: `+91•••••0001`. */
export interface OtpSentEvent extends EventBase<'otp.sent'> {
  readonly mobile: string;
  readonly route: string;
  /** 0 for the first SMS, n for the n-th resend. */
  readonly resend: number;
  /** Routes that failed before this one took it. */
  readonly failedRoutes: readonly string[];
}

/** The gateway is talking to the provider; the customer waits. */
export interface PaymentProcessingEvent extends EventBase<'payment.processing'> {
  readonly stage: 'otp-validate' | 'payment' | 'confirm';
}

/** A provider call failed and what the gateway does about it (the capture's provider fallbacks). */
export interface ProviderIssueEvent extends EventBase<'provider.issue'> {
  readonly step: 'breaker' | 'otp-generate' | 'sms' | 'otp-validate' | 'payment' | 'confirm';
  /** ProviderError code (`timeout`, `server-error`, `breaker-open`, `all-routes-failed`, ...). */
  readonly code: string;
  readonly action: 'refused' | 'second-route' | 'offer-resend' | 'ended' | 'reconcile';
}

/** What the customer is hearing (prompt ids, no amounts or digits). */
export interface PromptPlayingEvent extends EventBase<'prompt.playing'> {
  readonly prompts: readonly string[];
}

/** The capture is over. The card data is already wiped. */
export interface SessionEndedEvent extends EventBase<'session.ended'> {
  readonly outcome: Outcome;
  /** Machine-readable: `approved`, the provider's decline reason, `too-many-attempts`, `customer-hung-up`, ... */
  readonly reason: string;
  readonly paymentId?: string;
  /** The provider may have charged the card and we could not find out: reconcile by `idempotencyKey` in the session record. */
  readonly needsReconciliation?: boolean;
  /** The named payment provider that served the payment (docs/operations.md, "Several payment providers"); absent when none was called. */
  readonly provider?: string;
}

/**
 * After the session ended with `needsReconciliation`, the reconciliation worker asked the
 * provider for the payment's status by Idempotency-Key and settled it (docs/operations.md,
 * "Reconciliation"): `approved` (confirmed, now `paid`), `declined`, or `not-found` (never
 * charged: stays `failed`). It may come minutes after `session.ended`, on any instance.
 */
export interface SessionReconciledEvent extends EventBase<'session.reconciled'> {
  /** The outcome now. */
  readonly outcome: Outcome;
  readonly previousOutcome: Outcome;
  readonly providerStatus: 'approved' | 'declined' | 'not-found';
  readonly reason: string;
  readonly paymentId?: string;
}

export type SessionEvent =
  | SessionStartedEvent
  | FieldStartedEvent
  | DigitEnteredEvent
  | FieldClearedEvent
  | CardIdentifiedEvent
  | FieldCompletedEvent
  | FieldFailedEvent
  | OtpSentEvent
  | PaymentProcessingEvent
  | ProviderIssueEvent
  | PromptPlayingEvent
  | SessionEndedEvent
  | SessionReconciledEvent;

export type SessionEventType = SessionEvent['type'];

export const SESSION_EVENT_TYPES: readonly SessionEventType[] = [
  'session.started', 'prompt.playing', 'field.started', 'digit.entered', 'field.cleared', 'card.identified',
  'field.completed', 'field.failed', 'otp.sent', 'payment.processing', 'provider.issue', 'session.ended',
  'session.reconciled',
];
const EVENT_TYPES: ReadonlySet<string> = new Set<string>(SESSION_EVENT_TYPES);

/** True for a capture event (has a known type, a session id and a positive integer seq). */
export function isSessionEvent(m: { type?: unknown; sessionId?: unknown; seq?: unknown }): m is SessionEvent {
  return typeof m.type === 'string' && EVENT_TYPES.has(m.type) && typeof m.sessionId === 'string' && Number.isInteger(m.seq) && (m.seq as number) > 0;
}

/** Commands from the agent's widget: ask the customer for a field again, or cancel the capture. */
export type AgentCommand = { readonly type: 'field.retry'; readonly field: CaptureField } | { readonly type: 'session.cancel' };

/** Resume entries (session id -> last seq seen) one `auth` message may carry. */
export const MAX_RESUME_ENTRIES = 200;

/** A session record as `ready.sessions` and `session.resync` carry it (README, "Session REST"). */
export interface WireSessionRecord {
  readonly id: string;
  readonly state: string;
  readonly field?: CaptureField | null;
  readonly outcome: Outcome | null;
  readonly orderRef: string;
  readonly amount: string;
  readonly currency: string;
  readonly merchantId?: string;
  readonly agentId: string | null;
  readonly dtmfTransport: string | null;
  readonly card: { readonly brand: string; readonly first6: string; readonly last4: string } | null;
  readonly startedAt: string;
  readonly endedAt: string | null;
  readonly failureReason?: string;
  readonly paymentId?: string;
  readonly needsReconciliation?: boolean;
  /** The named payment provider that served the payment. */
  readonly provider?: string;
}

/** Messages the server sends on `/events` besides the capture events. */
export type ServerMessage =
  | { readonly type: 'ready'; readonly principal: { readonly kind: 'supervisor' } | { readonly kind: 'agent'; readonly agentId: string }; readonly sessions: readonly WireSessionRecord[] }
  | { readonly type: 'session.resync'; readonly sessionId: string; readonly record: WireSessionRecord | null }
  | ({ readonly type: 'command.result'; readonly id: string } & ({ readonly ok: true } | { readonly ok: false; readonly error: 'forbidden' | 'not-found' | 'invalid' | 'refused'; readonly message: string }))
  | { readonly type: 'error'; readonly error: 'bad-json' | 'unknown-type' | 'invalid' | 'unauthorized'; readonly message: string }
  /** To a supervisor whose `auth` said `batch: true`: the events of one event-loop turn, in order. */
  | { readonly type: 'batch'; readonly events: readonly SessionEvent[] }
  | SessionEvent;

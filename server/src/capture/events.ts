import { z } from 'zod';
import type { Outcome } from '../store/index.js';

/**
 * The capture's progress events: what the agent's widget, the supervisor dashboard and the REFER
 * NOTIFYs are built from (issue 5 part 4). JSON, published on the store's EventBus, relayed by api/
 * over `/events`. Table and examples: ./EVENTS.md.
 *
 * Masked by construction: no event has a field that could hold a PAN, expiry, CVV or OTP digit.
 * The card is at most brand + first 6 + last 4, and those only once the PAN is complete and
 * Luhn-valid (PCI DSS v4.0 req. 3.4.1); digits are counted, never carried.
 */
export type CaptureField = 'pan' | 'expiry' | 'cvv' | 'otp';
export const CAPTURE_FIELDS: readonly CaptureField[] = ['pan', 'expiry', 'cvv', 'otp'];

/** Fields every event carries. */
export interface EventBase<T extends string> {
  readonly type: T;
  readonly sessionId: string;
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
  readonly agentId: string | null;
  readonly language: 'en' | 'hi';
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

/** A provider call failed and what the gateway does about it (issue 4 part 5 fallbacks). */
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
  | SessionEndedEvent;

export type SessionEventType = SessionEvent['type'];

/** An event as a session builds it: `sessionId` and `at` are added by the session, `seq` by the bus. */
export type SessionEventBody = SessionEvent extends infer E ? (E extends unknown ? Omit<E, 'sessionId' | 'seq' | 'at'> : never) : never;

/**
 * Commands from the agent's widget (validated by api/ with this schema before they reach a session):
 * ask the customer for a field again, or cancel the capture.
 */
export const agentCommandSchema = z.discriminatedUnion('type', [
  z.object({ type: z.literal('field.retry'), field: z.enum(['pan', 'expiry', 'cvv', 'otp']) }).strict(),
  z.object({ type: z.literal('session.cancel') }).strict(),
]);
export type AgentCommand = z.infer<typeof agentCommandSchema>;

/**
 * `+919800000001` -> `+91•••••0001` (issue 5 part 1): `+` and two digits, five bullets whatever
 * the number's length (so the mask does not tell it), the last four.
 */
export function maskMobileForDisplay(e164: string): string {
  if (e164.length < 8) return '•••••';
  return `${e164.slice(0, 3)}•••••${e164.slice(-4)}`;
}

/**
 * The wire contract of `/events` as the widget reads it: capture progress events
 * (server/src/capture/EVENTS.md) and the socket's envelope messages. Mirrored here on purpose: the
 * browser bundle must not pull in server code, and the widget only reads these shapes.
 */
export type CaptureField = 'pan' | 'expiry' | 'cvv' | 'otp';
export const CAPTURE_FIELDS: readonly CaptureField[] = ['pan', 'expiry', 'cvv', 'otp'];

export type Outcome = 'paid' | 'declined' | 'failed' | 'abandoned' | 'cancelled';

interface Base<T extends string> {
  readonly type: T;
  readonly sessionId: string;
  readonly seq: number;
  readonly at: string;
}

export type CaptureEvent =
  | (Base<'session.started'> & {
      readonly orderRef: string;
      readonly amount: string;
      readonly currency: string;
      readonly merchantId: string;
      readonly agentId: string | null;
      readonly language: string;
    })
  | (Base<'prompt.playing'> & { readonly prompts: readonly string[] })
  | (Base<'field.started'> & {
      readonly field: CaptureField;
      readonly attempt: number;
      readonly length: { readonly min: number; readonly max: number };
      readonly why: string;
    })
  | (Base<'digit.entered'> & { readonly field: CaptureField; readonly count: number })
  | (Base<'field.cleared'> & { readonly field: CaptureField; readonly by: 'customer' | 'gateway' })
  | (Base<'card.identified'> & { readonly brand: string; readonly complete: boolean; readonly first6?: string; readonly last4?: string })
  | (Base<'field.completed'> & { readonly field: CaptureField })
  | (Base<'field.failed'> & { readonly field: CaptureField; readonly reason: string; readonly attemptsLeft: number })
  | (Base<'otp.sent'> & { readonly mobile: string; readonly route: string; readonly resend: number; readonly failedRoutes: readonly string[] })
  | (Base<'payment.processing'> & { readonly stage: 'otp-validate' | 'payment' | 'confirm' })
  | (Base<'provider.issue'> & { readonly step: string; readonly code: string; readonly action: string })
  | (Base<'session.ended'> & { readonly outcome: Outcome; readonly reason: string; readonly paymentId?: string; readonly needsReconciliation?: boolean })
  /** After the outcome: the reconciliation worker settled a payment whose fate was unknown. */
  | (Base<'session.reconciled'> & { readonly outcome: Outcome; readonly previousOutcome: Outcome; readonly providerStatus: string; readonly reason: string; readonly paymentId?: string });

export type CaptureEventType = CaptureEvent['type'];

/** A session record as `ready.sessions` and `session.resync` carry it (docs/architecture.md "Session REST"). */
export interface SessionRecord {
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
}

export type AgentCommand = { readonly type: 'field.retry'; readonly field: CaptureField } | { readonly type: 'session.cancel' };

/** Messages the server sends on `/events`. */
export type ServerMessage =
  | { readonly type: 'ready'; readonly principal: { readonly kind: string; readonly agentId?: string }; readonly sessions: readonly SessionRecord[] }
  | { readonly type: 'session.resync'; readonly sessionId: string; readonly record: SessionRecord }
  | { readonly type: 'command.result'; readonly id: string; readonly ok: boolean; readonly error?: string; readonly message?: string }
  | { readonly type: 'error'; readonly error: string; readonly message: string }
  | CaptureEvent;

const EVENT_TYPES: ReadonlySet<string> = new Set<CaptureEventType>([
  'session.started', 'prompt.playing', 'field.started', 'digit.entered', 'field.cleared', 'card.identified',
  'field.completed', 'field.failed', 'otp.sent', 'payment.processing', 'provider.issue', 'session.ended', 'session.reconciled',
]);

/** True for a capture event (has a known type, a session id and a positive integer seq). */
export function isCaptureEvent(m: { type?: unknown; sessionId?: unknown; seq?: unknown }): m is CaptureEvent {
  return typeof m.type === 'string' && EVENT_TYPES.has(m.type) && typeof m.sessionId === 'string' && Number.isInteger(m.seq) && (m.seq as number) > 0;
}

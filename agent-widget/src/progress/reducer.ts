import { CAPTURE_FIELDS, type CaptureEvent, type CaptureField, type Outcome, type SessionRecord } from './types.js';
import { announce } from './announce.js';

/**
 * The payment panel's view state, built from capture events by a pure reducer (no DOM, no time):
 *
 *   idle --refer.sent--> waiting --session.started--> capturing --payment.processing--> processing
 *     ^                     |                            |  ^                               |
 *     |                refer.failed                      |  +------- field.started ---------+
 *     +------ reset ---- failed                          +-- session.ended --> ended <------+
 *
 * Events of another session, or with a seq already applied, leave the state as it is (a resumed
 * socket replays from the last seq; duplicates are harmless). `session.resync` replaces the state
 * with what the session record says.
 */
export type Phase = 'idle' | 'waiting' | 'capturing' | 'processing' | 'ended' | 'failed';
export type FieldStatus = 'pending' | 'active' | 'done' | 'failed';

export interface FieldView {
  readonly status: FieldStatus;
  /** Digits keyed so far: one dot each. */
  readonly count: number;
  /** Digits expected (null until the field is first asked for). */
  readonly length: { readonly min: number; readonly max: number } | null;
  readonly attempt: number;
  /** Why it was last refused (`luhn`, `expired`, ...), cleared when it is asked again. */
  readonly failure: string | null;
  readonly attemptsLeft: number | null;
}

export interface PaymentView {
  readonly phase: Phase;
  readonly sessionId: string | null;
  readonly orderRef: string | null;
  readonly amount: string | null;
  readonly currency: string | null;
  readonly field: CaptureField | null;
  readonly fields: Readonly<Record<CaptureField, FieldView>>;
  readonly brand: string | null;
  readonly first6: string | null;
  readonly last4: string | null;
  /** `valid`: the PAN is complete and Luhn-valid; `invalid`: the last PAN failed the Luhn check. */
  readonly luhn: 'unknown' | 'valid' | 'invalid';
  /** Masked mobile the OTP went to (`+91•••••0001`). */
  readonly otpSentTo: string | null;
  readonly otpResends: number;
  readonly stage: 'otp-validate' | 'payment' | 'confirm' | null;
  readonly providerIssue: { readonly step: string; readonly code: string; readonly action: string } | null;
  /** The agent is muted while the customer keys card details. */
  readonly muted: boolean;
  readonly outcome: { readonly outcome: Outcome; readonly reason: string; readonly paymentId: string | null; readonly needsReconciliation: boolean } | null;
  /** Why the handoff never started (REFER refused: the Warning text, or the status line). */
  readonly error: string | null;
  readonly lastSeq: number;
  /** Sentence for the ARIA live region about the latest change ('' when nothing worth saying). */
  readonly announcement: string;
}

export type PaymentAction =
  | { readonly kind: 'refer.sent'; readonly orderRef: string; readonly amount: string; readonly currency: string }
  | { readonly kind: 'refer.failed'; readonly error: string }
  | { readonly kind: 'event'; readonly event: CaptureEvent }
  | { readonly kind: 'resync'; readonly record: SessionRecord }
  | { readonly kind: 'reset' };

const blankField: FieldView = { status: 'pending', count: 0, length: null, attempt: 0, failure: null, attemptsLeft: null };
const blankFields = (): Record<CaptureField, FieldView> => ({ pan: blankField, expiry: blankField, cvv: blankField, otp: blankField });

export const initialView: PaymentView = {
  phase: 'idle', sessionId: null, orderRef: null, amount: null, currency: null, field: null, fields: blankFields(),
  brand: null, first6: null, last4: null, luhn: 'unknown', otpSentTo: null, otpResends: 0, stage: null,
  providerIssue: null, muted: false, outcome: null, error: null, lastSeq: 0, announcement: '',
};

function withField(v: PaymentView, f: CaptureField, patch: Partial<FieldView>): PaymentView {
  return { ...v, fields: { ...v.fields, [f]: { ...v.fields[f], ...patch } } };
}

/** True when `e` belongs to the payment this view follows. */
function mine(v: PaymentView, e: CaptureEvent): boolean {
  if (v.sessionId !== null) return e.sessionId === v.sessionId;
  // Not linked yet: the session.started of the order we handed off links it; when idle, any
  // session started for this agent does (transfer mode: a PBX sent the call with X-Pay-Agent-Id).
  return e.type === 'session.started' && ((v.phase === 'waiting' && e.orderRef === v.orderRef) || v.phase === 'idle');
}

function applyEvent(v: PaymentView, e: CaptureEvent): PaymentView {
  switch (e.type) {
    case 'session.started':
      return { ...v, phase: 'capturing', sessionId: e.sessionId, orderRef: e.orderRef, amount: e.amount, currency: e.currency, muted: true, error: null };
    case 'prompt.playing':
      return v;
    case 'field.started': {
      // Earlier fields that are not done yet stay as they were; the new one is active.
      const next = withField(v, e.field, { status: 'active', count: 0, length: e.length, attempt: e.attempt, failure: null });
      return { ...next, phase: 'capturing', field: e.field, stage: null, luhn: e.field === 'pan' ? 'unknown' : v.luhn };
    }
    case 'digit.entered':
      return withField(v, e.field, { count: e.count });
    case 'field.cleared':
      return withField(v, e.field, { count: 0 });
    case 'card.identified':
      return e.complete
        ? { ...v, brand: e.brand, first6: e.first6 ?? null, last4: e.last4 ?? null, luhn: 'valid' }
        : { ...v, brand: e.brand };
    case 'field.completed':
      return withField(v, e.field, { status: 'done', failure: null });
    case 'field.failed': {
      const next = withField(v, e.field, { status: 'failed', failure: e.reason, attemptsLeft: e.attemptsLeft });
      // A refused PAN never shows first6/last4 (they only come with a Luhn-valid PAN).
      return e.field === 'pan'
        ? { ...next, luhn: e.reason === 'luhn' ? 'invalid' : v.luhn, first6: null, last4: null }
        : next;
    }
    case 'otp.sent':
      return { ...v, otpSentTo: e.mobile, otpResends: e.resend };
    case 'payment.processing':
      return { ...v, phase: 'processing', stage: e.stage, field: null };
    case 'provider.issue':
      return { ...v, providerIssue: { step: e.step, code: e.code, action: e.action } };
    case 'session.ended':
      return {
        ...v,
        phase: 'ended',
        field: null,
        stage: null,
        muted: false,
        outcome: { outcome: e.outcome, reason: e.reason, paymentId: e.paymentId ?? null, needsReconciliation: e.needsReconciliation === true },
      };
    case 'session.reconciled':
      // The unknown outcome is now known (server/src/capture/EVENTS.md): show the settled one.
      return { ...v, phase: 'ended', outcome: { outcome: e.outcome, reason: e.reason, paymentId: e.paymentId ?? v.outcome?.paymentId ?? null, needsReconciliation: false } };
  }
}

/** The view a session record implies (after `session.resync`, or on `ready` for a live session). */
export function viewFromRecord(r: SessionRecord, lastSeq: number): PaymentView {
  const ended = r.outcome !== null;
  const current = r.field ?? null;
  const fields = blankFields();
  if (current) {
    // Fields before the current one are done; the current one is being keyed (count unknown: 0).
    for (const f of CAPTURE_FIELDS) {
      if (f === current) break;
      fields[f] = { ...blankField, status: 'done' };
    }
    fields[current] = { ...blankField, status: 'active' };
  }
  return {
    ...initialView,
    phase: ended ? 'ended' : r.state === 'processing' || r.state === 'paying' ? 'processing' : 'capturing',
    sessionId: r.id,
    orderRef: r.orderRef,
    amount: r.amount,
    currency: r.currency,
    field: ended ? null : current,
    fields,
    brand: r.card?.brand ?? null,
    first6: r.card?.first6 ?? null,
    last4: r.card?.last4 ?? null,
    luhn: r.card ? 'valid' : 'unknown',
    muted: !ended,
    outcome: r.outcome
      ? { outcome: r.outcome, reason: r.failureReason ?? (r.outcome === 'paid' ? 'approved' : r.outcome), paymentId: r.paymentId ?? null, needsReconciliation: r.needsReconciliation === true }
      : null,
    lastSeq,
  };
}

export function reduce(v: PaymentView, a: PaymentAction): PaymentView {
  switch (a.kind) {
    case 'reset':
      return initialView;
    case 'refer.sent':
      return { ...initialView, phase: 'waiting', orderRef: a.orderRef, amount: a.amount, currency: a.currency, announcement: 'Handing the call to secure payment.' };
    case 'refer.failed':
      if (v.phase !== 'waiting') return v;
      return { ...v, phase: 'failed', error: a.error, muted: false, announcement: `Payment could not start: ${a.error}` };
    case 'resync': {
      if (v.sessionId !== null ? a.record.id !== v.sessionId : a.record.orderRef !== v.orderRef) return v;
      const next = viewFromRecord(a.record, v.lastSeq);
      return { ...next, announcement: next.outcome ? announce.outcome(next.outcome) : '' };
    }
    case 'event': {
      const e = a.event;
      if (!mine(v, e) || (v.sessionId === e.sessionId && e.seq <= v.lastSeq)) return v;
      const next = applyEvent(v, e);
      return { ...next, lastSeq: e.seq, announcement: announce.event(e, next) };
    }
  }
}

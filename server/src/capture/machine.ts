import { InvalidStateError } from '../lib/errors.js';
import type { OtpMode } from '../providers/otp-mode.js';
import type { Outcome } from '../store/index.js';
import type { CaptureField } from './events.js';
import type { PromptId } from './prompts.js';

/**
 * The payment capture state machine (design.md practice 3): string-enum states and a PURE
 * transition function over flow events. Digit-level work (keys, `*`, timers, validation) happens in
 * the field steps (./steps/), which report `field.done` / `field.exhausted` here; provider calls
 * report their results as events. The runtime (./session.ts) performs the actions.
 *
 * ```
 *  Idle ─start─► Greeting ─greeting.done─► Pan ─field.done─► Expiry ─field.done─► Cvv
 *   │ refuse      (prompt ends, or the       ▲                  │  ▲                 │  │
 *   │              first digit typed)        └── retry(pan) ────┘  └─ retry(pan|exp) ┘  │ field.done
 *   │                                                                                   ▼
 *   │                         otp.resend (# in OtpEntry) ──────────────────────────► OtpRequest
 *   │                         otp.expired (in OtpValidate) ────────────────────────►    │ otp.issued
 *   │                                                                                   ▼
 *   │                                                                                OtpSms
 *   │                                          sms.sent, or sms.failed (offer # resend) │
 *   │                                                                                   ▼
 *   │                                                    retry(otp), otp.invalid ──► OtpEntry
 *   │                                                                                   │ field.done
 *   │                                                                                   ▼
 *   │                                                                              OtpValidate
 *   │                                                                                   │ otp.valid
 *   ▼                                                                                   ▼
 *  Done ◄─outcome.done / hangup─ Outcome ◄─confirm.ok / confirm.failed─ Confirming ◄─ Paying
 *                                                                     payment.approved
 *
 *
 *  Issuer OTP mode (the bank sends the OTP; providers/otp-mode.ts), and mode `none`:
 *
 *  Cvv ─field.done─► IssuerAuth ─auth.otp-sent─► OtpEntry ─field.done─► OtpSubmit ─payment.approved─► Confirming
 *                     ▲  │ auth.unavailable,        │ otp.resend           │ otp.invalid ─► OtpEntry
 *                     │  ▼ payment.declined         │ (resends left)       │ otp.expired ─► IssuerAuth (resend)
 *                     │  Outcome                    │                      ▼ payment.declined/failed
 *                     └─────────────────────────────┘                     Outcome
 *  Cvv ─field.done (mode none)─► Paying
 *
 *  Idle ─refuse (announce: transfer mode)─► Outcome (payments.unavailable) ─outcome.done─► Done
 *
 *  Every live state from Greeting to OtpValidate: hangup -> Done (abandoned); cancel,
 *  session.timeout, field.exhausted, a provider failure -> Outcome (its prompt), or Done when the
 *  customer is gone. Paying and Confirming let money finish moving: hangup is noted, cancel is
 *  refused, session.timeout waits for the provider's own timeouts; declined/failed -> Outcome.
 * ```
 */
export enum CaptureState {
  Idle = 'idle',
  Greeting = 'greeting',
  Pan = 'pan',
  Expiry = 'expiry',
  Cvv = 'cvv',
  OtpRequest = 'otp-request',
  OtpSms = 'otp-sms',
  OtpEntry = 'otp-entry',
  OtpValidate = 'otp-validate',
  Paying = 'paying',
  Confirming = 'confirming',
  /** Issuer mode: the payment request starts authentication; the bank sends the OTP. */
  IssuerAuth = 'issuer-auth',
  /** Issuer mode: the keyed OTP is with the provider, and the charge with it (like Paying). */
  OtpSubmit = 'otp-submit',
  Outcome = 'outcome',
  Done = 'done',
}

/**
 * Why the customer is gone: hung up, or the gateway ended the call because its media stopped
 * (MEDIA_TIMEOUT_S) or its RFC 4028 session expired (docs/architecture.md, "Timers that end stuck
 * calls"). It becomes the `abandoned` session's reason.
 */
export type HangupCause = 'customer-hung-up' | 'media-timeout' | 'session-expired';

export type CaptureEvent =
  | { readonly type: 'start' }
  /** `announce`: the customer is told (`payments.unavailable`) before the call goes on or ends. */
  | { readonly type: 'refuse'; readonly reason: string; readonly announce?: boolean }
  | { readonly type: 'greeting.done' }
  | { readonly type: 'field.done' }
  | { readonly type: 'field.exhausted' }
  | { readonly type: 'otp.issued' }
  | { readonly type: 'otp.unavailable' }
  | { readonly type: 'sms.sent' }
  /** `final`: no resend can help (DLT refusal, or no resends left). */
  | { readonly type: 'sms.failed'; readonly final: boolean }
  | { readonly type: 'otp.resend' }
  | { readonly type: 'otp.valid' }
  | { readonly type: 'otp.invalid'; readonly final: boolean }
  | { readonly type: 'otp.expired' }
  | { readonly type: 'otp.check-unavailable' }
  | { readonly type: 'auth.otp-sent' }
  | { readonly type: 'auth.unavailable' }
  | { readonly type: 'payment.approved'; readonly paymentId: string }
  | { readonly type: 'payment.declined'; readonly reason: string; readonly paymentId?: string }
  | { readonly type: 'payment.failed'; readonly reason: string; readonly needsReconciliation: boolean }
  | { readonly type: 'confirm.ok' }
  | { readonly type: 'confirm.failed' }
  | { readonly type: 'outcome.done' }
  | { readonly type: 'hangup'; readonly cause?: HangupCause }
  | { readonly type: 'cancel' }
  | { readonly type: 'retry'; readonly field: CaptureField }
  | { readonly type: 'session.timeout' };

export type CaptureEventType = CaptureEvent['type'];

/** Guards' inputs: facts the runtime keeps. */
export interface MachineContext {
  /** The customer hung up while money was moving (Paying/Confirming). */
  readonly hungUp: boolean;
  /** OTP resends still allowed. */
  readonly resendsLeft: number;
  /** OTP SMS sends so far, this one included. */
  readonly otpSends: number;
  /** Set once the payment is approved. */
  readonly paymentId?: string | undefined;
  /** The merchant's OTP mode; absent: `gateway-sms`. */
  readonly otpMode?: OtpMode;
}

export type FieldWhy = 'first' | 'after-failure' | 'agent-retry' | 'new-otp' | 'repeat';

export type CaptureAction =
  | { readonly do: 'play-greeting' }
  | { readonly do: 'enter-field'; readonly field: CaptureField; readonly why: FieldWhy; readonly lead?: PromptId }
  | { readonly do: 'clear-fields'; readonly fields: readonly CaptureField[] }
  | { readonly do: 'request-otp'; readonly lead?: PromptId }
  | { readonly do: 'send-sms' }
  | { readonly do: 'validate-otp' }
  /** Issuer mode: start the payment's authentication (`resend`: ask the bank for a new OTP). */
  | { readonly do: 'issuer-otp'; readonly resend: boolean; readonly lead?: PromptId }
  | { readonly do: 'submit-otp' }
  | { readonly do: 'pay' }
  | { readonly do: 'confirm' }
  | { readonly do: 'mark-hung-up' }
  | {
      readonly do: 'finish';
      readonly outcome: Outcome;
      readonly reason: string;
      /** The outcome prompt, null when nobody is there to hear it. */
      readonly prompt: PromptId | null;
      readonly paymentId?: string;
      readonly needsReconciliation?: boolean;
    }
  | { readonly do: 'end-call' };

export interface Transition {
  readonly state: CaptureState;
  readonly actions: readonly CaptureAction[];
}

type Handler = (e: CaptureEvent, ctx: MachineContext) => Transition;
type Row = Partial<Record<CaptureEventType, Handler>>;

const S = CaptureState;
const t = (state: CaptureState, ...actions: CaptureAction[]): Transition => ({ state, actions });
const CARD_ORDER: readonly CaptureField[] = ['pan', 'expiry', 'cvv'];
const FIELD_STATE: Record<CaptureField, CaptureState> = { pan: S.Pan, expiry: S.Expiry, cvv: S.Cvv, otp: S.OtpEntry };

/** To the outcome prompt, or straight to Done when the customer is gone. */
function end(ctx: MachineContext, outcome: Outcome, reason: string, prompt: PromptId, extra: { paymentId?: string; needsReconciliation?: boolean } = {}): Transition {
  const finish = { do: 'finish' as const, outcome, reason, ...extra };
  return ctx.hungUp ? t(S.Done, { ...finish, prompt: null }, { do: 'end-call' }) : t(S.Outcome, { ...finish, prompt });
}

const abandon: Handler = (e) =>
  t(S.Done, { do: 'finish', outcome: 'abandoned', reason: (e.type === 'hangup' && e.cause) || 'customer-hung-up', prompt: null }, { do: 'end-call' });
const cancel: Handler = (_e, ctx) => end(ctx, 'cancelled', 'agent-cancelled', 'outcome.cancelled');
const timeout: Handler = (_e, ctx) => end(ctx, 'failed', 'session-timeout', 'outcome.timeout');
const exhausted: Handler = (_e, ctx) => end(ctx, 'failed', 'too-many-attempts', 'outcome.too-many');

/** Live rows share hangup, cancel and the whole-session timeout. */
const live = (row: Row): Row => ({ hangup: abandon, cancel, 'session.timeout': timeout, ...row });

/** The agent asks for a card field again: back to it, clearing it and every later card field. */
function cardRetry(current: CaptureField): Handler {
  return (e) => {
    const f = (e as Extract<CaptureEvent, { type: 'retry' }>).field;
    const to = CARD_ORDER.indexOf(f);
    const at = CARD_ORDER.indexOf(current);
    if (to < 0 || to > at) throw new InvalidStateError('capture', FIELD_STATE[current], `retry:${f}`);
    return t(FIELD_STATE[f], { do: 'clear-fields', fields: CARD_ORDER.slice(to, at + 1) }, { do: 'enter-field', field: f, why: 'agent-retry', lead: 'agent.retry' });
  };
}

const declined: Handler = (e, ctx) => {
  const d = e as Extract<CaptureEvent, { type: 'payment.declined' }>;
  return end(ctx, 'declined', d.reason, 'outcome.declined', d.paymentId !== undefined ? { paymentId: d.paymentId } : {});
};
const failed: Handler = (e, ctx) => {
  const f = e as Extract<CaptureEvent, { type: 'payment.failed' }>;
  return end(ctx, 'failed', f.reason, f.needsReconciliation ? 'outcome.unknown' : 'outcome.failed', f.needsReconciliation ? { needsReconciliation: true } : {});
};

const cardRow = (field: CaptureField, next: Transition): Row =>
  live({ 'field.done': () => next, 'field.exhausted': exhausted, retry: cardRetry(field) });

export const CAPTURE_TABLE: Readonly<Record<CaptureState, Row>> = {
  [S.Idle]: {
    start: () => t(S.Greeting, { do: 'play-greeting' }),
    refuse: (e) => {
      const r = e as Extract<CaptureEvent, { type: 'refuse' }>;
      const finish = { do: 'finish' as const, outcome: 'failed' as const, reason: r.reason };
      return r.announce ? t(S.Outcome, { ...finish, prompt: 'payments.unavailable' }) : t(S.Done, { ...finish, prompt: null }, { do: 'end-call' });
    },
    hangup: abandon,
  },
  [S.Greeting]: live({ 'greeting.done': () => t(S.Pan, { do: 'enter-field', field: 'pan', why: 'first' }) }),
  [S.Pan]: cardRow('pan', t(S.Expiry, { do: 'enter-field', field: 'expiry', why: 'first' })),
  [S.Expiry]: cardRow('expiry', t(S.Cvv, { do: 'enter-field', field: 'cvv', why: 'first' })),
  [S.Cvv]: live({
    'field.done': (_e, ctx) =>
      ctx.otpMode === 'issuer'
        ? t(S.IssuerAuth, { do: 'issuer-otp', resend: false })
        : ctx.otpMode === 'none'
          ? t(S.Paying, { do: 'pay' })
          : t(S.OtpRequest, { do: 'request-otp' }),
    'field.exhausted': exhausted,
    retry: cardRetry('cvv'),
  }),
  [S.IssuerAuth]: live({
    'auth.otp-sent': (_e, ctx) => t(S.OtpEntry, { do: 'enter-field', field: 'otp', why: ctx.otpSends > 1 ? 'new-otp' : 'first' }),
    'auth.unavailable': (_e, ctx) => end(ctx, 'failed', 'otp-unavailable', 'otp.unavailable'),
    // Refused at authentication (the card, not the OTP): nothing was charged.
    'payment.declined': (e, ctx) => declined(e, ctx),
  }),
  [S.OtpSubmit]: {
    'payment.approved': () => t(S.Confirming, { do: 'confirm' }),
    'payment.declined': (e, ctx) => declined(e, ctx),
    'payment.failed': (e, ctx) => failed(e, ctx),
    'otp.invalid': (e, ctx) =>
      (e as { final: boolean }).final
        ? end(ctx, 'failed', 'otp-attempts-exhausted', 'outcome.too-many')
        : ctx.hungUp
          ? abandon(e, ctx)
          : t(S.OtpEntry, { do: 'clear-fields', fields: ['otp'] }, { do: 'enter-field', field: 'otp', why: 'after-failure', lead: 'invalid.otp' }),
    'otp.expired': (_e, ctx) =>
      ctx.resendsLeft > 0 && !ctx.hungUp
        ? t(S.IssuerAuth, { do: 'clear-fields', fields: ['otp'] }, { do: 'issuer-otp', resend: true, lead: 'otp.expired' })
        : end(ctx, 'failed', 'otp-expired', 'outcome.failed'),
    hangup: () => t(S.OtpSubmit, { do: 'mark-hung-up' }),
    'session.timeout': () => t(S.OtpSubmit),
  },
  [S.OtpRequest]: live({
    'otp.issued': () => t(S.OtpSms, { do: 'send-sms' }),
    'otp.unavailable': (_e, ctx) => end(ctx, 'failed', 'otp-unavailable', 'otp.unavailable'),
  }),
  [S.OtpSms]: live({
    'sms.sent': (_e, ctx) => t(S.OtpEntry, { do: 'enter-field', field: 'otp', why: ctx.otpSends > 1 ? 'new-otp' : 'first' }),
    'sms.failed': (e, ctx) =>
      (e as { final: boolean }).final
        ? end(ctx, 'failed', 'sms-failed', 'outcome.failed')
        : t(S.OtpEntry, { do: 'enter-field', field: 'otp', why: 'repeat', lead: 'otp.sms-failed' }),
  }),
  [S.OtpEntry]: live({
    'field.done': (_e, ctx) => (ctx.otpMode === 'issuer' ? t(S.OtpSubmit, { do: 'submit-otp' }) : t(S.OtpValidate, { do: 'validate-otp' })),
    'field.exhausted': exhausted,
    'otp.resend': (_e, ctx) =>
      ctx.resendsLeft > 0
        ? ctx.otpMode === 'issuer'
          ? t(S.IssuerAuth, { do: 'clear-fields', fields: ['otp'] }, { do: 'issuer-otp', resend: true, lead: 'otp.resent' })
          : t(S.OtpRequest, { do: 'clear-fields', fields: ['otp'] }, { do: 'request-otp', lead: 'otp.resent' })
        : t(S.OtpEntry, { do: 'clear-fields', fields: ['otp'] }, { do: 'enter-field', field: 'otp', why: 'repeat', lead: 'otp.no-more-resends' }),
    retry: (e) => {
      if ((e as { field: CaptureField }).field !== 'otp') throw new InvalidStateError('capture', S.OtpEntry, `retry:${(e as { field: string }).field}`);
      return t(S.OtpEntry, { do: 'clear-fields', fields: ['otp'] }, { do: 'enter-field', field: 'otp', why: 'agent-retry', lead: 'agent.retry' });
    },
  }),
  [S.OtpValidate]: live({
    'otp.valid': () => t(S.Paying, { do: 'pay' }),
    'otp.invalid': (e, ctx) =>
      (e as { final: boolean }).final
        ? end(ctx, 'failed', 'otp-attempts-exhausted', 'outcome.too-many')
        : t(S.OtpEntry, { do: 'clear-fields', fields: ['otp'] }, { do: 'enter-field', field: 'otp', why: 'after-failure', lead: 'invalid.otp' }),
    'otp.expired': (_e, ctx) =>
      ctx.resendsLeft > 0
        ? t(S.OtpRequest, { do: 'clear-fields', fields: ['otp'] }, { do: 'request-otp', lead: 'otp.expired' })
        : end(ctx, 'failed', 'otp-expired', 'outcome.failed'),
    'otp.check-unavailable': (_e, ctx) => end(ctx, 'failed', 'otp-validation-unavailable', 'outcome.failed'),
  }),
  [S.Paying]: {
    'payment.approved': () => t(S.Confirming, { do: 'confirm' }),
    'payment.declined': (e, ctx) => declined(e, ctx),
    'payment.failed': (e, ctx) => failed(e, ctx),
    hangup: () => t(S.Paying, { do: 'mark-hung-up' }),
    'session.timeout': () => t(S.Paying),
  },
  [S.Confirming]: {
    'confirm.ok': (_e, ctx) => end(ctx, 'paid', 'approved', 'outcome.paid', ctx.paymentId !== undefined ? { paymentId: ctx.paymentId } : {}),
    // Approved but not confirmed (captured): money may be held. Fail and let operations reconcile.
    'confirm.failed': (_e, ctx) =>
      end(ctx, 'failed', 'confirm-failed', 'outcome.unknown', { ...(ctx.paymentId !== undefined ? { paymentId: ctx.paymentId } : {}), needsReconciliation: true }),
    hangup: () => t(S.Confirming, { do: 'mark-hung-up' }),
    'session.timeout': () => t(S.Confirming),
  },
  [S.Outcome]: {
    'outcome.done': () => t(S.Done, { do: 'end-call' }),
    hangup: () => t(S.Done, { do: 'end-call' }),
    'session.timeout': () => t(S.Done, { do: 'end-call' }),
  },
  [S.Done]: {},
};

/** The pure transition function. Throws InvalidStateError on a move the table does not allow. */
export function nextCapture(state: CaptureState, event: CaptureEvent, ctx: MachineContext): Transition {
  const h = CAPTURE_TABLE[state][event.type];
  if (!h) throw new InvalidStateError('capture', state, event.type);
  return h(event, ctx);
}

/** States in which the customer keys a field. */
export const FIELD_OF_STATE: Partial<Record<CaptureState, CaptureField>> = { [S.Pan]: 'pan', [S.Expiry]: 'expiry', [S.Cvv]: 'cvv', [S.OtpEntry]: 'otp' };

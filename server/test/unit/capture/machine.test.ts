import { describe, expect, it } from 'vitest';
import {
  CAPTURE_TABLE,
  CaptureState as S,
  nextCapture,
  type CaptureAction,
  type CaptureEvent,
  type MachineContext,
} from '../../../src/capture/index.js';
import { InvalidStateError } from '../../../src/lib/errors.js';

const ctx: MachineContext = { hungUp: false, resendsLeft: 2, otpSends: 1 };
const gone: MachineContext = { ...ctx, hungUp: true };
const noResends: MachineContext = { ...ctx, resendsLeft: 0 };
const issuer: MachineContext = { ...ctx, otpMode: 'issuer' };
const issuerGone: MachineContext = { ...issuer, hungUp: true };
const issuerNoResends: MachineContext = { ...issuer, resendsLeft: 0 };
const noOtp: MachineContext = { ...ctx, otpMode: 'none' };

const finish = (outcome: string, reason: string, prompt: string | null, extra = {}): CaptureAction =>
  ({ do: 'finish', outcome, reason, prompt, ...extra }) as CaptureAction;
const abandoned = [finish('abandoned', 'customer-hung-up', null), { do: 'end-call' }];
const enter = (field: string, why: string, lead?: string): CaptureAction => ({ do: 'enter-field', field, why, ...(lead ? { lead } : {}) }) as CaptureAction;

type Move = [S, CaptureEvent, MachineContext, S, CaptureAction[]];
const moves: Move[] = [
  [S.Idle, { type: 'start' }, ctx, S.Greeting, [{ do: 'play-greeting' }]],
  [S.Idle, { type: 'refuse', reason: 'provider-unavailable' }, ctx, S.Done, [finish('failed', 'provider-unavailable', null), { do: 'end-call' }]],
  [S.Idle, { type: 'refuse', reason: 'provider-unavailable', announce: false }, ctx, S.Done, [finish('failed', 'provider-unavailable', null), { do: 'end-call' }]],
  [S.Idle, { type: 'refuse', reason: 'provider-unavailable', announce: true }, ctx, S.Outcome, [finish('failed', 'provider-unavailable', 'payments.unavailable')]],
  [S.Greeting, { type: 'greeting.done' }, ctx, S.Pan, [enter('pan', 'first')]],
  [S.Pan, { type: 'field.done' }, ctx, S.Expiry, [enter('expiry', 'first')]],
  [S.Expiry, { type: 'field.done' }, ctx, S.Cvv, [enter('cvv', 'first')]],
  [S.Cvv, { type: 'field.done' }, ctx, S.OtpRequest, [{ do: 'request-otp' }]],
  [S.Pan, { type: 'field.exhausted' }, ctx, S.Outcome, [finish('failed', 'too-many-attempts', 'outcome.too-many')]],
  [S.Cvv, { type: 'retry', field: 'pan' }, ctx, S.Pan, [{ do: 'clear-fields', fields: ['pan', 'expiry', 'cvv'] }, enter('pan', 'agent-retry', 'agent.retry')]],
  [S.Cvv, { type: 'retry', field: 'expiry' }, ctx, S.Expiry, [{ do: 'clear-fields', fields: ['expiry', 'cvv'] }, enter('expiry', 'agent-retry', 'agent.retry')]],
  [S.Pan, { type: 'retry', field: 'pan' }, ctx, S.Pan, [{ do: 'clear-fields', fields: ['pan'] }, enter('pan', 'agent-retry', 'agent.retry')]],
  [S.OtpRequest, { type: 'otp.issued' }, ctx, S.OtpSms, [{ do: 'send-sms' }]],
  [S.OtpRequest, { type: 'otp.unavailable' }, ctx, S.Outcome, [finish('failed', 'otp-unavailable', 'otp.unavailable')]],
  [S.OtpSms, { type: 'sms.sent' }, ctx, S.OtpEntry, [enter('otp', 'first')]],
  [S.OtpSms, { type: 'sms.sent' }, { ...ctx, otpSends: 2 }, S.OtpEntry, [enter('otp', 'new-otp')]],
  [S.OtpSms, { type: 'sms.failed', final: false }, ctx, S.OtpEntry, [enter('otp', 'repeat', 'otp.sms-failed')]],
  [S.OtpSms, { type: 'sms.failed', final: true }, ctx, S.Outcome, [finish('failed', 'sms-failed', 'outcome.failed')]],
  [S.OtpEntry, { type: 'field.done' }, ctx, S.OtpValidate, [{ do: 'validate-otp' }]],
  [S.OtpEntry, { type: 'otp.resend' }, ctx, S.OtpRequest, [{ do: 'clear-fields', fields: ['otp'] }, { do: 'request-otp', lead: 'otp.resent' }]],
  [S.OtpEntry, { type: 'otp.resend' }, noResends, S.OtpEntry, [{ do: 'clear-fields', fields: ['otp'] }, enter('otp', 'repeat', 'otp.no-more-resends')]],
  [S.OtpEntry, { type: 'retry', field: 'otp' }, ctx, S.OtpEntry, [{ do: 'clear-fields', fields: ['otp'] }, enter('otp', 'agent-retry', 'agent.retry')]],
  [S.OtpEntry, { type: 'field.exhausted' }, ctx, S.Outcome, [finish('failed', 'too-many-attempts', 'outcome.too-many')]],
  [S.OtpValidate, { type: 'otp.valid' }, ctx, S.Paying, [{ do: 'pay' }]],
  [S.OtpValidate, { type: 'otp.invalid', final: false }, ctx, S.OtpEntry, [{ do: 'clear-fields', fields: ['otp'] }, enter('otp', 'after-failure', 'invalid.otp')]],
  [S.OtpValidate, { type: 'otp.invalid', final: true }, ctx, S.Outcome, [finish('failed', 'otp-attempts-exhausted', 'outcome.too-many')]],
  [S.OtpValidate, { type: 'otp.expired' }, ctx, S.OtpRequest, [{ do: 'clear-fields', fields: ['otp'] }, { do: 'request-otp', lead: 'otp.expired' }]],
  [S.OtpValidate, { type: 'otp.expired' }, noResends, S.Outcome, [finish('failed', 'otp-expired', 'outcome.failed')]],
  [S.OtpValidate, { type: 'otp.check-unavailable' }, ctx, S.Outcome, [finish('failed', 'otp-validation-unavailable', 'outcome.failed')]],
  [S.Paying, { type: 'payment.approved', paymentId: 'pay_1' }, ctx, S.Confirming, [{ do: 'confirm' }]],
  [S.Paying, { type: 'payment.declined', reason: 'do-not-honour', paymentId: 'pay_1' }, ctx, S.Outcome, [finish('declined', 'do-not-honour', 'outcome.declined', { paymentId: 'pay_1' })]],
  [S.Paying, { type: 'payment.failed', reason: 'timeout', needsReconciliation: true }, ctx, S.Outcome, [finish('failed', 'timeout', 'outcome.unknown', { needsReconciliation: true })]],
  [S.Paying, { type: 'payment.failed', reason: 'breaker-open', needsReconciliation: false }, ctx, S.Outcome, [finish('failed', 'breaker-open', 'outcome.failed')]],
  [S.Paying, { type: 'hangup' }, ctx, S.Paying, [{ do: 'mark-hung-up' }]],
  // The gateway ended the call under the capture (docs/architecture.md, "Timers that end stuck calls"):
  // the abandoned session says why; money already moving keeps the provider's outcome.
  [S.Pan, { type: 'hangup', cause: 'media-timeout' }, ctx, S.Done, [finish('abandoned', 'media-timeout', null), { do: 'end-call' }]],
  [S.Expiry, { type: 'hangup', cause: 'session-expired' }, ctx, S.Done, [finish('abandoned', 'session-expired', null), { do: 'end-call' }]],
  [S.Paying, { type: 'hangup', cause: 'media-timeout' }, ctx, S.Paying, [{ do: 'mark-hung-up' }]],
  [S.Paying, { type: 'session.timeout' }, ctx, S.Paying, []],
  [S.Paying, { type: 'payment.declined', reason: 'do-not-honour' }, gone, S.Done, [finish('declined', 'do-not-honour', null), { do: 'end-call' }]],
  [S.Confirming, { type: 'confirm.ok' }, { ...ctx, paymentId: 'pay_1' }, S.Outcome, [finish('paid', 'approved', 'outcome.paid', { paymentId: 'pay_1' })]],
  [S.Confirming, { type: 'confirm.ok' }, { ...gone, paymentId: 'pay_1' }, S.Done, [finish('paid', 'approved', null, { paymentId: 'pay_1' }), { do: 'end-call' }]],
  [S.Confirming, { type: 'confirm.failed' }, { ...ctx, paymentId: 'pay_1' }, S.Outcome, [finish('failed', 'confirm-failed', 'outcome.unknown', { paymentId: 'pay_1', needsReconciliation: true })]],
  [S.Confirming, { type: 'hangup' }, ctx, S.Confirming, [{ do: 'mark-hung-up' }]],
  // OTP mode `issuer`: the payment starts authentication and the bank texts the OTP.
  [S.Cvv, { type: 'field.done' }, issuer, S.IssuerAuth, [{ do: 'issuer-otp', resend: false }]],
  [S.IssuerAuth, { type: 'auth.otp-sent' }, issuer, S.OtpEntry, [enter('otp', 'first')]],
  [S.IssuerAuth, { type: 'auth.otp-sent' }, { ...issuer, otpSends: 2 }, S.OtpEntry, [enter('otp', 'new-otp')]],
  [S.IssuerAuth, { type: 'auth.unavailable' }, issuer, S.Outcome, [finish('failed', 'otp-unavailable', 'otp.unavailable')]],
  [S.IssuerAuth, { type: 'payment.declined', reason: 'invalid-card', paymentId: 'pay_1' }, issuer, S.Outcome, [finish('declined', 'invalid-card', 'outcome.declined', { paymentId: 'pay_1' })]],
  [S.IssuerAuth, { type: 'hangup' }, issuer, S.Done, [finish('abandoned', 'customer-hung-up', null), { do: 'end-call' }]],
  [S.IssuerAuth, { type: 'cancel' }, issuer, S.Outcome, [finish('cancelled', 'agent-cancelled', 'outcome.cancelled')]],
  [S.OtpEntry, { type: 'field.done' }, issuer, S.OtpSubmit, [{ do: 'submit-otp' }]],
  [S.OtpEntry, { type: 'otp.resend' }, issuer, S.IssuerAuth, [{ do: 'clear-fields', fields: ['otp'] }, { do: 'issuer-otp', resend: true, lead: 'otp.resent' }]],
  [S.OtpEntry, { type: 'otp.resend' }, issuerNoResends, S.OtpEntry, [{ do: 'clear-fields', fields: ['otp'] }, enter('otp', 'repeat', 'otp.no-more-resends')]],
  [S.OtpSubmit, { type: 'payment.approved', paymentId: 'pay_1' }, issuer, S.Confirming, [{ do: 'confirm' }]],
  [S.OtpSubmit, { type: 'payment.declined', reason: 'do-not-honour', paymentId: 'pay_1' }, issuer, S.Outcome, [finish('declined', 'do-not-honour', 'outcome.declined', { paymentId: 'pay_1' })]],
  [S.OtpSubmit, { type: 'payment.failed', reason: 'timeout', needsReconciliation: true }, issuer, S.Outcome, [finish('failed', 'timeout', 'outcome.unknown', { needsReconciliation: true })]],
  [S.OtpSubmit, { type: 'otp.invalid', final: false }, issuer, S.OtpEntry, [{ do: 'clear-fields', fields: ['otp'] }, enter('otp', 'after-failure', 'invalid.otp')]],
  [S.OtpSubmit, { type: 'otp.invalid', final: false }, issuerGone, S.Done, [finish('abandoned', 'customer-hung-up', null), { do: 'end-call' }]],
  [S.OtpSubmit, { type: 'otp.invalid', final: true }, issuer, S.Outcome, [finish('failed', 'otp-attempts-exhausted', 'outcome.too-many')]],
  [S.OtpSubmit, { type: 'otp.expired' }, issuer, S.IssuerAuth, [{ do: 'clear-fields', fields: ['otp'] }, { do: 'issuer-otp', resend: true, lead: 'otp.expired' }]],
  [S.OtpSubmit, { type: 'otp.expired' }, issuerNoResends, S.Outcome, [finish('failed', 'otp-expired', 'outcome.failed')]],
  [S.OtpSubmit, { type: 'otp.expired' }, issuerGone, S.Done, [finish('failed', 'otp-expired', null), { do: 'end-call' }]],
  [S.OtpSubmit, { type: 'hangup' }, issuer, S.OtpSubmit, [{ do: 'mark-hung-up' }]],
  [S.OtpSubmit, { type: 'session.timeout' }, issuer, S.OtpSubmit, []],
  // OTP mode `none`: from the CVV straight to the payment.
  [S.Cvv, { type: 'field.done' }, noOtp, S.Paying, [{ do: 'pay' }]],
  [S.Outcome, { type: 'outcome.done' }, ctx, S.Done, [{ do: 'end-call' }]],
  [S.Outcome, { type: 'hangup' }, ctx, S.Done, [{ do: 'end-call' }]],
  [S.Outcome, { type: 'session.timeout' }, ctx, S.Done, [{ do: 'end-call' }]],
  [S.Greeting, { type: 'cancel' }, ctx, S.Outcome, [finish('cancelled', 'agent-cancelled', 'outcome.cancelled')]],
  [S.OtpValidate, { type: 'cancel' }, ctx, S.Outcome, [finish('cancelled', 'agent-cancelled', 'outcome.cancelled')]],
  [S.Expiry, { type: 'session.timeout' }, ctx, S.Outcome, [finish('failed', 'session-timeout', 'outcome.timeout')]],
];

const hangupStates = [S.Idle, S.Greeting, S.Pan, S.Expiry, S.Cvv, S.OtpRequest, S.OtpSms, S.OtpEntry, S.OtpValidate];

const illegal: [S, CaptureEvent][] = [
  [S.Idle, { type: 'field.done' }],
  [S.Greeting, { type: 'retry', field: 'pan' }],
  [S.Pan, { type: 'retry', field: 'cvv' }],
  [S.Expiry, { type: 'retry', field: 'otp' }],
  [S.OtpEntry, { type: 'retry', field: 'pan' }],
  [S.OtpRequest, { type: 'retry', field: 'otp' }],
  [S.Paying, { type: 'cancel' }],
  [S.Confirming, { type: 'cancel' }],
  [S.Outcome, { type: 'cancel' }],
  [S.Pan, { type: 'otp.valid' }],
  [S.Paying, { type: 'otp.resend' }],
  [S.Done, { type: 'hangup' }],
  [S.Done, { type: 'start' }],
  [S.Greeting, { type: 'start' }],
  [S.OtpSubmit, { type: 'cancel' }],
  [S.OtpSubmit, { type: 'otp.resend' }],
  [S.IssuerAuth, { type: 'otp.issued' }],
  [S.OtpRequest, { type: 'auth.otp-sent' }],
];

describe('capture state machine', () => {
  it.each(moves)('%s + %o -> %s', (from, ev, c, to, actions) => {
    expect(nextCapture(from, ev, c)).toEqual({ state: to, actions });
  });

  it.each(hangupStates)('caller hang-up in %s ends cleanly as abandoned', (from) => {
    expect(nextCapture(from, { type: 'hangup' }, ctx)).toEqual({ state: S.Done, actions: abandoned });
  });

  it.each(illegal)('%s + %o is refused with InvalidStateError', (from, ev) => {
    expect(() => nextCapture(from, ev, ctx)).toThrow(InvalidStateError);
  });

  it('every transition that finishes wipes once and every way into Done ends the call once', () => {
    for (const [state, row] of Object.entries(CAPTURE_TABLE)) {
      for (const [type, h] of Object.entries(row)) {
        const sample = { type, final: true, field: 'pan', reason: 'r', paymentId: 'p', needsReconciliation: false } as unknown as CaptureEvent;
        for (const c of [ctx, gone, noResends, issuer, issuerGone, issuerNoResends, noOtp]) {
          let tr;
          try {
            tr = h!(sample, c);
          } catch {
            continue;
          }
          expect(tr.actions.filter((a) => a.do === 'finish').length, `${state} ${type}`).toBeLessThanOrEqual(1);
          const ends = tr.actions.filter((a) => a.do === 'end-call').length;
          expect(ends, `${state} ${type}`).toBe(tr.state === S.Done ? 1 : 0);
          if (tr.state === S.Outcome) expect(tr.actions.some((a) => a.do === 'finish' && a.prompt !== null)).toBe(true);
        }
      }
    }
  });

  it('every live state but Paying/Confirming/OtpSubmit can be cancelled or timed out, reaching an outcome', () => {
    for (const s of [S.Greeting, S.Pan, S.Expiry, S.Cvv, S.OtpRequest, S.OtpSms, S.OtpEntry, S.OtpValidate, S.IssuerAuth]) {
      expect(nextCapture(s, { type: 'cancel' }, ctx).state).toBe(S.Outcome);
      expect(nextCapture(s, { type: 'session.timeout' }, ctx).state).toBe(S.Outcome);
    }
  });
});

import type { CaptureEvent, CaptureField, Outcome } from './types.js';

/** Words the agent sees and hears (screen reader) for the capture's progress. Pure functions. */
export const FIELD_LABEL: Readonly<Record<CaptureField, string>> = {
  pan: 'card number',
  expiry: 'expiry date',
  cvv: 'security code',
  otp: 'OTP',
};

export const BRAND_LABEL: Readonly<Record<string, string>> = {
  visa: 'Visa', mastercard: 'Mastercard', amex: 'American Express', rupay: 'RuPay', diners: 'Diners Club',
  discover: 'Discover', jcb: 'JCB', maestro: 'Maestro', unknown: 'Unknown brand',
};

export function brandLabel(brand: string): string {
  return BRAND_LABEL[brand] ?? brand.charAt(0).toUpperCase() + brand.slice(1);
}

const FAILURE: Readonly<Record<string, string>> = {
  'no-input': 'nothing was entered',
  incomplete: 'too few digits',
  'bad-length': 'wrong number of digits',
  luhn: 'the card number is not valid (check digit)',
  'brand-not-allowed': 'this card brand is not accepted',
  'card-refused': 'this card is not accepted now (too many payments with it)',
  'bad-month': 'the month is not valid',
  expired: 'the card has expired',
  'too-far': 'the expiry date is too far ahead',
  'otp-invalid': 'the OTP was wrong',
};

export function failureText(reason: string): string {
  return FAILURE[reason] ?? reason.replace(/-/g, ' ');
}

const OUTCOME: Readonly<Record<Outcome, string>> = {
  paid: 'Payment successful',
  declined: 'Payment declined',
  failed: 'Payment failed',
  abandoned: 'Payment abandoned',
  cancelled: 'Payment cancelled',
};

const REASON: Readonly<Record<string, string>> = {
  approved: 'approved',
  'too-many-attempts': 'too many attempts',
  'otp-attempts-exhausted': 'too many wrong OTPs',
  'otp-expired': 'the OTP expired',
  'otp-unavailable': 'no OTP could be issued',
  'sms-failed': 'the OTP SMS could not be sent',
  'otp-validation-unavailable': 'the OTP could not be checked',
  'provider-unavailable': 'the payment provider is unavailable',
  'session-timeout': 'the customer took too long',
  'confirm-failed': 'confirmation failed',
  timeout: 'the payment provider did not answer',
  'server-error': 'the payment provider had an error',
  'agent-cancelled': 'cancelled by you',
  'customer-hung-up': 'the customer hung up',
  'media-timeout': "the customer's line went silent",
  'session-expired': 'the call was lost',
  'do-not-honour': 'do not honour',
};

export function reasonText(reason: string): string {
  return REASON[reason] ?? reason.replace(/-/g, ' ');
}

const STAGE = { 'otp-validate': 'Checking the OTP', payment: 'Charging the card', confirm: 'Confirming the payment' } as const;
export function stageText(stage: keyof typeof STAGE): string {
  return STAGE[stage];
}

export interface OutcomeView {
  readonly outcome: Outcome;
  readonly reason: string;
  readonly paymentId: string | null;
  readonly needsReconciliation: boolean;
}

export const announce = {
  outcome(o: OutcomeView): string {
    if (o.outcome === 'paid') return `${OUTCOME.paid}${o.paymentId ? `, payment ID ${o.paymentId}` : ''}.`;
    const recon = o.needsReconciliation ? ' The charge must be reconciled.' : '';
    return `${OUTCOME[o.outcome]}: ${reasonText(o.reason)}.${recon}`;
  },

  /** The sentence for one event, given the view after it; '' for events not worth interrupting for. */
  event(e: CaptureEvent, after: { readonly outcome: OutcomeView | null }): string {
    switch (e.type) {
      case 'session.started':
        return 'Secure payment started. You are muted while the customer enters card details.';
      case 'field.started':
        return e.why === 'first' ? `Customer is entering the ${FIELD_LABEL[e.field]}.` : `Customer is asked again for the ${FIELD_LABEL[e.field]}.`;
      case 'card.identified':
        return e.complete ? `${brandLabel(e.brand)} card ending ${e.last4 ?? ''}, number valid.` : `${brandLabel(e.brand)} card.`;
      case 'field.completed':
        return e.field === 'pan' ? '' : `${FIELD_LABEL[e.field].replace(/^./, (c) => c.toUpperCase())} entered.`;
      case 'field.failed':
        return `${FIELD_LABEL[e.field].replace(/^./, (c) => c.toUpperCase())} refused: ${failureText(e.reason)}.${e.attemptsLeft > 0 ? '' : ' No attempts left.'}`;
      case 'otp.sent':
        return `OTP sent to ${e.mobile}.`;
      case 'payment.processing':
        return `${stageText(e.stage)}.`;
      case 'provider.issue':
        return e.action === 'ended' || e.action === 'refused' ? 'The payment provider has a problem.' : '';
      case 'session.ended':
        return after.outcome ? announce.outcome(after.outcome) : '';
      case 'session.reconciled':
        return after.outcome ? `Reconciled with the provider. ${announce.outcome(after.outcome)}` : '';
      case 'digit.entered':
      case 'field.cleared':
      case 'prompt.playing':
        // Per-digit announcements would drown the screen reader; the dots show them.
        return '';
    }
  },
};

import type { SensitiveDigits } from '../../security/sensitive-digits.js';
import type { FieldSpec } from './field-step.js';

export interface OtpFieldState {
  /** Digits in the OTP the provider issued (4-8). */
  length: number;
  /** The SMS could not be sent: the prompt offers `#` for a new one instead of asking for the code. */
  awaitingResend: boolean;
}

/**
 * The bank OTP: the length the provider gave; `#` asks for a new one (a resend key must not be a
 * digit, `*` already clears, and a fixed-length field needs no terminator, so `#` is free).
 */
export function otpSpec(buffer: SensitiveDigits, state: OtpFieldState): FieldSpec {
  return {
    field: 'otp',
    buffer,
    hashSubmits: false,
    hashResends: true,
    submitOnPause: false,
    length: () => ({ min: state.length, max: state.length }),
    prompt: (lead) => {
      if (state.awaitingResend) return ['otp.sms-failed'];
      return [...(lead ? [lead] : []), { id: 'enter.otp', n: state.length }];
    },
    validate: () => (buffer.length === state.length ? { ok: true } : { ok: false, reason: 'incomplete' }),
  };
}

import type { IssuedOtp } from '../providers/payment-client.js';
import type { PaymentDecision, PaymentRequest } from '../providers/pay.js';
import type { Confirmation, OtpValidation } from '../providers/schemas.js';
import type { SmsMessage, SmsSent } from '../providers/sms-client.js';
import type { DltTemplate } from '../providers/dlt.js';
import type { SensitiveDigits } from '../security/sensitive-digits.js';
import type { DtmfTransport, Outcome } from '../store/index.js';
import type { PromptSpec } from './prompts.js';

export type CaptureMode = 'capture' | 'normal';

/**
 * What a capture needs from the call; calls/ implements it (capture never imports calls/, media/
 * or sip/: design.md). Inputs flow the other way through {@link CaptureInputs}.
 */
export interface CapturePort {
  /**
   * Plays a prompt to the customer, replacing anything playing. When it has played out, call
   * `onPromptDone(spec.token)`; after stopPrompt() that call is not needed (and is ignored).
   */
  play(prompt: PromptSpec): void;
  /** Cuts the current prompt (type-ahead). */
  stopPrompt(): void;
  /**
   * `capture`: the agent is muted both ways and the customer hears prompts only (no DTMF reaches
   * the agent); `normal`: customer and agent talk again.
   */
  setMode(mode: CaptureMode): void;
  /**
   * The capture is over (called once, after setMode('normal')): hang up, transfer the customer to
   * X-Pay-Return-To, or leave them with the agent: calls/ decides per mode.
   */
  end(outcome: Outcome): void;
}

export type CommandResult = { readonly ok: true } | { readonly ok: false; readonly reason: string };

/** What calls/ and api/ feed into a capture (CaptureSession implements it). */
export interface CaptureInputs {
  /** One DTMF key: `0-9 * # A-D`, with the way it arrived. */
  onDigit(digit: string, transport: DtmfTransport): void;
  /** The prompt with this token played out. */
  onPromptDone(token?: number): void;
  /** The customer's leg is gone. */
  onHangup(): void;
  /** An agent command (validated here against agentCommandSchema). */
  onAgentCommand(cmd: unknown): CommandResult;
}

/** The provider client as capture uses it (PaymentProviderClient fits). */
export interface CapturePayments {
  /** `refusing`: open and cooling down; a new session is refused up front (CircuitBreaker fits). */
  readonly breaker: { readonly state: string; readonly refusing: boolean };
  generateOtp(req: { orderRef: string; customerMobile: string }): Promise<IssuedOtp>;
  validateOtp(otpId: string, otp: SensitiveDigits): Promise<OtpValidation>;
  pay(req: PaymentRequest): Promise<PaymentDecision>;
  confirm(paymentId: string): Promise<Confirmation>;
}

/** The SMS client as capture uses it (SmsClient fits: DLT rendering, route fallback). */
export interface CaptureSms {
  send(msg: SmsMessage): Promise<SmsSent>;
}

/** What fills each `{#var#}` of the registered OTP template, in order. */
export type OtpTemplateVar = 'otp' | 'amount' | 'currency' | 'orderRef' | 'merchantId';

/**
 * The DLT-registered OTP template (TRAI TCCCPR 2018: PE ID, header, template ID, approved text)
 * and what fills its placeholders, e.g. `{#var#} is your OTP to pay {#var#} {#var#} for order
 * {#var#}` with vars `['otp', 'currency', 'amount', 'orderRef']`.
 */
export interface OtpSmsTemplate {
  readonly template: DltTemplate;
  readonly vars: readonly OtpTemplateVar[];
}

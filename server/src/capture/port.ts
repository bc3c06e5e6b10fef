import type { IssuedOtp } from '../providers/payment-client.js';
import type { IssuerChallenge, IssuerStart, IssuerSubmit } from '../providers/issuer-otp.js';
import type { OtpMode } from '../providers/otp-mode.js';
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
  /** The merchant's OTP mode (providers/otp-mode.ts); absent: `gateway-sms`. */
  otpModeFor?(merchantId: string): OtpMode;
  /** `issuer` mode: the payment starts authentication and the bank sends the OTP. */
  startIssuerOtp?(req: Omit<PaymentRequest, 'otpId'> & { customerMobile: string; idempotencyKey: string }): Promise<IssuerStart>;
  resendIssuerOtp?(paymentId: string): Promise<IssuerChallenge>;
  /** Never throws for a provider failure. */
  submitIssuerOtp?(paymentId: string, otp: SensitiveDigits, idempotencyKey: string): Promise<IssuerSubmit>;
  /** The named provider that served the payment (calls/payment/provider-chain.ts); recorded in the session. */
  servedBy?(): string | undefined;
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

/** What fills each `{#var#}` of the registered receipt template, in order (the card: its last 4 digits only). */
export type ReceiptTemplateVar = 'last4' | 'amount' | 'currency' | 'orderRef' | 'merchantId' | 'paymentId';

/**
 * The DLT-registered receipt SMS sent after `paid` (kind `receipt`), e.g. `Payment of {#var#}
 * {#var#} received for order {#var#}, card ending {#var#}. Ref {#var#}. - Tonegate` with vars
 * `['currency', 'amount', 'orderRef', 'last4', 'paymentId']`.
 */
export interface ReceiptSmsTemplate {
  readonly template: DltTemplate;
  readonly vars: readonly ReceiptTemplateVar[];
}

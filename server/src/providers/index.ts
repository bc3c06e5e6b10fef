export { ProviderError, isAmbiguous, type ProviderErrorCode, type ProviderErrorDetails } from './errors.js';
export {
  PaymentProviderClient,
  DEFAULT_TIMEOUTS,
  type PaymentProviderOptions,
  type CardEncryption,
  type ProviderTimeouts,
  type IssuedOtp,
} from './payment-client.js';
export type { PaymentRequest, PaymentDecision, PaymentFailureReason } from './pay.js';
export type { Transaction, OtpValidation, PaymentStatus, PaymentResult, Confirmation, CardPublicKey } from './schemas.js';
export {
  SmsClient,
  SmsRoutesFailedError,
  maskMobile,
  DEFAULT_SMS_TIMEOUT_MS,
  type SmsRoute,
  type SmsClientOptions,
  type SmsMessage,
  type SmsSent,
} from './sms-client.js';
export {
  renderDlt,
  validateDltTemplate,
  isGsm7,
  gsm7Septets,
  countPlaceholders,
  DltError,
  DLT_VAR,
  DLT_MAX_VAR_LENGTH,
  type DltTemplate,
  type DltVar,
  type DltProblem,
} from './dlt.js';
export {
  CircuitBreaker,
  BreakerState,
  breakerStep,
  initialBreaker,
  InvalidBreakerMoveError,
  DEFAULT_BREAKER,
  type BreakerConfig,
  type BreakerEvent,
  type BreakerSnapshot,
  type BreakerTicket,
} from './resilience/circuit-breaker.js';
export {
  withRetry,
  backoffDelay,
  parseRetryAfter,
  retryDelay,
  shouldRetry,
  READ_POLICY,
  PAYMENT_POLICY,
  NO_RETRY,
  type RetryPolicy,
  type Sleep,
} from './resilience/retry.js';
export { newIdempotencyKey, IDEMPOTENCY_KEY_PATTERN } from './resilience/idempotency.js';
export { OTP_MODES, otpModeOf, parseMerchantOtpModes, type OtpMode, type OtpModePolicy } from './otp-mode.js';
export { runIssuerSubmit, type IssuerChallenge, type IssuerStart, type IssuerSubmit } from './issuer-otp.js';

/**
 * The one error class of the provider layer (docs/architecture.md practice 10: `ProviderError(code, retryable)`).
 * Messages are fixed per code and never carry request or response bodies (card data, OTPs).
 */
export type ProviderErrorCode =
  /** No answer within the call's timeout: the request may or may not have been processed. */
  | 'timeout'
  /** The connection failed after the request may have been sent. */
  | 'network'
  /** The connection could not be made (refused, DNS): nothing was sent. */
  | 'unreachable'
  /** HTTP 5xx. */
  | 'server-error'
  /** HTTP 429; `retryAfterMs` when the provider said. */
  | 'rate-limited'
  /** A 2xx whose body did not match the documented shape. */
  | 'bad-response'
  /** This provider's circuit breaker is open: refused without calling. */
  | 'breaker-open'
  /** HTTP 404. */
  | 'not-found'
  /** HTTP 409 (idempotency key reused with another body, or the first request still in flight). */
  | 'conflict'
  /** Any other HTTP 4xx: our request was refused as it stands. */
  | 'rejected'
  /** The call would send card data or an OTP over a channel we do not allow. */
  | 'insecure-transport'
  /** An SMS refused before sending because it does not fit its DLT template. */
  | 'dlt-invalid'
  /** Every configured SMS route failed. */
  | 'all-routes-failed'
  /** The provider's card-encryption key is not the pinned one (PAYMENT_CARD_KEY_SHA256): nothing was sent. */
  | 'card-key-mismatch';

export interface ProviderErrorDetails {
  /** Which provider or route (`payment`, `sms:primary`, ...). */
  provider?: string;
  status?: number;
  retryAfterMs?: number;
  /** The provider's own error code from the body (`idempotency-key-reused`, ...), if any. */
  providerCode?: string;
  cause?: unknown;
}

const MESSAGES: Record<ProviderErrorCode, string> = {
  timeout: 'provider did not answer in time',
  network: 'connection to provider failed',
  unreachable: 'provider unreachable',
  'server-error': 'provider answered with a server error',
  'rate-limited': 'provider rate-limited the request',
  'bad-response': 'provider answer did not match the expected shape',
  'breaker-open': 'provider circuit breaker is open',
  'not-found': 'provider does not know the resource',
  conflict: 'provider reported a conflict',
  rejected: 'provider rejected the request',
  'insecure-transport': 'refusing to send sensitive data over an insecure channel',
  'dlt-invalid': 'SMS does not fit its DLT template',
  'all-routes-failed': 'every SMS route failed',
  'card-key-mismatch': 'provider card-encryption key does not match the pinned fingerprint',
};

export class ProviderError extends Error {
  readonly provider: string | undefined;
  readonly status: number | undefined;
  readonly retryAfterMs: number | undefined;
  readonly providerCode: string | undefined;

  constructor(
    readonly code: ProviderErrorCode,
    readonly retryable: boolean,
    details: ProviderErrorDetails = {},
  ) {
    const where = details.provider ? `${details.provider}: ` : '';
    const status = details.status !== undefined ? ` (HTTP ${details.status})` : '';
    super(`${where}${MESSAGES[code]}${status}`, details.cause !== undefined ? { cause: details.cause } : undefined);
    this.name = 'ProviderError';
    this.provider = details.provider;
    this.status = details.status;
    this.retryAfterMs = details.retryAfterMs;
    this.providerCode = details.providerCode;
  }
}

/** True for outcomes after which we cannot know whether the provider acted on the request. */
export function isAmbiguous(err: ProviderError): boolean {
  return err.code === 'timeout' || err.code === 'network' || err.code === 'server-error' || err.code === 'bad-response';
}

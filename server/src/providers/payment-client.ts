import { systemClock, type Clock } from '../lib/clock.js';
import type { Logger } from '../observability/logger.js';
import { cardKeyFingerprint, encryptCard, type CardDigits } from '../security/card-crypto.js';
import { SensitiveDigits } from '../security/sensitive-digits.js';
import { ProviderError } from './errors.js';
import { assertSafeBaseUrl, callJson, type FetchFn, type HttpEndpoint } from './http.js';
import { runPayment, type PaymentDecision, type PaymentRequest } from './pay.js';
import { challengeOf, runIssuerSubmit, startOf, type IssuerChallenge, type IssuerStart, type IssuerSubmit } from './issuer-otp.js';
import { issuerResendSchema, issuerStartSchema, issuerSubmitSchema } from './issuer-schemas.js';
import { otpModeOf, type OtpMode, type OtpModePolicy } from './otp-mode.js';
import { CircuitBreaker, DEFAULT_BREAKER, type BreakerConfig } from './resilience/circuit-breaker.js';
import { newIdempotencyKey, IDEMPOTENCY_KEY_PATTERN } from './resilience/idempotency.js';
import { clockSleep, PAYMENT_POLICY, READ_POLICY, withRetry, type RetryPolicy, type Sleep } from './resilience/retry.js';
import {
  cardKeySchema,
  confirmationSchema,
  otpIssuedSchema,
  otpValidationSchema,
  paymentResultSchema,
  paymentStatusSchema,
  transactionSchema,
  type CardPublicKey,
  type Confirmation,
  type OtpValidation,
  type PaymentStatus,
  type Transaction,
} from './schemas.js';

/**
 * How card fields leave: `plain` inside the (HTTPS or loopback) body; `key` RSA-OAEP with a
 * configured provider public key (PAYMENT_CARD_KEY_FILE: pinned by configuration); `provider-key`
 * with the key from `GET /v1/keys/card`, fetched once and, with `pinnedSha256`
 * (PAYMENT_CARD_KEY_SHA256), refused unless its SPKI SHA-256 matches; without a pin, trust rests
 * on the TLS channel it came over (docs/security.md).
 */
export type CardEncryption =
  | { readonly mode: 'plain' }
  | { readonly mode: 'key'; readonly publicKeyPem: string }
  | { readonly mode: 'provider-key'; readonly pinnedSha256?: string };

export interface ProviderTimeouts {
  /** Any call without its own timeout below. */
  readonly defaultMs: number;
  /** One payment POST (the provider talks to the issuer), and the issuer OTP submit. */
  readonly paymentMs: number;
  /** One status query. */
  readonly statusMs: number;
  /** Transaction lookup and the card key. */
  readonly lookupMs?: number;
  /** OTP request, issuer OTP start and resend. */
  readonly otpMs?: number;
  readonly validateMs?: number;
  readonly confirmMs?: number;
}

export const DEFAULT_TIMEOUTS: ProviderTimeouts = { defaultMs: 5_000, paymentMs: 30_000, statusMs: 5_000 };

export interface PaymentProviderOptions {
  readonly baseUrl: string;
  readonly logger: Logger;
  /** Sent as `Authorization: Bearer <apiKey>` (PAYMENT_API_BEARER). */
  readonly apiKey?: string;
  /** Sent as `X-API-Key` (PAYMENT_API_KEY), or as the header `apiKeyHeaderName`. */
  readonly apiKeyHeader?: string;
  /** The API key's header (a provider's `auth.header`); default `x-api-key`. */
  readonly apiKeyHeaderName?: string;
  readonly name?: string;
  readonly timeouts?: Partial<ProviderTimeouts>;
  readonly readPolicy?: RetryPolicy;
  readonly paymentPolicy?: RetryPolicy;
  readonly statusPolicy?: RetryPolicy;
  /** A shared breaker instance, or the config for this client's own. */
  readonly breaker?: CircuitBreaker | BreakerConfig;
  readonly cardEncryption?: CardEncryption;
  /** Plain HTTP to a non-loopback host (a demo provider on a private network). Default false. */
  readonly allowPlainHttp?: boolean;
  /** Breaker time and retry sleeps. */
  readonly clock?: Clock;
  readonly fetch?: FetchFn;
  readonly sleep?: Sleep;
  readonly random?: () => number;
  readonly nowEpochMs?: () => number;
  readonly newIdempotencyKey?: () => string;
  /** The OTP mode of this provider, per merchant (./otp-mode.ts). Default `gateway-sms`. */
  readonly otpModes?: OtpModePolicy;
}

export interface IssuedOtp {
  readonly otpId: string;
  /** Put into the SMS, then disposed. */
  readonly otp: SensitiveDigits;
  readonly length: number;
  readonly expiresAt: Date;
}

/** HTTP client of the payment provider API (docs/provider-api.openapi.yaml). */
export class PaymentProviderClient {
  readonly breaker: CircuitBreaker;
  readonly #ep: HttpEndpoint;
  readonly #t: Required<ProviderTimeouts>;
  readonly #read: RetryPolicy;
  readonly #pay: RetryPolicy;
  readonly #status: RetryPolicy;
  readonly #sleep: Sleep;
  readonly #random: (() => number) | undefined;
  readonly #newKey: () => string;
  readonly #encryption: CardEncryption;
  readonly #log: Logger;
  #providerKey: Promise<CardPublicKey> | undefined;
  readonly #otpModes: OtpModePolicy | undefined;

  constructor(o: PaymentProviderOptions) {
    const name = o.name ?? 'payment';
    assertSafeBaseUrl(o.baseUrl, o.allowPlainHttp ?? false, name);
    const clock = o.clock ?? systemClock;
    this.breaker = o.breaker instanceof CircuitBreaker ? o.breaker : new CircuitBreaker(name, clock, o.breaker ?? DEFAULT_BREAKER);
    this.#log = o.logger.child({ provider: name });
    this.#ep = {
      name,
      baseUrl: o.baseUrl,
      apiKey: o.apiKey,
      credentialHeaders: o.apiKeyHeader ? { [(o.apiKeyHeaderName ?? 'x-api-key').toLowerCase()]: o.apiKeyHeader } : undefined,
      fetch: o.fetch ?? globalThis.fetch,
      breaker: this.breaker,
      logger: this.#log,
      nowEpochMs: o.nowEpochMs ?? Date.now,
    };
    const t = { ...DEFAULT_TIMEOUTS, ...o.timeouts };
    this.#t = { lookupMs: t.defaultMs, otpMs: t.defaultMs, validateMs: t.defaultMs, confirmMs: t.defaultMs, ...t };
    this.#read = o.readPolicy ?? READ_POLICY;
    this.#pay = o.paymentPolicy ?? PAYMENT_POLICY;
    this.#status = o.statusPolicy ?? READ_POLICY;
    this.#sleep = o.sleep ?? clockSleep(clock);
    this.#random = o.random;
    this.#newKey = o.newIdempotencyKey ?? newIdempotencyKey;
    this.#encryption = o.cardEncryption ?? { mode: 'plain' };
    this.#otpModes = o.otpModes;
  }

  #retry<T>(op: string, policy: RetryPolicy, fn: () => Promise<T>): Promise<T> {
    return withRetry(() => fn(), policy, {
      sleep: this.#sleep,
      ...(this.#random ? { random: this.#random } : {}),
      onRetry: (err, attempt, delayMs) => this.#log.info({ op, attempt, code: err.code, delayMs }, 'retrying provider call'),
    });
  }

  /** Transaction details by reference (`X-Pay-Txn-Ref`); null when the provider does not know it. */
  async lookupTransaction(ref: string): Promise<Transaction | null> {
    try {
      return await this.#retry('transaction', this.#read, () =>
        callJson(this.#ep, {
          op: 'transaction',
          method: 'GET',
          path: `/v1/transactions/${encodeURIComponent(ref)}`,
          timeoutMs: this.#t.lookupMs,
          schema: transactionSchema,
        }),
      );
    } catch (err) {
      if (err instanceof ProviderError && err.code === 'not-found') return null;
      throw err;
    }
  }

  /** Asks the provider for an OTP; the answer carries it (the SMS is ours to send). */
  async generateOtp(req: { orderRef: string; customerMobile: string }): Promise<IssuedOtp> {
    const r = await this.#retry('otp.generate', this.#read, () =>
      callJson(this.#ep, {
        op: 'otp.generate',
        method: 'POST',
        path: '/v1/otp',
        body: JSON.stringify({ orderRef: req.orderRef, customerMobile: req.customerMobile }),
        timeoutMs: this.#t.otpMs,
        schema: otpIssuedSchema,
      }),
    );
    return { otpId: r.otpId, otp: SensitiveDigits.fromString(r.otp), length: r.length, expiresAt: new Date(r.expiresAt) };
  }

  /** Checks the OTP the customer keyed. Retrying is safe: a right OTP stays valid once accepted. */
  validateOtp(otpId: string, otp: SensitiveDigits): Promise<OtpValidation> {
    return this.#retry('otp.validate', this.#read, () =>
      callJson(this.#ep, {
        op: 'otp.validate',
        method: 'POST',
        path: `/v1/otp/${encodeURIComponent(otpId)}/validate`,
        body: JSON.stringify({ otp: otp.revealForProvider() }),
        timeoutMs: this.#t.validateMs,
        schema: otpValidationSchema,
      }),
    );
  }

  /** Status by Idempotency-Key. Bypasses the breaker: it settles payments whose outcome is unknown. */
  paymentStatus(idempotencyKey: string): Promise<PaymentStatus> {
    return this.#retry('payment.status', this.#status, () =>
      callJson(this.#ep, {
        op: 'payment.status',
        method: 'GET',
        path: `/v1/payments?idempotencyKey=${encodeURIComponent(idempotencyKey)}`,
        timeoutMs: this.#t.statusMs,
        schema: paymentStatusSchema,
        breaker: 'bypass',
      }),
    );
  }

  confirm(paymentId: string): Promise<Confirmation> {
    return this.#retry('payment.confirm', this.#read, () =>
      callJson(this.#ep, {
        op: 'payment.confirm',
        method: 'POST',
        path: `/v1/payments/${encodeURIComponent(paymentId)}/confirm`,
        body: '{}',
        timeoutMs: this.#t.confirmMs,
        schema: confirmationSchema,
      }),
    );
  }

  /** The provider's card-encryption public key, checked against the pinned fingerprint when one is set. */
  cardPublicKey(): Promise<CardPublicKey> {
    const enc = this.#encryption;
    const pin = enc.mode === 'provider-key' ? enc.pinnedSha256 : undefined;
    this.#providerKey ??= this.#retry('keys.card', this.#read, () =>
      callJson(this.#ep, { op: 'keys.card', method: 'GET', path: '/v1/keys/card', timeoutMs: this.#t.lookupMs, schema: cardKeySchema }),
    ).then((key) => {
      if (pin === undefined) return key;
      let fingerprint: string;
      try {
        fingerprint = cardKeyFingerprint(key.publicKeyPem);
      } catch {
        fingerprint = '(unreadable key)';
      }
      if (fingerprint !== pin) {
        this.#log.error({ keyId: key.keyId, fingerprint, pinned: pin }, 'provider card key does not match PAYMENT_CARD_KEY_SHA256: no card is sent');
        throw new ProviderError('card-key-mismatch', false, { provider: this.#ep.name });
      }
      return key;
    }).catch((err: unknown) => {
      this.#providerKey = undefined;
      throw err;
    });
    return this.#providerKey;
  }

  /**
   * Charges the card once at most (see runPayment in pay.ts). Never throws for a provider
   * failure: every outcome is a {@link PaymentDecision}.
   */
  async pay(req: PaymentRequest): Promise<PaymentDecision> {
    const key = req.idempotencyKey ?? this.#newKey();
    if (!IDEMPOTENCY_KEY_PATTERN.test(key)) throw new RangeError('idempotency key must be 1-255 visible ASCII characters');
    let body: Buffer;
    try {
      body = await this.#paymentBody(req);
    } catch (err) {
      const code = err instanceof ProviderError ? err.code : 'rejected';
      this.#log.warn({ idempotencyKey: key, code, ...(err instanceof ProviderError ? {} : { why: (err as Error).message }) }, 'payment not sent: could not prepare the card');
      const reason = code === 'breaker-open' || code === 'insecure-transport' || code === 'card-key-mismatch' ? code : 'rejected';
      return { outcome: 'failed', reason, needsReconciliation: false, idempotencyKey: key, attempts: 0, chargeSent: false };
    }
    try {
      return await this.#sendPayment(body, key);
    } finally {
      body.fill(0); // the request body held the card (plain or encrypted): zero it once the exchange is over
    }
  }

  #sendPayment(body: Buffer, key: string): Promise<PaymentDecision> {
    return runPayment(body, key, {
      policy: this.#pay,
      post: (b, k) =>
        callJson(this.#ep, {
          op: 'payment',
          method: 'POST',
          path: '/v1/payments',
          body: b,
          headers: { 'idempotency-key': k },
          timeoutMs: this.#t.paymentMs,
          schema: paymentResultSchema,
        }),
      status: (k) => this.paymentStatus(k),
      sleep: this.#sleep,
      ...(this.#random ? { random: this.#random } : {}),
      logger: this.#log,
    });
  }

  // The issuer OTP mode (./otp-mode.ts, docs/provider-api.openapi.yaml "Issuer OTP").

  /** How this merchant's payments get their OTP. */
  otpModeFor(merchantId: string): OtpMode {
    return otpModeOf(this.#otpModes, merchantId);
  }

  /**
   * Starts the payment with the bank's own OTP: the provider authenticates the card and the bank
   * sends the OTP to the customer. Nothing is charged yet, and a retry with the same
   * Idempotency-Key gets the same payment (no second OTP), so timeouts are retried by READ_POLICY.
   */
  async startIssuerOtp(req: Omit<PaymentRequest, 'otpId'> & { customerMobile: string; idempotencyKey: string }): Promise<IssuerStart> {
    if (!IDEMPOTENCY_KEY_PATTERN.test(req.idempotencyKey)) throw new RangeError('idempotency key must be 1-255 visible ASCII characters');
    const body = await this.#paymentBody(req, { customerMobile: req.customerMobile });
    try {
      const a = await this.#retry('issuer.start', this.#read, () =>
        callJson(this.#ep, {
          op: 'issuer.start',
          method: 'POST',
          path: '/v1/payments/issuer-otp',
          body,
          headers: { 'idempotency-key': req.idempotencyKey },
          timeoutMs: this.#t.otpMs, // the customer waits on the line; retried (same key) by READ_POLICY
          schema: issuerStartSchema,
        }),
      );
      return startOf(a);
    } finally {
      body.fill(0); // it held the card: zero it once the exchange is over
    }
  }

  /** Asks the bank for a new OTP (ProviderError `conflict` when it sends no more). */
  async resendIssuerOtp(paymentId: string): Promise<IssuerChallenge> {
    const a = await callJson(this.#ep, {
      op: 'issuer.resend',
      method: 'POST',
      path: `/v1/payments/${encodeURIComponent(paymentId)}/otp/resend`,
      body: '{}',
      timeoutMs: this.#t.otpMs,
      schema: issuerResendSchema,
    });
    return challengeOf(a);
  }

  /** Submits the OTP the customer keyed: the charge happens here (see runIssuerSubmit). Never throws for a provider failure. */
  submitIssuerOtp(paymentId: string, otp: SensitiveDigits, idempotencyKey: string): Promise<IssuerSubmit> {
    return runIssuerSubmit({
      post: () =>
        callJson(this.#ep, {
          op: 'issuer.submit',
          method: 'POST',
          path: `/v1/payments/${encodeURIComponent(paymentId)}/otp`,
          body: JSON.stringify({ otp: otp.revealForProvider() }),
          timeoutMs: this.#t.paymentMs,
          schema: issuerSubmitSchema,
        }),
      status: () => this.paymentStatus(idempotencyKey),
      logger: this.#log.child({ idempotencyKey }),
    });
  }

  /**
   * The payment body as a Buffer, assembled straight from the card's sensitive buffers: no PAN or
   * CVV ever becomes a JS string on this path (docs/security.md). The caller zeroes it.
   */
  async #paymentBody(req: Omit<PaymentRequest, 'otpId'> & { otpId?: string | undefined }, extra: Record<string, string> = {}): Promise<Buffer> {
    const base = JSON.stringify({ orderRef: req.orderRef, merchantId: req.merchantId, amount: req.amount, currency: req.currency, otpId: req.otpId, ...extra });
    const head = Buffer.from(base.slice(0, -1), 'utf8'); // without the closing brace
    const enc = this.#encryption;
    if (enc.mode === 'plain') return assemble(head, req.card);
    const pem = enc.mode === 'key' ? enc.publicKeyPem : (await this.cardPublicKey()).publicKeyPem;
    return Buffer.concat([head, Buffer.from(`,"encryptedCard":"${encryptCard(pem, req.card)}"}`, 'latin1')]);
  }
}

/** `<head>,"card":{"pan":"…","expiry":"…","cvv":"…"}}` from the sensitive buffers; the pieces are zeroed. */
function assemble(head: Buffer, card: CardDigits): Buffer {
  const parts: Buffer[] = [head, Buffer.from(',"card":{"pan":"', 'latin1')];
  const digits = (d: CardDigits['pan']): void => d.withValue((b) => void parts.push(Buffer.from(b)));
  digits(card.pan);
  parts.push(Buffer.from('","expiry":"', 'latin1'));
  digits(card.expiry);
  parts.push(Buffer.from('","cvv":"', 'latin1'));
  digits(card.cvv);
  parts.push(Buffer.from('"}}', 'latin1'));
  try {
    return Buffer.concat(parts);
  } finally {
    for (const p of parts) p.fill(0);
  }
}

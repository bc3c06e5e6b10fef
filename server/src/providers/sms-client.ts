import { systemClock, type Clock } from '../lib/clock.js';
import type { Logger } from '../observability/logger.js';
import { assertMatchesTemplate, DltError, renderDlt, type DltProblem, type DltTemplate, type DltVar } from './dlt.js';
import { ProviderError, type ProviderErrorCode } from './errors.js';
import { assertSafeBaseUrl, callJson, type FetchFn, type HttpEndpoint } from './http.js';
import { CircuitBreaker, DEFAULT_BREAKER, type BreakerConfig } from './resilience/circuit-breaker.js';
import { clockSleep, NO_RETRY, withRetry, type RetryPolicy, type Sleep } from './resilience/retry.js';
import { e164, smsAcceptedSchema } from './schemas.js';

/**
 * One SMS gateway (aggregator). Kind `tonegate-json` (the only one so far): `POST <baseUrl>/v1/sms`
 * with `{to, senderId, peId, templateId, text}` (docs/provider-api.openapi.yaml).
 */
export interface SmsRoute {
  readonly name: string;
  readonly baseUrl: string;
  readonly kind?: 'tonegate-json';
  readonly apiKey?: string;
  /** How `apiKey` is sent: `Authorization: Bearer` (default) or an `X-API-Key` header. */
  readonly authScheme?: 'bearer' | 'x-api-key';
  readonly timeoutMs?: number;
  readonly allowPlainHttp?: boolean;
}

export interface SmsClientOptions {
  /** Tried in order: the second route is used only when the first fails. */
  readonly routes: readonly SmsRoute[];
  readonly logger: Logger;
  /** Per route. Default: one try (a retry could deliver the OTP twice; the next route is the fallback). */
  readonly policy?: RetryPolicy;
  readonly breaker?: BreakerConfig;
  readonly clock?: Clock;
  readonly fetch?: FetchFn;
  readonly sleep?: Sleep;
  readonly nowEpochMs?: () => number;
  /** A message refused before sending (DLT: it does not fit its template); /metrics counts them. */
  readonly onRefused?: (problem: DltProblem) => void;
}

export interface SmsMessage {
  /** E.164 mobile number. */
  readonly to: string;
  readonly template: DltTemplate;
  readonly vars: readonly DltVar[];
}

export interface SmsSent {
  readonly route: string;
  readonly messageId: string;
  /** Routes tried before the one that took it. */
  readonly failedRoutes: readonly { route: string; code: ProviderErrorCode }[];
}

export const DEFAULT_SMS_TIMEOUT_MS = 5_000;

/**
 * Failures after which the next route is tried: the route could not be reached, did not answer in
 * time, failed (5xx, a 2xx we cannot read), is cooling down (breaker), or throttles us (429: it
 * took nothing). Any other 4xx says the message itself is refused: no other route is tried.
 */
const FAIL_OVER = new Set<ProviderErrorCode>(['unreachable', 'network', 'timeout', 'server-error', 'bad-response', 'breaker-open', 'rate-limited']);

/** `+919800000001` -> `+91******0001` for logs. */
export function maskMobile(to: string): string {
  return to.length <= 7 ? '***' : `${to.slice(0, 3)}${'*'.repeat(to.length - 7)}${to.slice(-4)}`;
}

/** ProviderError('all-routes-failed', retryable: a later resend may work) with what each route said. */
export class SmsRoutesFailedError extends ProviderError {
  constructor(readonly failedRoutes: readonly { route: string; code: ProviderErrorCode }[]) {
    super('all-routes-failed', true, { provider: 'sms' });
    this.name = 'SmsRoutesFailedError';
  }
}

/** Sends DLT-conformant SMS, falling back route by route. */
export class SmsClient {
  readonly #routes: { route: SmsRoute; ep: HttpEndpoint }[];
  readonly #policy: RetryPolicy;
  readonly #sleep: Sleep;
  readonly #log: Logger;
  readonly #onRefused: ((problem: DltProblem) => void) | undefined;

  constructor(o: SmsClientOptions) {
    if (o.routes.length === 0) throw new RangeError('SmsClient needs at least one route');
    const clock = o.clock ?? systemClock;
    this.#log = o.logger.child({ provider: 'sms' });
    this.#routes = o.routes.map((route) => {
      const name = `sms:${route.name}`;
      assertSafeBaseUrl(route.baseUrl, route.allowPlainHttp ?? false, name);
      const ep: HttpEndpoint = {
        name,
        baseUrl: route.baseUrl,
        ...(route.apiKey && route.authScheme === 'x-api-key' ? { credentialHeaders: { 'x-api-key': route.apiKey } } : { apiKey: route.apiKey }),
        fetch: o.fetch ?? globalThis.fetch,
        breaker: new CircuitBreaker(name, clock, o.breaker ?? DEFAULT_BREAKER),
        logger: this.#log.child({ route: route.name }),
        nowEpochMs: o.nowEpochMs ?? Date.now,
      };
      return { route, ep };
    });
    this.#policy = o.policy ?? NO_RETRY;
    this.#sleep = o.sleep ?? clockSleep(clock);
    this.#onRefused = o.onRefused;
  }

  /** Each route's breaker state, as `sms:<route>` (the /metrics provider label). */
  breakerStates(): Record<string, string> {
    return Object.fromEntries(this.#routes.map((r) => [r.ep.name, r.ep.breaker.state]));
  }

  /** The breaker of each route, by route name. */
  breaker(route: string): CircuitBreaker | undefined {
    return this.#routes.find((r) => r.route.name === route)?.ep.breaker;
  }

  /**
   * Renders the DLT template and matches the result against it (refusing bad variables and any
   * mismatch BEFORE anything is sent), then tries each route in order while they fail to deliver
   * (FAIL_OVER). Throws DltError, ProviderError('rejected') for a bad number or a route's 4xx, or
   * SmsRoutesFailedError ('all-routes-failed').
   */
  async send(msg: SmsMessage): Promise<SmsSent> {
    if (!e164.safeParse(msg.to).success) throw new ProviderError('rejected', false, { provider: 'sms' });
    const { templateId, peId, senderId } = msg.template;
    let text: string;
    try {
      text = renderDlt(msg.template, msg.vars);
      assertMatchesTemplate(msg.template, text);
    } catch (err) {
      if (err instanceof DltError) {
        // Template id, problem and variable index only: never the text or a value (it may hold the OTP).
        this.#log.warn({ to: maskMobile(msg.to), templateId, problem: err.problem, ...(err.index !== undefined ? { variable: err.index + 1 } : {}) }, 'sms refused: does not fit its DLT template');
        this.#onRefused?.(err.problem);
      }
      throw err;
    }
    const body = JSON.stringify({ to: msg.to, senderId, peId, templateId, text });
    const failedRoutes: { route: string; code: ProviderErrorCode }[] = [];
    for (const { route, ep } of this.#routes) {
      try {
        const r = await withRetry(
          () =>
            callJson(ep, {
              op: 'sms.send',
              method: 'POST',
              path: '/v1/sms',
              body,
              timeoutMs: route.timeoutMs ?? DEFAULT_SMS_TIMEOUT_MS,
              schema: smsAcceptedSchema,
            }),
          this.#policy,
          { sleep: this.#sleep },
        );
        this.#log.info({ route: route.name, to: maskMobile(msg.to), templateId, messageId: r.messageId }, 'sms accepted');
        return { route: route.name, messageId: r.messageId, failedRoutes };
      } catch (err) {
        const code: ProviderErrorCode = err instanceof ProviderError ? err.code : 'network';
        const status = err instanceof ProviderError ? err.status : undefined;
        failedRoutes.push({ route: route.name, code });
        if (!FAIL_OVER.has(code)) {
          this.#log.warn({ route: route.name, to: maskMobile(msg.to), templateId, code, status }, 'sms refused by route; not tried elsewhere');
          throw err instanceof ProviderError ? err : new ProviderError('rejected', false, { provider: `sms:${route.name}` });
        }
        this.#log.warn({ route: route.name, to: maskMobile(msg.to), templateId, code, status }, 'sms route failed');
      }
    }
    throw new SmsRoutesFailedError(failedRoutes);
  }
}

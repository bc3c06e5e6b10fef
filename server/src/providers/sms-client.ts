import { systemClock, type Clock } from '../lib/clock.js';
import type { Logger } from '../observability/logger.js';
import { renderDlt, type DltTemplate, type DltVar } from './dlt.js';
import { ProviderError, type ProviderErrorCode } from './errors.js';
import { assertSafeBaseUrl, callJson, type FetchFn, type HttpEndpoint } from './http.js';
import { CircuitBreaker, DEFAULT_BREAKER, type BreakerConfig } from './resilience/circuit-breaker.js';
import { clockSleep, NO_RETRY, withRetry, type RetryPolicy, type Sleep } from './resilience/retry.js';
import { e164, smsAcceptedSchema } from './schemas.js';

/** One SMS gateway (aggregator) that speaks `POST /v1/sms` (docs/provider-api.openapi.yaml). */
export interface SmsRoute {
  readonly name: string;
  readonly baseUrl: string;
  readonly apiKey?: string;
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
        apiKey: route.apiKey,
        fetch: o.fetch ?? globalThis.fetch,
        breaker: new CircuitBreaker(name, clock, o.breaker ?? DEFAULT_BREAKER),
        logger: this.#log.child({ route: route.name }),
        nowEpochMs: o.nowEpochMs ?? Date.now,
      };
      return { route, ep };
    });
    this.#policy = o.policy ?? NO_RETRY;
    this.#sleep = o.sleep ?? clockSleep(clock);
  }

  /** The breaker of each route, by route name. */
  breaker(route: string): CircuitBreaker | undefined {
    return this.#routes.find((r) => r.route.name === route)?.ep.breaker;
  }

  /**
   * Renders the DLT template (refusing bad variables BEFORE anything is sent), then tries each
   * route in order. Throws DltError, ProviderError('rejected') for a bad number, or
   * SmsRoutesFailedError ('all-routes-failed').
   */
  async send(msg: SmsMessage): Promise<SmsSent> {
    if (!e164.safeParse(msg.to).success) throw new ProviderError('rejected', false, { provider: 'sms' });
    const text = renderDlt(msg.template, msg.vars);
    const { templateId, peId, senderId } = msg.template;
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
        failedRoutes.push({ route: route.name, code });
        this.#log.warn({ route: route.name, to: maskMobile(msg.to), templateId, code }, 'sms route failed');
      }
    }
    throw new SmsRoutesFailedError(failedRoutes);
  }
}

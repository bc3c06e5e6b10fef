import type { z } from 'zod';
import type { Logger } from '../observability/logger.js';
import { ProviderError, type ProviderErrorCode } from './errors.js';
import type { CircuitBreaker, BreakerTicket } from './resilience/circuit-breaker.js';
import { parseRetryAfter } from './resilience/retry.js';

export type FetchFn = typeof fetch;

/** One provider's HTTP side: where, how, and its breaker. */
export interface HttpEndpoint {
  readonly name: string;
  readonly baseUrl: string;
  /** Sent as `Authorization: Bearer` (PAYMENT_API_BEARER, or a route's apiKey for SMS). */
  readonly apiKey?: string | undefined;
  /** Further credential headers (e.g. `x-api-key` from PAYMENT_API_KEY); never logged. */
  readonly credentialHeaders?: Readonly<Record<string, string>> | undefined;
  readonly fetch: FetchFn;
  readonly breaker: CircuitBreaker;
  readonly logger: Logger;
  readonly nowEpochMs: () => number;
}

export interface CallSpec<T> {
  /** Operation name for logs (`payment`, `otp.generate`, ...). */
  readonly op: string;
  readonly method: 'GET' | 'POST';
  readonly path: string;
  /** Serialised JSON; may contain card data (then a Buffer the caller zeroes after), so it is never logged. */
  readonly body?: string | Uint8Array;
  readonly headers?: Readonly<Record<string, string>>;
  readonly timeoutMs: number;
  readonly schema: z.ZodType<T>;
  /**
   * `bypass`: do not ask the breaker (used only by the status query that settles a payment whose
   * outcome is unknown: refusing it would leave a possible charge unresolved). Default `gate`.
   */
  readonly breaker?: 'gate' | 'bypass';
}

const MAX_BODY_CHARS = 64 * 1024;
const NOT_SENT = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH', 'ENETUNREACH']);
const BREAKER_FAILURES = new Set<ProviderErrorCode>(['timeout', 'network', 'unreachable', 'server-error', 'bad-response']);

const LOOPBACK = /^(127(?:\.\d{1,3}){3}|\[::1\]|localhost)$/i;

/**
 * Card data and OTPs travel over HTTPS; plain HTTP only to a loopback provider (the embedded demo
 * provider) or when the operator opts in explicitly (docs/security.md: "always over HTTPS outside demo mode").
 */
export function assertSafeBaseUrl(baseUrl: string, allowPlainHttp: boolean, provider: string): URL {
  const url = new URL(baseUrl);
  if (url.protocol === 'https:') return url;
  if (url.protocol === 'http:' && (allowPlainHttp || LOOPBACK.test(url.hostname))) return url;
  throw new ProviderError('insecure-transport', false, { provider });
}

function errorCode(text: string): string | undefined {
  try {
    const v: unknown = JSON.parse(text);
    if (typeof v === 'object' && v !== null && 'error' in v) {
      const e = (v as { error: unknown }).error;
      if (typeof e === 'object' && e !== null && 'code' in e) {
        const c = (e as { code: unknown }).code;
        if (typeof c === 'string' && /^[a-z0-9-]{1,64}$/.test(c)) return c;
      }
    }
  } catch {
    // not JSON: no provider code
  }
  return undefined;
}

function errorForStatus(ep: HttpEndpoint, status: number, text: string, retryAfter: string | null): ProviderError {
  const base = { provider: ep.name, status, providerCode: errorCode(text) };
  if (status >= 500) return new ProviderError('server-error', true, base);
  if (status === 429) {
    const retryAfterMs = parseRetryAfter(retryAfter, ep.nowEpochMs());
    return new ProviderError('rate-limited', true, retryAfterMs === undefined ? base : { ...base, retryAfterMs });
  }
  if (status === 404) return new ProviderError('not-found', false, base);
  if (status === 409) return new ProviderError('conflict', false, base);
  return new ProviderError('rejected', false, base);
}

function fetchFailure(ep: HttpEndpoint, err: unknown, timedOut: boolean): ProviderError {
  if (timedOut) return new ProviderError('timeout', true, { provider: ep.name });
  const code = (err as { cause?: { code?: unknown } } | undefined)?.cause?.code;
  if (typeof code === 'string' && NOT_SENT.has(code)) return new ProviderError('unreachable', true, { provider: ep.name });
  return new ProviderError('network', true, { provider: ep.name });
}

async function exchange<T>(ep: HttpEndpoint, spec: CallSpec<T>): Promise<{ status: number; data: T }> {
  const controller = new AbortController();
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    controller.abort();
  }, spec.timeoutMs);
  try {
    let res: Response;
    let text: string;
    try {
      const headers: Record<string, string> = { accept: 'application/json', 'user-agent': 'tonegate', ...spec.headers, ...ep.credentialHeaders };
      if (spec.body !== undefined) headers['content-type'] = 'application/json';
      if (ep.apiKey) headers.authorization = `Bearer ${ep.apiKey}`;
      res = await ep.fetch(`${ep.baseUrl.replace(/\/+$/, '')}${spec.path}`, {
        method: spec.method,
        headers,
        // A Buffer body is a valid BodyInit at run time; the DOM typings only name ArrayBuffer-backed views.
        body: (spec.body ?? null) as BodyInit | null,
        signal: controller.signal,
        redirect: 'manual',
      });
      text = await res.text(); // still under the timeout
    } catch (err) {
      throw fetchFailure(ep, err, timedOut);
    }
    if (res.status < 200 || res.status > 299) throw errorForStatus(ep, res.status, text, res.headers.get('retry-after'));
    let json: unknown;
    try {
      if (text.length > MAX_BODY_CHARS) throw new Error('too long');
      json = JSON.parse(text);
    } catch {
      throw new ProviderError('bad-response', false, { provider: ep.name, status: res.status });
    }
    const parsed = spec.schema.safeParse(json);
    if (!parsed.success) {
      // Paths and issue codes only: zod messages can quote received values.
      const issues = parsed.error.issues.slice(0, 5).map((i) => `${i.path.join('.') || '(root)'}:${i.code}`);
      ep.logger.warn({ op: spec.op, status: res.status, issues }, 'provider answer failed validation');
      throw new ProviderError('bad-response', false, { provider: ep.name, status: res.status });
    }
    return { status: res.status, data: parsed.data };
  } finally {
    clearTimeout(timer);
  }
}

/**
 * One HTTP exchange with a provider: breaker gate, AbortController timeout covering headers and
 * body, HTTP status mapped to {@link ProviderError}, 2xx body parsed with zod at the edge. Logs
 * operation, status and duration only.
 */
export async function callJson<T>(ep: HttpEndpoint, spec: CallSpec<T>): Promise<T> {
  const ticket: BreakerTicket | null = spec.breaker === 'bypass' ? null : ep.breaker.acquire();
  const started = performance.now();
  try {
    const { status, data } = await exchange(ep, spec);
    if (ticket) ep.breaker.success(ticket);
    ep.logger.debug({ op: spec.op, status, ms: Math.round(performance.now() - started) }, 'provider call');
    return data;
  } catch (err) {
    const pe = err instanceof ProviderError ? err : new ProviderError('network', true, { provider: ep.name, cause: err });
    if (ticket) {
      if (BREAKER_FAILURES.has(pe.code)) ep.breaker.failure(ticket);
      else ep.breaker.success(ticket); // a 4xx/429 answer proves the provider is up
    }
    ep.logger.warn(
      { op: spec.op, code: pe.code, status: pe.status, providerCode: pe.providerCode, ms: Math.round(performance.now() - started) },
      'provider call failed',
    );
    throw pe;
  }
}

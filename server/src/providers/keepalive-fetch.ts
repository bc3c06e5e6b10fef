/**
 * fetch() over node:http / node:https through one keep-alive agent per client, so calls to the
 * payment provider reuse their TCP (and TLS) connections instead of paying a handshake per call
 * (RFC 9112 §9.3 persistent connections). The TLS settings are independent: `ca` alone trusts a
 * provider whose server certificate comes from a private CA (PAYMENT_TLS_CA_FILE); `cert` + `key`
 * make it the mutual-TLS client (PAYMENT_TLS_CERT_FILE / PAYMENT_TLS_KEY_FILE; RFC 8446 §4.4.2
 * client Certificate), and then only https: URLs are allowed. Certificate checks of the server
 * stay on: against the system CAs, or against `ca` only (Node's `ca` option replaces the system
 * CAs, it does not add to them: https://nodejs.org/api/tls.html#tlscreatesecurecontextoptions).
 *
 * It is the small subset of fetch the provider clients use: method, headers, a string or bytes
 * body, AbortSignal, status, headers and text of the answer; redirects are never followed (the
 * clients ask for `redirect: 'manual'`). `close()` destroys the pooled sockets (gateway close).
 */
import { Agent as HttpAgent, request as httpRequest } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';
import type { FetchFn } from './http.js';

/** TLS settings towards one origin; each optional, but `cert` and `key` go together. */
export interface ProviderTls {
  /** Client certificate (PEM) for mutual TLS, with `key`. */
  cert?: string | Buffer;
  /** Private key (PEM) of `cert`. */
  key?: string | Buffer;
  /**
   * The CA certificate(s) (PEM) the server's certificate must chain to. They REPLACE Node's
   * system CAs for this agent (tls.createSecureContext `ca`): a provider with a public certificate
   * is then refused unless its CA is in the bundle too.
   */
  ca?: string | Buffer;
}

export interface KeepAliveFetch {
  readonly fetch: FetchFn;
  /** Idempotent: closes the pooled connections; later calls open new ones. */
  close(): void;
}

/**
 * An idle pooled socket is closed after this long, below the 5 s keep-alive timeout of Node
 * servers (the demo provider) and of common proxies, so a call rarely meets a connection the
 * server is closing. Node's agent also honours a `Keep-Alive: timeout=` the server sends.
 */
export const IDLE_SOCKET_MS = 4_000;

export function keepAliveFetch(tls: ProviderTls = {}): KeepAliveFetch {
  if (!tls.cert !== !tls.key) throw new TypeError(`keepAliveFetch: mutual TLS needs both cert and key (${tls.cert ? 'key' : 'cert'} missing)`);
  const client = !!tls.cert;
  const common = { keepAlive: true, timeout: IDLE_SOCKET_MS, scheduling: 'lifo' as const };
  const http = client ? undefined : new HttpAgent(common);
  const https = new HttpsAgent({
    ...common,
    minVersion: 'TLSv1.2',
    ...(tls.cert && tls.key ? { cert: tls.cert, key: tls.key } : {}),
    ...(tls.ca ? { ca: tls.ca } : {}),
  });
  const f = (input: string | URL | Request, init: RequestInit = {}): Promise<Response> =>
    new Promise<Response>((resolve, reject) => {
      const url = new URL(input instanceof Request ? input.url : String(input));
      const secure = url.protocol === 'https:';
      if (!secure && (client || url.protocol !== 'http:')) {
        return reject(new TypeError('fetch failed', { cause: { code: client ? 'ERR_MTLS_NEEDS_HTTPS' : 'ERR_UNSUPPORTED_PROTOCOL' } }));
      }
      const headers: Record<string, string> = {};
      new Headers(init.headers).forEach((v, k) => (headers[k] = v));
      const body = init.body;
      if (body !== undefined && body !== null && typeof body !== 'string' && !(body instanceof Uint8Array)) {
        return reject(new TypeError('keepAliveFetch: only string or byte bodies'));
      }
      if (body !== undefined && body !== null) headers['content-length'] = String(Buffer.byteLength(body));
      const opts = { method: init.method ?? 'GET', headers, ...(init.signal ? { signal: init.signal } : {}) };
      const onResponse = (res: import('node:http').IncomingMessage): void => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('error', (err) => reject(new TypeError('fetch failed', { cause: err })));
        res.on('end', () => {
          const h = new Headers();
          for (const [k, v] of Object.entries(res.headers)) if (v !== undefined) h.set(k, Array.isArray(v) ? v.join(', ') : v);
          const status = res.statusCode ?? 502;
          resolve(new Response(status === 204 || status === 304 ? null : Buffer.concat(chunks), { status, headers: h }));
        });
      };
      const req = secure ? httpsRequest(url, { ...opts, agent: https }, onResponse) : httpRequest(url, { ...opts, agent: http! }, onResponse);
      // Like undici: an abort rejects with the AbortError itself; other failures as "fetch failed" with a cause.
      req.on('error', (err) => reject(init.signal?.aborted ? err : new TypeError('fetch failed', { cause: err })));
      // The agent's idle timeout also fires on a busy socket: the call's own deadline (AbortSignal) governs it.
      req.on('timeout', () => undefined);
      if (body !== undefined && body !== null) req.write(body);
      req.end();
    });
  return {
    fetch: f as FetchFn,
    close: () => {
      http?.destroy();
      https.destroy();
    },
  };
}

/**
 * One fetch over several agents, chosen by the URL's origin (RFC 6454): a request to an origin in
 * `routes` goes through that origin's fetch (a provider's agent, with its CA and client
 * certificate), any other through `otherwise` (the system CAs).
 */
export function fetchByOrigin(routes: ReadonlyMap<string, FetchFn>, otherwise: FetchFn): FetchFn {
  const f = (input: string | URL | Request, init?: RequestInit): Promise<Response> => {
    let origin: string | undefined;
    try {
      origin = new URL(input instanceof Request ? input.url : String(input)).origin;
    } catch {
      origin = undefined; // the chosen fetch refuses it
    }
    return ((origin !== undefined && routes.get(origin)) || otherwise)(input, init);
  };
  return f as FetchFn;
}

/**
 * fetch() over node:https with a client certificate, for a provider that wants mutual TLS
 * (PAYMENT_TLS_CERT_FILE / PAYMENT_TLS_KEY_FILE; RFC 8446 §4.4.2 client Certificate). Node's global
 * fetch takes no client certificate without the undici package, so this is the small subset the
 * provider clients use: method, headers, a string or bytes body, AbortSignal, status, headers and
 * text of the answer. Certificate checks of the server stay on (the system CAs, or `ca`).
 */
import { Agent, request } from 'node:https';
import type { FetchFn } from './http.js';

export interface ClientCertificate {
  cert: string | Buffer;
  key: string | Buffer;
  /** Extra CA certificates to trust for the provider (PEM). */
  ca?: string | Buffer;
}

export function mtlsFetch(client: ClientCertificate): FetchFn {
  const agent = new Agent({ cert: client.cert, key: client.key, ...(client.ca ? { ca: client.ca } : {}), keepAlive: true, minVersion: 'TLSv1.2' });
  const f = (input: string | URL | Request, init: RequestInit = {}): Promise<Response> =>
    new Promise<Response>((resolve, reject) => {
      const url = new URL(input instanceof Request ? input.url : String(input));
      if (url.protocol !== 'https:') return reject(new TypeError('fetch failed', { cause: { code: 'ERR_MTLS_NEEDS_HTTPS' } }));
      const headers: Record<string, string> = {};
      new Headers(init.headers).forEach((v, k) => (headers[k] = v));
      const body = init.body;
      if (body !== undefined && body !== null && typeof body !== 'string' && !(body instanceof Uint8Array)) {
        return reject(new TypeError('mtlsFetch: only string or byte bodies'));
      }
      if (body !== undefined && body !== null) headers['content-length'] = String(Buffer.byteLength(body));
      const req = request(url, { method: init.method ?? 'GET', headers, agent, ...(init.signal ? { signal: init.signal } : {}) }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('error', (err) => reject(new TypeError('fetch failed', { cause: err })));
        res.on('end', () => {
          const h = new Headers();
          for (const [k, v] of Object.entries(res.headers)) if (v !== undefined) h.set(k, Array.isArray(v) ? v.join(', ') : v);
          const status = res.statusCode ?? 502;
          resolve(new Response(status === 204 || status === 304 ? null : Buffer.concat(chunks), { status, headers: h }));
        });
      });
      // Like undici: an abort rejects with the AbortError itself; other failures as "fetch failed" with a cause.
      req.on('error', (err) => reject(init.signal?.aborted ? err : new TypeError('fetch failed', { cause: err })));
      if (body !== undefined && body !== null) req.write(body);
      req.end();
    });
  return f as FetchFn;
}

import type { FetchFn } from '../../../src/providers/http.js';

/** A scripted answer: a response, a connection error, or never (until the caller aborts). */
export type Scripted =
  | { status: number; body?: unknown; headers?: Record<string, string> }
  | { error: 'refused' | 'reset' }
  | { hang: true };

export interface SeenRequest {
  url: string;
  method: string;
  headers: Record<string, string>;
  /** The body as sent (a copy taken at send time, as the wire would have it). */
  body: string | undefined;
  /** The body object itself when it was bytes (to check it is zeroed afterwards). */
  raw: Uint8Array | undefined;
}

/**
 * A fetch stand-in for pure unit tests: answers from `script` in order (the last one repeats).
 * Honours the AbortSignal like undici does.
 */
export function fakeFetch(route: (req: SeenRequest, n: number) => Scripted): { fetch: FetchFn; seen: SeenRequest[] } {
  const seen: SeenRequest[] = [];
  const fetch = (async (input: string | URL | Request, init?: RequestInit) => {
    const headers: Record<string, string> = {};
    new Headers(init?.headers).forEach((v, k) => (headers[k] = v));
    const req: SeenRequest = {
      url: String(input),
      method: init?.method ?? 'GET',
      headers,
      body: typeof init?.body === 'string' ? init.body : init?.body instanceof Uint8Array ? Buffer.from(init.body).toString('utf8') : undefined,
      raw: init?.body instanceof Uint8Array ? init.body : undefined,
    };
    seen.push(req);
    const s = route(req, seen.length);
    const signal = init?.signal;
    if ('hang' in s) {
      return new Promise<Response>((_resolve, reject) => {
        signal?.addEventListener('abort', () => reject(new DOMException('This operation was aborted', 'AbortError')));
      });
    }
    if ('error' in s) {
      throw new TypeError('fetch failed', { cause: { code: s.error === 'refused' ? 'ECONNREFUSED' : 'ECONNRESET' } });
    }
    const text = s.body === undefined ? '' : typeof s.body === 'string' ? s.body : JSON.stringify(s.body);
    return new Response(s.status === 204 ? null : text, { status: s.status, headers: { 'content-type': 'application/json', ...s.headers } });
  }) as FetchFn;
  return { fetch, seen };
}

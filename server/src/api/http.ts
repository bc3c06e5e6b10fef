import { createServer, type Server } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import { Server as TlsServer } from 'node:tls';
import express, { type Express, type NextFunction, type Request, type Response } from 'express';

export interface HealthSource {
  health(): { status: 'ok' | 'degraded'; details: Record<string, unknown> };
}

/** HTTPS (and so WSS on `/sip` and `/events`) with this certificate; renewed with `server.setSecureContext()`. */
export interface HttpTls {
  cert: Buffer;
  key: Buffer;
}

/** RFC 8996: no TLS 1.0/1.1 (PCI DSS 4.2.1, strong cryptography). */
export const HTTPS_MIN_VERSION = 'TLSv1.2' as const;
/** RFC 6797 6.1: browsers keep to HTTPS for a year once they saw the header over HTTPS. */
export const HSTS = 'max-age=31536000';

/**
 * The HTTP server: REST under /api, /healthz and the pages are mounted once the parts they serve exist
 * (wiring/http-app.ts). WebSocket endpoints (/sip, /events)
 * attach to the same server through its 'upgrade' event. With `tls` it is an HTTPS server (TLS 1.2+)
 * that sends HSTS (RFC 6797) on every answer.
 */
export function createHttp(tls?: HttpTls): { app: Express; server: Server } {
  const app = express();
  app.disable('x-powered-by');
  if (tls) {
    app.use((_req, res, next) => {
      res.setHeader('Strict-Transport-Security', HSTS);
      next();
    });
  }
  // Answers about sessions, tokens and agents must never sit in a browser or proxy cache (docs/security.md).
  app.use('/api', (_req, res, next) => {
    res.set('Cache-Control', 'no-store');
    next();
  });
  // An https.Server is an http.Server over TLS (same events, 'upgrade' included): the WebSocket
  // endpoints attach to it unchanged and become wss:.
  const server: Server = tls ? createHttpsServer({ cert: tls.cert, key: tls.key, minVersion: HTTPS_MIN_VERSION }, app) : createServer(app);
  // Slow-loris protection for plain HTTP; WebSocket connections are governed by their own idle limits.
  server.headersTimeout = 10_000;
  server.requestTimeout = 30_000;
  return { app, server };
}

/**
 * `GET /healthz`: 200 when `ok`, else 503 (mounted first, before any router). The body names the
 * reasons and counts (calls, registrations, ports, collectors) only where `details(req)` allows: a
 * production gateway keeps them from anonymous callers (docs/security.md, "Production mode").
 */
export function healthRoute(app: Express, health: HealthSource, details: (req: Request) => boolean = () => true): void {
  app.get('/healthz', (req, res) => {
    const h = health.health();
    res.status(h.status === 'ok' ? 200 : 503).json(details(req) ? h : { status: h.status });
  });
}

/**
 * A renewed certificate for an HTTPS server: connections accepted from now on use it, open ones
 * (WebSockets included) keep theirs. Returns false for a plain HTTP server.
 */
export function renewHttpsCredentials(server: Server, tls: HttpTls): boolean {
  if (!(server instanceof TlsServer)) return false;
  server.setSecureContext({ cert: tls.cert, key: tls.key, minVersion: HTTPS_MIN_VERSION });
  return true;
}

export function listen(server: Server, port: number, host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      const a = server.address();
      resolve(typeof a === 'object' && a ? a.port : port);
    });
  });
}

/**
 * Installs the last handlers: unknown /api paths get a JSON 404, malformed JSON a 400 naming the
 * problem, anything else a 500 without internals (logged by the caller's `onError`).
 */
export function finishApp(app: Express, onError: (err: unknown) => void): void {
  app.use('/api', (_req, res) => {
    res.status(404).json({ error: 'not-found', message: 'no such endpoint' });
  });
  app.use((err: unknown, _req: Request, res: Response, _next: NextFunction) => {
    const e = err as { type?: string; status?: number };
    if (e?.type === 'entity.parse.failed') {
      res.status(400).json({ error: 'bad-request', message: 'the body is not valid JSON' });
      return;
    }
    if (e?.type === 'entity.too.large') {
      res.status(413).json({ error: 'too-large', message: 'the body is too large' });
      return;
    }
    onError(err);
    res.status(500).json({ error: 'internal', message: 'internal error' });
  });
}

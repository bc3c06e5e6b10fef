import { createServer, type Server } from 'node:http';
import express, { type Express, type NextFunction, type Request, type Response } from 'express';

export interface HealthSource {
  health(): { status: 'ok' | 'degraded' | 'starting'; details: Record<string, unknown> };
}

/**
 * The HTTP server: REST under /api, /healthz, static pages later. WebSocket endpoints (/sip, /events)
 * attach to the same server through its 'upgrade' event.
 */
export function createHttp(health: HealthSource): { app: Express; server: Server } {
  const app = express();
  app.disable('x-powered-by');
  // Answers about sessions, tokens and agents must never sit in a browser or proxy cache (docs/security.md).
  app.use('/api', (_req, res, next) => {
    res.set('Cache-Control', 'no-store');
    next();
  });
  app.get('/healthz', (_req, res) => {
    const h = health.health();
    res.status(h.status === 'ok' ? 200 : 503).json(h);
  });
  const server = createServer(app);
  // Slow-loris protection for plain HTTP; WebSocket connections are governed by their own idle limits.
  server.headersTimeout = 10_000;
  server.requestTimeout = 30_000;
  return { app, server };
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

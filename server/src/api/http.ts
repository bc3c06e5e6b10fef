import { createServer, type Server } from 'node:http';
import express, { type Express } from 'express';

export interface HealthSource {
  health(): { status: 'ok' | 'degraded'; details: Record<string, unknown> };
}

/**
 * The HTTP server: REST under /api, /healthz, static pages later. WebSocket endpoints (/sip, /events)
 * attach to the same server through its 'upgrade' event.
 */
export function createHttp(health: HealthSource): { app: Express; server: Server } {
  const app = express();
  app.disable('x-powered-by');
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

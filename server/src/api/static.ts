import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import express, { type Response, type Router } from 'express';

/**
 * The browser pages (design.md, "External contract"): `/agent` (the agent widget), `/phone` (the
 * demo customer phone), `/supervisor` (the supervisor dashboard) and `/agent-jssip` (a minimal JsSIP agent, interop), built by `scripts/build-widget.mjs` into `agent-widget/dist/`, and
 * `GET /api/widget-config`, the little the pages need to know about the gateway.
 *
 * Caching: the HTML is `no-cache` (always revalidated, so a new build is picked up at once); the
 * bundles and stylesheets have a content hash in their names and are `immutable` for a year.
 */
export interface StaticOptions {
  /** The build output (`agent-widget/dist`). */
  distDir: string;
  /** The gateway's SIP domain (config `SIP_HOST`): agents are `sip:<id>@<sipHost>`. */
  sipHost: string;
  /** Origins allowed to frame `/agent` and prefill it by postMessage (config `WIDGET_EMBED_ORIGINS`). */
  embedOrigins: readonly string[];
  /** Demo mode: the phone page shows the SMS inbox (`GET /demo/sms`). */
  demo: boolean;
}

/** What `GET /api/widget-config` answers (agent-widget/src/ui/config.ts reads it). */
export interface WidgetConfig {
  sipHost: string;
  sipPath: '/sip';
  eventsPath: '/events';
  loginPath: '/api/agents/login';
  embedOrigins: readonly string[];
  demo: boolean;
}

const PAGES = { '/agent': 'agent.html', '/phone': 'phone.html', '/supervisor': 'supervisor.html', '/agent-jssip': 'agent-jssip.html' } as const;

/** Content-Security-Policy of a page: only our own scripts, styles and sockets. */
export function contentSecurityPolicy(frameAncestors: readonly string[]): string {
  return [
    "default-src 'none'",
    "script-src 'self'",
    "style-src 'self'",
    "img-src 'self' data:",
    "font-src 'self'",
    // 'self' covers ws:/wss: to the same host in CSP Level 3; listed anyway for older engines.
    "connect-src 'self' ws: wss:",
    "media-src 'self' blob: mediastream:",
    "base-uri 'none'",
    "form-action 'none'",
    `frame-ancestors ${["'self'", ...frameAncestors].join(' ')}`,
  ].join('; ');
}

function securityHeaders(res: Response, csp: string): void {
  res.setHeader('Content-Security-Policy', csp);
  res.setHeader('X-Content-Type-Options', 'nosniff');
  res.setHeader('Referrer-Policy', 'no-referrer');
  // Microphone for the softphones; nothing else.
  res.setHeader('Permissions-Policy', 'microphone=(self), camera=(), geolocation=(), payment=()');
}

export function staticRouter(opts: StaticOptions): Router {
  const router = express.Router();
  const csp = contentSecurityPolicy(opts.embedOrigins);
  const config: WidgetConfig = {
    sipHost: opts.sipHost,
    sipPath: '/sip',
    eventsPath: '/events',
    loginPath: '/api/agents/login',
    embedOrigins: opts.embedOrigins,
    demo: opts.demo,
  };

  router.get('/api/widget-config', (_req, res) => {
    res.setHeader('Cache-Control', 'no-store'); // like every /api answer (docs/security.md)
    res.json(config);
  });

  for (const [path, file] of Object.entries(PAGES)) {
    router.get(path, (_req, res) => {
      securityHeaders(res, csp);
      const html = join(opts.distDir, file);
      if (!existsSync(html)) {
        res.status(503).type('text/plain').send('The widget is not built: run `node scripts/build-widget.mjs` (npm start does it).\n');
        return;
      }
      res.setHeader('Cache-Control', 'no-cache');
      res.type('html').send(readFileSync(html));
    });
  }

  router.use(
    '/assets',
    express.static(join(opts.distDir, 'assets'), {
      index: false,
      setHeaders: (res) => {
        securityHeaders(res, csp);
        res.setHeader('Cache-Control', 'public, max-age=31536000, immutable');
      },
    }),
  );
  // A missing asset is a plain 404 (not the app's JSON error handler).
  router.use('/assets', (_req, res) => {
    res.status(404).type('text/plain').send('Not found\n');
  });
  return router;
}

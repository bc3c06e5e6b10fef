import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import express, { type Response, type Router } from 'express';
import type { PromptLanguage } from '../contract/events.js';

/**
 * The browser pages (docs/architecture.md, "External contract"): `/agent` (the agent widget), `/phone` (the
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
  /** Serve the demo pages `/phone` and `/agent-jssip` (default true; production does not). */
  demoPages?: boolean;
  /** Prompt languages the Pay by phone form offers (config `PROMPT_LANGUAGES`); default English only. */
  languages?: readonly PromptLanguage[];
  /** The one preselected (config `DEFAULT_LANGUAGE`); default the first offered. */
  defaultLanguage?: PromptLanguage;
  /** Serve the bundles' source maps (`/assets/*.map`; default true; production does not, docs/security.md). */
  sourceMaps?: boolean;
  /**
   * The agents' SIP WebSocket URL (config `SIP_WS_URL`, checked there): the widget registers on it
   * instead of `/sip`, and the pages' `connect-src` adds its origin. Unset: `/sip` on this gateway.
   */
  sipWsUrl?: string;
}

/** What `GET /api/widget-config` answers (agent-widget/src/ui/config.ts reads it). */
export interface WidgetConfig {
  sipHost: string;
  sipPath: '/sip';
  /** With SIP_WS_URL: where the widget's SIP WebSocket goes instead of `sipPath` (absent otherwise, as from older gateways). */
  sipWsUrl?: string;
  eventsPath: '/events';
  loginPath: '/api/agents/login';
  embedOrigins: readonly string[];
  demo: boolean;
  /** Prompt languages to offer for the customer, in order; `defaultLanguage` is preselected. */
  languages: readonly PromptLanguage[];
  defaultLanguage: PromptLanguage;
}

const PAGES = { '/agent': 'agent.html', '/phone': 'phone.html', '/supervisor': 'supervisor.html', '/agent-jssip': 'agent-jssip.html' } as const;

/**
 * Content-Security-Policy of a page: only our own scripts, styles and sockets. `connect-src` is the
 * gateway's own origin: 'self' (which covers ws:/wss: to the same host in CSP Level 3) and, for
 * engines before that, the WebSocket origin of the page's own host (`wss://` over HTTPS), never
 * any ws:/wss: host. `host` is the request's Host header; one that is not a plain host[:port] adds
 * nothing. `sipWsUrl` (config SIP_WS_URL) adds exactly that URL's origin (scheme, host, port; a
 * CSP 3 source expression without a path matches any path there), nothing broader.
 */
export function contentSecurityPolicy(frameAncestors: readonly string[], page?: { host: string | undefined; secure: boolean }, sipWsUrl?: string): string {
  const host = page?.host && /^(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9.-]+)(:\d{1,5})?$/.test(page.host) ? page.host.toLowerCase() : undefined;
  const socketOrigin = host ? ` ${page!.secure ? 'wss' : 'ws'}://${host}` : '';
  const sip = sipWsOrigin(sipWsUrl);
  const sipOrigin = sip && sip !== socketOrigin.trim() ? ` ${sip}` : '';
  return [
    "default-src 'none'",
    "script-src 'self'",
    "style-src 'self'",
    "img-src 'self' data:",
    "font-src 'self'",
    `connect-src 'self'${socketOrigin}${sipOrigin}`,
    "media-src 'self' blob: mediastream:",
    "base-uri 'none'",
    "form-action 'none'",
    `frame-ancestors ${["'self'", ...frameAncestors].join(' ')}`,
  ].join('; ');
}

/** `ws://host:port` of a ws:/wss: URL (URL.origin; the default port left out), undefined for anything else. */
function sipWsOrigin(url: string | undefined): string | undefined {
  if (!url) return undefined;
  try {
    const u = new URL(url);
    return (u.protocol === 'ws:' || u.protocol === 'wss:') && u.hostname ? u.origin : undefined;
  } catch {
    return undefined;
  }
}

function securityHeaders(res: Response, frameAncestors: readonly string[], sipWsUrl: string | undefined): void {
  const req = res.req;
  res.setHeader('Content-Security-Policy', contentSecurityPolicy(frameAncestors, { host: req.headers.host, secure: req.secure }, sipWsUrl));
  res.setHeader('X-Content-Type-Options', 'nosniff');
  res.setHeader('Referrer-Policy', 'no-referrer');
  // Microphone for the softphones; nothing else.
  res.setHeader('Permissions-Policy', 'microphone=(self), camera=(), geolocation=(), payment=()');
}

export function staticRouter(opts: StaticOptions): Router {
  const router = express.Router();
  const config: WidgetConfig = {
    sipHost: opts.sipHost,
    sipPath: '/sip',
    ...(opts.sipWsUrl ? { sipWsUrl: opts.sipWsUrl } : {}),
    eventsPath: '/events',
    loginPath: '/api/agents/login',
    embedOrigins: opts.embedOrigins,
    demo: opts.demo,
    languages: opts.languages ?? ['en'],
    defaultLanguage: opts.defaultLanguage ?? opts.languages?.[0] ?? 'en',
  };

  router.get('/api/widget-config', (_req, res) => {
    res.setHeader('Cache-Control', 'no-store'); // like every /api answer (docs/security.md)
    res.json(config);
  });

  const demoOnly = new Set(['/phone', '/agent-jssip']);
  for (const [path, file] of Object.entries(PAGES)) {
    if (opts.demoPages === false && demoOnly.has(path)) continue;
    router.get(path, (_req, res) => {
      securityHeaders(res, opts.embedOrigins, opts.sipWsUrl);
      const html = join(opts.distDir, file);
      if (!existsSync(html)) {
        res.status(503).type('text/plain').send('The widget is not built: run `node scripts/build-widget.mjs` (npm start does it).\n');
        return;
      }
      res.setHeader('Cache-Control', 'no-cache');
      res.type('html').send(readFileSync(html));
    });
  }

  // Production serves no source maps: a request for one is 404 like any file that is not there.
  if (opts.sourceMaps === false) router.get(/^\/assets\/.*\.map$/, (_req, res) => void res.status(404).type('text/plain').send('Not Found\n'));
  router.use(
    '/assets',
    express.static(join(opts.distDir, 'assets'), {
      index: false,
      setHeaders: (res) => {
        securityHeaders(res, opts.embedOrigins, opts.sipWsUrl);
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

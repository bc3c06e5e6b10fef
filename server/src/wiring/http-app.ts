import { createServer, type Server } from 'node:http';
import { fileURLToPath } from 'node:url';
import express, { type Express } from 'express';
import { agentsRouter } from '../api/agents.js';
import { bearer, refreshBearer, sameSecret } from '../api/auth.js';
import { handoffsRouter, sipHostPort } from '../api/handoffs.js';
import { finishApp, healthRoute, listen, type HealthSource } from '../api/http.js';
import { sessionsRouter } from '../api/sessions.js';
import { staticRouter } from '../api/static.js';
import { supervisorsRouter } from '../api/supervisors.js';
import { smsFieldLimits, type Payments } from '../calls/payment/setup.js';
import { smsTemplates } from '../calls/payment/sms-setup.js';
import type { Config } from '../config/schema.js';
import type { PaymentAdmission } from '../handoff/admission.js';
import type { AuditLog } from '../observability/audit.js';
import type { Logger } from '../observability/logger.js';
import type { Metrics } from '../observability/metrics.js';
import type { SignInLockout } from '../security/lockout.js';
import type { SessionStore } from '../store/index.js';
import type { Access } from './access.js';
import { auditHttp } from './audit.js';
import { metricsRouter } from './metrics.js';
import type { Routing } from './routing.js';

/**
 * The HTTP API and pages on the main listener (README, "HTTP API"), mounted once every part they
 * serve exists. Order matters: shared tokens are refreshed and every request audited before the
 * routers; the last handlers answer unknown paths and errors (api/http.ts finishApp).
 */
export function mountRoutes(app: Express, o: {
  readonly config: Config;
  readonly logger: Logger;
  readonly access: Access;
  readonly audit: AuditLog;
  readonly metrics: Metrics;
  readonly store: SessionStore;
  readonly payments: Payments;
  readonly routing: Routing;
  readonly admission: PaymentAdmission;
  readonly lockout: SignInLockout;
  readonly health: HealthSource;
  /** The SIP UDP port bound (SIP_PORT 0 picks one). */
  readonly sipPort: number;
}): void {
  const { config, access, payments, routing } = o;
  const production = config.TONEGATE_MODE === 'production';
  const privileged = (t: string | undefined): boolean =>
    t !== undefined && ((config.METRICS_TOKEN !== undefined && sameSecret(t, config.METRICS_TOKEN)) || access.resolveToken(t)?.kind === 'supervisor');
  // Production: the counts and reasons of /healthz for METRICS_TOKEN or a supervisor only (a load
  // balancer needs the status code alone); the internal listener shows them to anyone who reaches it.
  healthRoute(app, o.health, production ? (req) => privileged(bearer(req)) : undefined);
  app.use(refreshBearer(access.refresh), auditHttp(o.audit, access.resolveToken)); // shared tokens first; audit before the routers it records
  // Production serves /metrics on the main port only with METRICS_TOKEN; the internal listener
  // (METRICS_HOST:METRICS_PORT, openMetricsListener) needs none (docs/security.md, "Production mode").
  app.use(metricsRouter(o.metrics, { ...(config.METRICS_TOKEN ? { token: config.METRICS_TOKEN } : {}), served: !production || config.METRICS_TOKEN !== undefined }));
  app.use(sessionsRouter(o.store, access.resolveToken));
  // Demo mode only: the SMS the demo provider "sent" (GET /demo/sms); production does not mount it.
  if (!production) {
    app.get('/demo/sms', (_req, res) => {
      const demo = payments.demo;
      if (!demo) return void res.status(404).json({ error: 'not-found', message: 'the SMS inbox exists in demo mode only' });
      res.json({ messages: demo.smsMessages() });
    });
  }
  const api = routing.api.profile.api;
  app.use(handoffsRouter(routing.codes, access.resolveToken, {
    sipAuthority: () => sipHostPort(config.SIP_HOST, o.sipPort),
    requestUriPrefix: api.requestUriPrefix, codeFormat: api.codeFormat, formatChoice: api.formatChoice, pool: routing.pool,
    limits: { ...smsFieldLimits(smsTemplates(config.sms, { defaultLanguage: config.DEFAULT_LANGUAGE, receipts: config.RECEIPT_SMS === 'on' })), languages: config.PROMPT_LANGUAGES },
    mobileAllowed: (m) => o.admission.mobileAllowed(m),
  }));
  // The agent widget and the demo phone (agent-widget/, built into agent-widget/dist by scripts/build-widget.mjs).
  app.use(staticRouter({
    distDir: fileURLToPath(new URL('../../../agent-widget/dist', import.meta.url)),
    sipHost: config.SIP_HOST,
    embedOrigins: config.WIDGET_EMBED_ORIGINS, languages: config.PROMPT_LANGUAGES, defaultLanguage: config.DEFAULT_LANGUAGE,
    demo: !config.PAYMENT_API_URL, demoPages: !production, sourceMaps: !production,
    ...(config.SIP_WS_URL ? { sipWsUrl: config.SIP_WS_URL } : {}), // the agents' SIP WebSocket proxy (README, "Agents across instances")
  }));
  app.use(agentsRouter(access.agentTokens, access.resolveToken, o.logger, o.lockout));
  app.use(supervisorsRouter(access.supervisors, o.logger));
  finishApp(app, (err) => o.logger.error({ err }, 'HTTP handler failed'));
}

/** `/metrics` and the full `/healthz` on METRICS_HOST:METRICS_PORT (no token: an internal address), or undefined when unset. */
export async function openMetricsListener(config: Config, metrics: Metrics, health: HealthSource): Promise<Server | undefined> {
  if (config.METRICS_HOST === undefined || config.METRICS_PORT === undefined) return undefined;
  const internal = express();
  internal.disable('x-powered-by');
  healthRoute(internal, health);
  internal.use(metricsRouter(metrics));
  const server = createServer(internal);
  await listen(server, config.METRICS_PORT, config.METRICS_HOST);
  return server;
}

/** Closes an HTTP server with its open connections (WebSockets included). */
export async function closeServer(server: Server): Promise<void> {
  server.closeAllConnections();
  await new Promise<void>((r) => server.close(() => r()));
}

import { createServer, type Server } from 'node:http';
import express from 'express';
import { randomBytes } from 'node:crypto';
import { createHttp, finishApp, listen, renewHttpsCredentials } from './api/http.js';
import { sameSecret, type Principal } from './api/auth.js';
import { sessionsRouter } from './api/sessions.js';
import { handoffsRouter, sipHostPort } from './api/handoffs.js';
import { staticRouter } from './api/static.js';
// issue 5 part 4: agent login and the /events socket
import { AgentTokens, tokenKey } from './api/agent-tokens.js';
import { agentsRouter, refreshAgentTokens, sharedAgentAuth } from './api/agents.js';
import { EventHub } from './api/event-hub.js';
import { refuseUnknownUpgrades } from './api/upgrade.js';
// issue 6: audit trail and metrics
import { auditedControl, auditHttp, auditSessions } from './api/audit-wiring.js';
import { countCaptures, metricsRouter } from './api/metrics-wiring.js';
import type { AuditLog } from './observability/audit.js';
import { openAudit } from './observability/audit-open.js';
import { Metrics } from './observability/metrics.js';
import { createStoreBackend, RedisAgentAuth, RedisRegistrations, type EventBus, type SessionStore, type StoreBackend } from './store/index.js';
import { fileURLToPath } from 'node:url';
import { redisCredentials } from './store/redis-credentials.js';
import { createMediaPlane, type MediaPlane } from './media/plane.js';
import { createPayments, smsFieldLimits, type Payments } from './calls/payment/setup.js';
import { smsTemplates } from './calls/payment/sms-setup.js';
import { recordedLanguages } from './calls/payment/recorded-languages.js';
import { ConfigError } from './config/load.js';
import { PaymentCalls } from './calls/payment/entry.js';
import { loadNumberPlan, loadSipProfile, openHandoffStores, openSqlLookups, profileEnv as profileEnvOf } from './handoff/index.js';
import { planSettings } from './config/number-plan.js';
import { PaymentGate } from './calls/payment/gate.js';
import { InlinePayments } from './calls/payment/refer-entry.js';
import type { SessionEvent } from './capture/events.js';
import { InstanceTakeover } from './capture/takeover.js';
import { startAfterPayment, webhookSecret, type AfterPayment } from './outcomes/index.js';
import { parseSessionEvent } from './capture/event-schema.js';
import { CallManager } from './calls/call-manager.js';
import { RegistrarService } from './calls/registrar-service.js';
import { Registrar } from './calls/registrar/index.js';
import type { Config } from './config/schema.js';
import { systemClock, type Clock } from './lib/clock.js';
import type { Logger } from './observability/logger.js';
import { DigestAuthenticator, type DigestAlgorithm } from './sip/auth/index.js';
import { RegistrarLimits } from './sip/constants.js';
import { SipStack } from './sip/stack.js';
import { createTransportLayer } from './sip/transport/index.js';
import { credentialsFromSettings, trustedFingerprints, type TlsCredentials, type TlsMaterial } from './security/tls-credentials.js';
import { srtpPolicyFor, type SrtpPolicy } from './sdp/index.js';
// Trust boundary (docs/security.md): TRUSTED_PEERS, lockout, edge limits
import { trustConfigOf } from './security/trust-config.js';
import { pressure, wireTrust } from './api/trust-wiring.js';
import { SipEdgeGuard } from './sip/edge-guard.js';
import { SupervisorSessions, supervisorsRouter } from './api/supervisors.js';
import { originAllowed } from './api/upgrade.js';
import { TransportLimits } from './sip/constants.js';
import { wireLoad } from './api/load-wiring.js';
import type { LoadMonitor } from './calls/load/monitor.js';

export interface Gateway {
  config: Config;
  sip: SipStack;
  calls: CallManager;
  registrar: Registrar;
  http: Server;
  store: SessionStore;
  bus: EventBus<SessionEvent>;
  /** issue 6: memory or Redis (REDIS_URL), with the Redis connection state. */
  backend: StoreBackend<SessionEvent>;
  /** issue 6: `GET /metrics` and the audit trail (AUDIT_LOG). */
  metrics: Metrics;
  audit: AuditLog;
  media: MediaPlane;
  payments: Payments;
  paymentCalls: PaymentCalls;
  inlinePayments: InlinePayments;
  /** Merchant webhook (WEBHOOK_URL) and the reconciliation worker (outcomes/). */
  afterPayment: AfterPayment;
  /** Agent login tokens (POST /api/agents/login). */
  agentTokens: AgentTokens;
  /** The /events WebSocket. */
  events: EventHub;
  /** Bearer token for supervisors (config or generated for the demo). */
  supervisorToken: string;
  /** API key for POST /api/handoffs (config or generated for the demo). */
  handoffApiKey: string;
  httpPort: number;
  sipPort: number;
  /** SIP over TLS port; undefined when no certificate is configured. */
  sipTlsPort: number | undefined;
  /** The certificate in service (HTTPS, WSS, SIP over TLS); undefined when TLS is off. */
  tls: TlsCredentials | undefined;
  /**
   * Re-reads TLS_CERT_FILE/TLS_KEY_FILE (main.ts on SIGHUP): new connections get the renewed
   * certificate, open ones (calls, sockets) are kept. A bad pair is refused and the old one stays.
   */
  reloadCertificates(): TlsMaterial | undefined;
  close(): Promise<void>;
}

/** Composition root (design.md): config -> sip -> calls -> api. Used by main.ts and the tests. */
export async function startGateway(config: Config, logger: Logger, clock: Clock = systemClock): Promise<Gateway> {
  // The trust-boundary settings come from the one settings table like every other (config/schema.ts).
  const trust = trustConfigOf(config);
  if (config.WEBHOOK_URL) webhookSecret(config); // fail fast, before anything listens
  const promptsDir = config.PROMPTS_DIR ?? fileURLToPath(new URL('../prompts', import.meta.url));
  // Languages of recorded prompts (docs/operations.md): every clip there also before anything listens.
  const recorded = recordedLanguages(promptsDir, [...new Set([...config.PROMPT_LANGUAGES, config.DEFAULT_LANGUAGE])]);
  if (recorded.problems.length) throw new ConfigError(recorded.problems);
  const passwords = new Map(config.AGENTS.map((a) => [a.id, a.password]));
  const registrar = new Registrar({ clock, logger });
  const authenticator = new DigestAuthenticator({ realm: config.SIP_REALM, clock, nonceTtlMs: RegistrarLimits.NONCE_TTL_MS, secret: randomBytes(32) });

  // /healthz is served before the SIP side exists; it reads the parts as they come up.
  const parts: { calls?: CallManager; sip?: SipStack; payments?: Payments; events?: EventHub; media?: MediaPlane; paymentCalls?: PaymentCalls; load?: LoadMonitor; inline?: InlinePayments; ready?: boolean } = {};
  // issue 6: memory by default, Redis when REDIS_URL is set
  const backend = await createStoreBackend<SessionEvent>({
    redisUrl: config.REDIS_URL, ...redisCredentials(config), instanceId: config.INSTANCE_ID, logger, outageBuffer: config.REDIS_OUTAGE_BUFFER,
    onListenerError: (err) => logger.error({ err }, 'event bus: subscriber failed'),
    parseEvent: parseSessionEvent, // events from Redis are checked before they are relayed (docs/security.md)
  });
  const { store, bus } = backend;
  // issue 6: the audit trail and /metrics (sources read at scrape time, as the parts come up)
  const auditTrail = openAudit(config, logger);
  const { audit } = auditTrail;
  await auditSessions(audit, bus);
  const metrics = new Metrics({
    activeCalls: () => (parts.calls?.calls.size ?? 0) + (parts.paymentCalls?.live.size ?? 0),
    activeCaptures: () => parts.paymentCalls?.captures.size ?? 0,
    breakers: (): Record<string, string> => {
      const p = parts.payments;
      if (!p) return {};
      // One gauge per named provider: `payment` for the single provider `default` (calls/payment/providers-setup.ts).
      const named = Object.fromEntries([...p.providers.values()].map((n) => [n.name === 'default' ? 'payment' : n.name, n.client.breaker.state]));
      return { ...named, payment: p.payment.breaker.state, ...p.sms.breakerStates() };
    },
    rtp: async () => {
      const st = parts.media ? await parts.media.stats() : undefined;
      const out = { packetsIn: 0, packetsOut: 0, lost: 0, wrongSource: 0 };
      for (const w of st?.workers ?? []) {
        out.packetsIn += w.rtp?.packetsIn ?? 0;
        out.packetsOut += w.rtp?.packetsOut ?? 0;
        out.lost += w.rtp?.lost ?? 0;
        out.wrongSource += w.rtp?.wrongSource ?? 0;
      }
      return out;
    },
    mediaWorkerMemory: async () => ((parts.media ? await parts.media.stats() : undefined)?.workers ?? []).flatMap((w) => (w.alive && w.memory ? [{ worker: w.worker, memory: w.memory }] : [])),
    redis: () => {
      const r = backend.redis();
      return r && { up: r.state === 'up', bufferedEvents: r.bufferedEvents, droppedEvents: r.droppedEvents, pendingWrites: r.pendingWrites };
    },
    auditSyslog: () => auditTrail.syslog?.stats,
  });
  await countCaptures(metrics, bus, store);
  const { lockout, admission, refused } = wireTrust({ trust, audit, metrics, logger, claimOnce: backend.claimOnce });
  const registrarService = new RegistrarService(registrar, {
    realm: config.SIP_REALM,
    // Production offers SHA-256 only (docs/security.md; RFC 8760).
    algorithms: trust.mode === 'production' ? ['SHA-256'] : (config.SIP_DIGEST_ALGORITHMS as DigestAlgorithm[]),
    passwordOf: (id) => passwords.get(id),
    authenticator,
    logger,
    lockout,
    strict: trust.mode === 'production',
    ...(backend.shared ? { directory: { dir: new RedisRegistrations(backend.shared), signIn: new RedisAgentAuth(backend.shared), self: config.INSTANCE_ID } } : {}), // agents across instances (README, "Redis, metrics, audit")
  });
  const profilesDir = fileURLToPath(new URL('../../sip-profiles', import.meta.url));
  // The signing key and lookup database URL may come from <NAME>_FILE (config/load.ts); profiles read them by name.
  const profileEnv = profileEnvOf(config);
  const apiProfile = loadSipProfile(profilesDir, 'api', profileEnv);
  // The number plan: DIDs to pay (each with its profile), support or an agent, and the DID pool (README, "Routing").
  const { plan, profiles: named } = loadNumberPlan(config, profilesDir, profileEnv);
  // Handoff codes and DID reservations: in Redis with REDIS_URL, so any instance redeems them, once.
  const { codes, pool } = openHandoffStores({ redis: backend.shared, dids: plan.pool, poolTtlMs: config.ROUTING_DID_POOL_TTL_S * 1000, codeFormat: apiProfile.profile.api.codeFormat, clock });
  const supervisorToken = config.SUPERVISOR_TOKEN ?? randomBytes(18).toString('base64url');
  const handoffApiKey = config.HANDOFF_API_KEY ?? randomBytes(18).toString('base64url');
  // Logout closes the token's /events sockets (the hub exists once the SIP side is up).
  const agentTokens = new AgentTokens({ agents: config.AGENTS, onRevoked: (key) => parts.events?.revoked(key), lockout, ...sharedAgentAuth(backend.shared, logger) });
  // Named supervisors with TOTP and a 15-minute idle timeout (docs/security.md).
  const supervisors = new SupervisorSessions(trust.supervisors, lockout, undefined, undefined, { ...sharedAgentAuth(backend.shared, logger), claimOnce: backend.claimOnce });
  const resolveToken = (token: string): Principal | undefined => {
    if (sameSecret(token, supervisorToken) || supervisors.resolve(token) !== undefined) return { kind: 'supervisor' };
    if (sameSecret(token, handoffApiKey)) return { kind: 'handoff-client' };
    const agentId = agentTokens.resolve(token);
    return agentId !== undefined ? { kind: 'agent', agentId } : undefined;
  };
  // Encryption (docs/security.md): one certificate for HTTPS/WSS and SIP over TLS, or none.
  const tls = credentialsFromSettings({
    ...config,
    hosts: [config.SIP_HOST, config.HTTP_HOST],
    production: config.TONEGATE_MODE === 'production',
  });
  const trusted = trustedFingerprints(config.TRUSTED_PEERS.map((p) => p.text)); // for the SIP TLS transport: flow.tlsPeer.trusted
  if (tls) logger.info({ fingerprint: tls.current.fingerprint, subject: tls.current.subject, validTo: tls.current.validTo, selfSigned: !tls.reloadable }, 'tls certificate loaded');
  const { app, server } = createHttp({
    // `starting` (503) until every part is up: a client that waits for /healthz may then use
    // every path (/events, /sip) at once.
    health: () => {
      const redis = backend.redis(); // issue 6: degraded while Redis is down (captures go on from memory)
      const sipStats = parts.sip?.transport.stats();
      // RTP port pairs and SIP connections near their limits are `degraded` with the reason (docs/security.md).
      const press = pressure(parts.media?.ports(), sipStats && { open: sipStats.connections, max: TransportLimits.MAX_CONNECTIONS });
      for (const r of parts.load?.reached() ?? []) press.reasons.push(`load: ${r.text}`); // new work gets 503 (calls/load/)
      const exportHealth = auditTrail.syslog?.health(); // PCI DSS 10.7: the audit export failing is reported
      if (exportHealth?.reason) press.reasons.push(exportHealth.reason);
      return {
        status: !parts.ready ? 'starting' : (redis && redis.state !== 'up') || press.reasons.length ? 'degraded' : 'ok',
        details: {
          calls: parts.calls?.calls.size ?? 0, payments: parts.paymentCalls?.live.size ?? 0, registered: registrar.registeredAors().length, sip: parts.sip?.stats(),
          store: backend.kind, ...(redis ? { redis } : {}), ...press.details, ...exportHealth?.details, ...(press.reasons.length ? { reasons: press.reasons } : {}),
        },
      };
    },
  }, tls && { cert: tls.current.cert, key: tls.current.key });
  app.use(refreshAgentTokens(agentTokens), auditHttp(audit, resolveToken)); // shared tokens first; audit before the routers it records
  // Production serves /metrics on the main port only with METRICS_TOKEN; the internal listener
  // (METRICS_HOST:METRICS_PORT) needs none (docs/security.md, "Production mode").
  const production = config.TONEGATE_MODE === 'production';
  app.use(metricsRouter(metrics, { ...(config.METRICS_TOKEN ? { token: config.METRICS_TOKEN } : {}), served: !production || config.METRICS_TOKEN !== undefined }));
  let metricsServer: Server | undefined;
  if (config.METRICS_HOST !== undefined && config.METRICS_PORT !== undefined) {
    const internal = express();
    internal.disable('x-powered-by');
    internal.use(metricsRouter(metrics));
    metricsServer = createServer(internal);
    await listen(metricsServer, config.METRICS_PORT, config.METRICS_HOST);
  }
  app.use(sessionsRouter(store, resolveToken));
  // Demo mode only: the SMS the demo provider "sent" (design.md: GET /demo/sms); production does not mount it.
  if (!production) {
    app.get('/demo/sms', (_req, res) => {
      const demo = parts.payments?.demo;
      if (!demo) return void res.status(404).json({ error: 'not-found', message: 'the SMS inbox exists in demo mode only' });
      res.json({ messages: demo.smsMessages() });
    });
  }
  app.use(handoffsRouter(codes, resolveToken, {
    sipAuthority: () => sipHostPort(config.SIP_HOST, parts.sip?.transport.udpPort ?? config.SIP_PORT),
    requestUriPrefix: apiProfile.profile.api.requestUriPrefix, codeFormat: apiProfile.profile.api.codeFormat, formatChoice: apiProfile.profile.api.formatChoice, pool,
    limits: { ...smsFieldLimits(smsTemplates(config.sms, { defaultLanguage: config.DEFAULT_LANGUAGE, receipts: config.RECEIPT_SMS === 'on' })), languages: config.PROMPT_LANGUAGES },
    mobileAllowed: (m) => admission.mobileAllowed(m),
  }));
  // The agent widget and the demo phone (agent-widget/, built into agent-widget/dist by scripts/build-widget.mjs).
  app.use(staticRouter({
    distDir: fileURLToPath(new URL('../../agent-widget/dist', import.meta.url)),
    sipHost: config.SIP_HOST,
    embedOrigins: config.WIDGET_EMBED_ORIGINS, languages: config.PROMPT_LANGUAGES, defaultLanguage: config.DEFAULT_LANGUAGE,
    demo: !config.PAYMENT_API_URL, demoPages: !production, sourceMaps: !production,
    ...(config.SIP_WS_URL ? { sipWsUrl: config.SIP_WS_URL } : {}), // the agents' SIP WebSocket proxy (README, "Agents across instances")
  }));
  app.use(agentsRouter(agentTokens, resolveToken, logger, lockout));
  app.use(supervisorsRouter(supervisors, logger));
  finishApp(app, (err) => logger.error({ err }, 'HTTP handler failed'));
  const httpPort = await listen(server, config.HTTP_PORT, config.HTTP_HOST);
  const transport = await createTransportLayer({
    host: config.SIP_HOST, port: config.SIP_PORT, httpServer: server, logger,
    ...(tls ? { tls: { port: config.SIP_TLS_PORT, cert: tls.current.cert, key: tls.current.key, trustedFingerprints: trusted } } : {}),
    limits: {
      MAX_CONNECTIONS_PER_IP: trust.edgeCaps.sockets,
      WS_MESSAGES_PER_SECOND: Math.max(1, Math.floor((trust.edgeRates['ws-messages'].count * 1000) / trust.edgeRates['ws-messages'].periodMs)),
    },
    wsOriginAllowed: (origin, host) => originAllowed(origin, host, config.ALLOWED_ORIGINS), // like /events
  });
  tls?.onChange((m) => {
    renewHttpsCredentials(server, m);
    transport.setTlsCredentials(m.cert, m.key);
  });
  const sip = (parts.sip = new SipStack(transport, clock, logger));
  // Every call's media (bridged and payment calls) runs on the media plane's workers, which own
  // the whole RTP range.
  const mediaAddress = config.MEDIA_ADDRESS ?? config.SIP_HOST;
  const media = (parts.media = await createMediaPlane({
    ...(config.MEDIA_WORKERS ? { workers: config.MEDIA_WORKERS } : {}),
    address: mediaAddress,
    portMin: config.RTP_PORT_MIN,
    portMax: config.RTP_PORT_MAX,
    logger,
    promptsDir,
  }));
  // Load admission (docs/operations.md, "Overload"): 503 + Retry-After for new INVITEs and payment REFERs.
  const load = (parts.load = wireLoad({
    config, metrics, logger, portPairs: media.ports().capacity,
    sources: {
      calls: () => (parts.calls?.calls.size ?? 0) + (parts.paymentCalls?.live.size ?? 0),
      // A transfer-mode call is a payment from its INVITE on; an inline one from the REFER's 202.
      captures: () => (parts.paymentCalls?.live.size ?? 0) + (parts.inline?.live.size ?? 0),
      ports: () => media.ports(),
      workerActiveMs: async () => (await media.stats()).workers.filter((w) => w.alive).map((w) => ({ worker: w.worker, activeMs: w.activeMs })),
    },
  }));
  // SRTP per leg (sdp/crypto.ts srtpPolicyFor): production makes `required` the default towards
  // non-loopback peers.
  const srtpPolicy = (peer: string): SrtpPolicy => srtpPolicyFor(config.SRTP, config.TONEGATE_MODE === 'production', peer);
  const configuredProfile = loadSipProfile(profilesDir, config.SIP_PROFILE, profileEnv);
  const payments = (parts.payments = await createPayments(config, logger, clock, (p, inner) => metrics.timedFetch(p, inner), configuredProfile.profile.cardEncryption, (problem) => metrics.smsRefused.inc({ reason: problem })));
  // After the payment: merchant webhook from a durable outbox, reconciliation (docs/operations.md).
  const afterPayment = await startAfterPayment({ config, bus, store, audit, provider: payments.payment, providerFor: (name) => (name ? payments.providers.get(name)?.client : undefined), logger, registry: metrics.registry });
  // The one place deciding whether an INVITE or a REFER may start a payment (calls/payment/gate.ts).
  payments.recordedClips = recorded.clips;
  payments.capture = { ...payments.capture, cardRefused: (pan) => admission.cardRefusal(pan) !== undefined }; // velocity per card (docs/security.md)
  // Profiles of kind sql: the lookup database (handoff/sql/), read-only and time-limited.
  const sqlLookups = openSqlLookups({ configured: configuredProfile, api: apiProfile, named }, config, planSettings(config).numbering, (e) => logger.warn(e, 'payment lookup by SQL failed'));
  const paymentGate = new PaymentGate(payments, sqlLookups.profiles, codes, admission, plan, load, pool);
  const paymentCalls = (parts.paymentCalls = new PaymentCalls(
    {
      stack: sip, clock, logger, mediaAddress, ringTimeoutMs: config.RING_TIMEOUT_S * 1000, mediaTimeoutMs: config.MEDIA_TIMEOUT_S * 1000, sessionTimers: { expiresS: config.SESSION_EXPIRES_S, minSeS: config.MIN_SE_S },
      createBridge: (id) => media.createBridge(id), srtpPolicy,
      payments, bus, store, instanceId: config.INSTANCE_ID, defaultLanguage: config.DEFAULT_LANGUAGE,
    },
    paymentGate,
  ));
  // The /events socket (capture/EVENTS.md); upgrades to any other path but /sip are answered 404.
  const events = (parts.events = new EventHub({
    server, bus, store, resolve: resolveToken, refresh: (t) => agentTokens.refresh(t), tokenKey, logger, clock,
    control: auditedControl(audit, { command: async (sessionId, cmd) => paymentCalls.captures.command(sessionId, cmd) }),
    ...(config.ALLOWED_ORIGINS ? { allowedOrigins: config.ALLOWED_ORIGINS } : {}), limits: { maxConnectionsPerIp: trust.edgeCaps['ws-per-ip'] }, // EDGE_LIMITS ws-per-ip
    onAuthFailure: (remote, reason) => audit.record({ actor: { kind: 'anonymous' }, action: 'events.auth', outcome: 'denied', source: remote, details: { reason: reason.slice(0, 100) } }),
  }));
  const stopRefusingUpgrades = refuseUnknownUpgrades(server, ['/sip', events.path]);
  const calls = (parts.calls = new CallManager(
    { stack: sip, clock, logger, mediaAddress, ringTimeoutMs: config.RING_TIMEOUT_S * 1000, mediaTimeoutMs: config.MEDIA_TIMEOUT_S * 1000, sessionTimers: { expiresS: config.SESSION_EXPIRES_S, minSeS: config.MIN_SE_S }, createBridge: (id) => media.createBridge(id), srtpPolicy },
    registrarService,
    logger,
    paymentCalls,
    plan,
  ));
  const inlinePayments = (parts.inline = new InlinePayments(
    { clock, logger, payments, bus, store, instanceId: config.INSTANCE_ID, defaultLanguage: config.DEFAULT_LANGUAGE },
    paymentGate,
    paymentCalls.captures,
  ));
  calls.referHandler = (call, refer) => inlinePayments.onRefer(call, refer);
  calls.loadCheck = () => load.refusal('bridged');
  sip.setUser(new SipEdgeGuard(calls, sip, trust.edgeRates, () => performance.now(), refused)); // per-source INVITE/REGISTER rates
  // Scale-out: a survivor ends the live sessions of an instance whose heartbeat expired (Redis only).
  const takeover = backend.heartbeat
    ? new InstanceTakeover({ self: config.INSTANCE_ID, liveness: backend.heartbeat, store, bus, logger })
    : undefined;
  takeover?.start();
  parts.ready = true;
  const sweep = setInterval(() => registrar.sweep(), 10_000);
  sweep.unref();

  let closing: Promise<void> | undefined;
  const gw: Gateway = {
    config,
    sip,
    calls,
    registrar,
    http: server,
    store,
    bus,
    backend,
    metrics,
    audit,
    media,
    payments,
    paymentCalls,
    inlinePayments,
    afterPayment,
    agentTokens,
    events,
    supervisorToken,
    handoffApiKey,
    httpPort,
    sipPort: transport.udpPort,
    sipTlsPort: transport.tlsPort,
    tls,
    reloadCertificates: () => {
      if (!tls) return undefined;
      const m = tls.reload();
      logger.info({ fingerprint: m.fingerprint, validTo: m.validTo }, 'tls certificate reloaded');
      return m;
    },
    close: () =>
      (closing ??= (async () => {
        clearInterval(sweep);
        load.stop();
        await takeover?.stop();
        await events.close();
        stopRefusingUpgrades();
        calls.hangupAll('shutdown');
        await new Promise((r) => setTimeout(r, 50));
        await sip.close();
        await media.close();
        await afterPayment.close();
        await payments.close();
        await sqlLookups.close();
        await backend.close();
        await auditTrail.close();
        server.closeAllConnections();
        await new Promise<void>((r) => server.close(() => r()));
        if (metricsServer) {
          metricsServer.closeAllConnections();
          await new Promise<void>((r) => metricsServer!.close(() => r()));
        }
      })()),
  };
  return gw;
}

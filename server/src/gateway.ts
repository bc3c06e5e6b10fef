import type { Server } from 'node:http';
import { fileURLToPath } from 'node:url';
import { createHttp, listen, renewHttpsCredentials } from './api/http.js';
import type { AgentTokens } from './api/agent-tokens.js';
import { tokenKey } from './api/agent-tokens.js';
import { EventHub } from './api/event-hub.js';
import { originAllowed, refuseUnknownUpgrades } from './api/upgrade.js';
import { CallManager } from './calls/call-manager.js';
import { PaymentCalls } from './calls/payment/entry.js';
import { PaymentGate } from './calls/payment/gate.js';
import { recordedLanguages } from './calls/payment/recorded-languages.js';
import { InlinePayments } from './calls/payment/refer-entry.js';
import { createPayments, type Payments } from './calls/payment/setup.js';
import type { Registrar } from './calls/registrar/index.js';
import type { SessionEvent } from './capture/events.js';
import { parseSessionEvent } from './capture/event-schema.js';
import { InstanceTakeover } from './capture/takeover.js';
import { ConfigError } from './config/load.js';
import type { Config } from './config/schema.js';
import { systemClock, type Clock } from './lib/clock.js';
import { createMediaPlane, type MediaPlane } from './media/plane.js';
import type { AuditLog } from './observability/audit.js';
import { openAudit } from './observability/audit-open.js';
import type { Logger } from './observability/logger.js';
import { Metrics } from './observability/metrics.js';
import { startAfterPayment, webhookSecret, type AfterPayment } from './outcomes/index.js';
import { srtpPolicyFor, type SrtpPolicy } from './sdp/index.js';
import { credentialsFromSettings, trustedFingerprints, type TlsCredentials, type TlsMaterial } from './security/tls-credentials.js';
import { trustConfigOf } from './security/trust-config.js';
import { SipEdgeGuard } from './sip/edge-guard.js';
import { SipStack } from './sip/stack.js';
import { createTransportLayer } from './sip/transport/index.js';
import { createStoreBackend, type EventBus, type SessionStore, type StoreBackend } from './store/index.js';
import { redisCredentials } from './store/redis-credentials.js';
import { wireAccess } from './wiring/access.js';
import { auditedControl, auditSessions } from './wiring/audit.js';
import { gatewayHealth } from './wiring/health.js';
import { closeServer, mountRoutes, openMetricsListener } from './wiring/http-app.js';
import { wireLoad } from './wiring/load.js';
import { countCaptures, onePerScrape, providerBreakers, rtpTotals } from './wiring/metrics.js';
import { OwnedParts, type CloseCause } from './wiring/owned.js';
import { openRouting } from './wiring/routing.js';
import { wireTrust } from './wiring/trust.js';

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
  /** Closes every part, last built first (wiring/owned.ts); a second call waits for the first. */
  close(cause?: CloseCause): Promise<void>;
}

/** Choices of the composition root beyond the configuration. */
export interface GatewayOptions {
  /**
   * Inline payments take the agents' REFERs inside bridged calls (default). Off, a REFER is
   * answered 202 and left at 100 Trying: for tests of the REFER layer alone.
   */
  readonly inlinePayments?: boolean;
}


/**
 * Composition root (docs/architecture.md): config -> stores -> sip -> media -> payments -> calls ->
 * api. Every part is registered with {@link OwnedParts} as it is built; a start that fails half-way
 * closes what was built, and `close()` closes it all, last built first.
 */
export async function startGateway(config: Config, logger: Logger, clock: Clock = systemClock, options: GatewayOptions = {}): Promise<Gateway> {
  const owned = new OwnedParts(logger);
  try {
    return await build(config, logger, clock, options, owned);
  } catch (err) {
    await owned.close('start-failed');
    throw err;
  }
}

/**
 * Builds the parts in the order they depend on each other, then serves. Nothing is served before
 * the last part exists: SIP requests get 503 until `sip.serve`, the load monitor samples from
 * `load.start()`, and HTTP (health, metrics, the API) listens last. So the readers handed to the
 * early parts (metrics gauges, load sources, token revocation) may name parts built after them.
 */
async function build(config: Config, logger: Logger, clock: Clock, options: GatewayOptions, owned: OwnedParts): Promise<Gateway> {
  // The trust-boundary settings come from the one settings table like every other (config/schema.ts).
  const trust = trustConfigOf(config);
  if (config.WEBHOOK_URL) webhookSecret(config); // fail fast, before anything listens
  const promptsDir = config.PROMPTS_DIR ?? fileURLToPath(new URL('../prompts', import.meta.url));
  // Languages of recorded prompts (docs/operations.md): every clip there also before anything listens.
  const recorded = recordedLanguages(promptsDir, [...new Set([...config.PROMPT_LANGUAGES, config.DEFAULT_LANGUAGE])]);
  if (recorded.problems.length) throw new ConfigError(recorded.problems);

  // Memory by default, Redis when REDIS_URL is set; events from Redis are checked before they are relayed (docs/security.md).
  const backend = owned.add('store', await createStoreBackend<SessionEvent>({
    redisUrl: config.REDIS_URL, ...redisCredentials(config), instanceId: config.INSTANCE_ID, logger, outageBuffer: config.REDIS_OUTAGE_BUFFER,
    onListenerError: (err) => logger.error({ err }, 'event bus: subscriber failed'),
    parseEvent: parseSessionEvent,
  }), (b) => b.close());
  const { store, bus } = backend;
  const auditTrail = owned.add('audit', openAudit(config, logger), (a) => a.close());
  const { audit } = auditTrail;
  await auditSessions(audit, bus);
  const mediaStats = onePerScrape(() => media.stats());
  const metrics = new Metrics({
    activeCalls: (): number => calls.calls.size + paymentCalls.live.size,
    activeCaptures: (): number => paymentCalls.captures.size,
    breakers: (): Record<string, string> => providerBreakers(payments),
    rtp: async () => rtpTotals(await mediaStats()),
    mediaWorkerMemory: async () => (await mediaStats()).workers.flatMap((w) => (w.alive && w.memory ? [{ worker: w.worker, memory: w.memory }] : [])),
    redis: () => {
      const r = backend.redis();
      return r && { up: r.state === 'up', bufferedEvents: r.bufferedEvents, droppedEvents: r.droppedEvents, pendingWrites: r.pendingWrites };
    },
    auditSyslog: () => auditTrail.syslog?.stats,
  });
  await countCaptures(metrics, bus, store);
  const { lockout, admission, refused } = wireTrust({ trust, audit, metrics, logger, claimOnce: backend.claimOnce });
  // Sign-out closes the token's /events sockets.
  const access = wireAccess({ config, trust, logger, clock, backend, lockout, onTokenRevoked: (key): void => events.revoked(key) });
  const routing = owned.add('routing', openRouting({ config, backend, clock, logger }), (r) => r.close());

  // Encryption (docs/security.md): one certificate for HTTPS/WSS and SIP over TLS, or none.
  const tls = credentialsFromSettings({ ...config, hosts: [config.SIP_HOST, config.HTTP_HOST], production: config.TONEGATE_MODE === 'production' });
  if (tls) logger.info({ fingerprint: tls.current.fingerprint, subject: tls.current.subject, validTo: tls.current.validTo, selfSigned: !tls.reloadable }, 'tls certificate loaded');
  // The HTTP server exists now (SIP over WebSocket and /events attach to it); it listens last.
  const { app, server } = createHttp(tls && { cert: tls.current.cert, key: tls.current.key });
  owned.add('http', server, closeServer);
  const transport = await createTransportLayer({
    host: config.SIP_HOST, port: config.SIP_PORT, httpServer: server, logger,
    ...(tls ? { tls: { port: config.SIP_TLS_PORT, cert: tls.current.cert, key: tls.current.key, trustedFingerprints: trustedFingerprints(config.TRUSTED_PEERS.map((p) => p.text)) } } : {}),
    limits: {
      MAX_CONNECTIONS_PER_IP: trust.edgeCaps.sockets,
      WS_MESSAGES_PER_SECOND: Math.max(1, Math.floor((trust.edgeRates['ws-messages'].count * 1000) / trust.edgeRates['ws-messages'].periodMs)),
    },
    wsOriginAllowed: (origin, host) => originAllowed(origin, host, config.ALLOWED_ORIGINS), // like /events
  });
  const sip = owned.add('sip', new SipStack(transport, clock, logger), (s) => s.close());
  tls?.onChange((m) => {
    renewHttpsCredentials(server, m);
    transport.setTlsCredentials(m.cert, m.key);
  });
  // Every call's media (bridged and payment calls) runs on the media plane's workers, which own the whole RTP range.
  const mediaAddress = config.MEDIA_ADDRESS ?? config.SIP_HOST;
  const media = owned.add('media', await createMediaPlane({
    ...(config.MEDIA_WORKERS ? { workers: config.MEDIA_WORKERS } : {}),
    address: mediaAddress, portMin: config.RTP_PORT_MIN, portMax: config.RTP_PORT_MAX, logger, promptsDir,
  }), (m) => m.close());
  // Load admission (docs/operations.md, "Overload"): 503 + Retry-After for new INVITEs and payment REFERs.
  const load = owned.add('load', wireLoad({
    config, metrics, logger, portPairs: media.ports().capacity,
    sources: {
      calls: (): number => calls.calls.size + paymentCalls.live.size,
      // A transfer-mode call is a payment from its INVITE on; an inline one from the REFER's 202.
      captures: (): number => paymentCalls.live.size + inlinePayments.live.size,
      ports: () => media.ports(),
      workerActiveMs: async () => (await media.stats()).workers.filter((w) => w.alive).map((w) => ({ worker: w.worker, activeMs: w.activeMs })),
    },
  }), (l) => l.stop());

  const payments = owned.add('payments', await createPayments(config, logger, clock, {
    fetchFor: (p: string, inner?: typeof fetch): typeof fetch => metrics.timedFetch(p, inner),
    cardEncryption: routing.configured.profile.cardEncryption,
    onSmsRefused: (problem) => metrics.smsRefused.inc({ reason: problem }),
    recordedClips: recorded.clips,
    capture: { cardRefused: (pan) => admission.cardRefusal(pan) !== undefined }, // velocity per card (docs/security.md)
  }), (p) => p.close());
  // After the payment: merchant webhook from a durable outbox, reconciliation (docs/operations.md).
  const afterPayment = owned.add('after-payment', await startAfterPayment({
    config, bus, store, audit, provider: payments.payment, providerFor: (name) => (name ? payments.providers.get(name)?.client : undefined), logger, registry: metrics.registry,
  }), (a) => a.close());
  // The one place deciding whether an INVITE or a REFER may start a payment (calls/payment/gate.ts).
  const paymentGate = new PaymentGate(payments, routing.profiles, routing.codes, admission, routing.plan, load, routing.pool);
  // SRTP per leg (sdp/crypto.ts srtpPolicyFor): production makes `required` the default towards non-loopback peers.
  const srtpPolicy = (peer: string): SrtpPolicy => srtpPolicyFor(config.SRTP, config.TONEGATE_MODE === 'production', peer);
  const callDeps = {
    stack: sip, clock, logger, mediaAddress, ringTimeoutMs: config.RING_TIMEOUT_S * 1000, mediaTimeoutMs: config.MEDIA_TIMEOUT_S * 1000,
    sessionTimers: { expiresS: config.SESSION_EXPIRES_S, minSeS: config.MIN_SE_S }, createBridge: (id: string) => media.createBridge(id), srtpPolicy,
  };
  const runDeps = { clock, logger, payments, bus, store, instanceId: config.INSTANCE_ID, defaultLanguage: config.DEFAULT_LANGUAGE };
  const paymentCalls = new PaymentCalls({ ...callDeps, ...runDeps }, paymentGate);
  // The /events socket (capture/EVENTS.md); upgrades to any other path but /sip are answered 404.
  const events = owned.add('events', new EventHub({
    server, bus, store, resolve: access.resolveToken, refresh: access.refresh, tokenKey, logger, clock,
    control: auditedControl(audit, { command: async (sessionId, cmd) => paymentCalls.captures.command(sessionId, cmd) }),
    ...(config.ALLOWED_ORIGINS ? { allowedOrigins: config.ALLOWED_ORIGINS } : {}), limits: { maxConnectionsPerIp: trust.edgeCaps['ws-per-ip'] }, // EDGE_LIMITS ws-per-ip
    onAuthFailure: (remote, reason) => audit.record({ actor: { kind: 'anonymous' }, action: 'events.auth', outcome: 'denied', source: remote, details: { reason: reason.slice(0, 100) } }),
  }), (e) => e.close());
  owned.add('upgrade refusal', refuseUnknownUpgrades(server, ['/sip', events.path]), (stop) => stop());
  const inlinePayments = new InlinePayments(runDeps, paymentGate, paymentCalls.captures);
  const calls = owned.add('calls', new CallManager(callDeps, access.registrarService, logger, {
    payments: paymentCalls, plan: routing.plan, loadCheck: () => load.refusal('bridged'),
    ...(options.inlinePayments === false ? {} : { onRefer: (call, refer) => inlinePayments.onRefer(call, refer) }),
  }), async (c, cause) => {
    c.hangupAll(cause);
    await new Promise((r) => setTimeout(r, 50)); // the BYEs leave before the SIP stack closes
  });
  // Scale-out: a survivor ends the live sessions of an instance whose heartbeat expired (Redis only).
  const takeover = backend.heartbeat
    ? owned.add('takeover', new InstanceTakeover({ self: config.INSTANCE_ID, liveness: backend.heartbeat, store, bus, logger }), (t) => t.stop())
    : undefined;
  owned.add('registrar sweep', setInterval(() => access.registrar.sweep(), 10_000).unref(), (t) => clearInterval(t));

  // Every part exists: serve.
  const health = gatewayHealth({ backend, auditTrail, registrar: access.registrar, sip, media, load, calls, paymentCalls });
  mountRoutes(app, { config, logger, access, audit, metrics, store, payments, routing, admission, lockout, health, sipPort: transport.udpPort });
  load.start();
  takeover?.start();
  const metricsServer = await openMetricsListener(config, metrics, health);
  if (metricsServer) owned.add('metrics listener', metricsServer, closeServer);
  const httpPort = await listen(server, config.HTTP_PORT, config.HTTP_HOST);
  sip.serve(new SipEdgeGuard(calls, sip, trust.edgeRates, () => performance.now(), refused)); // per-source INVITE/REGISTER rates

  return {
    config, sip, calls, registrar: access.registrar, http: server, store, bus, backend, metrics, audit, media, payments, paymentCalls, inlinePayments, afterPayment,
    agentTokens: access.agentTokens, events, supervisorToken: access.supervisorToken, handoffApiKey: access.handoffApiKey,
    httpPort, sipPort: transport.udpPort, sipTlsPort: transport.tlsPort, tls,
    reloadCertificates: () => {
      if (!tls) return undefined;
      const m = tls.reload();
      logger.info({ fingerprint: m.fingerprint, validTo: m.validTo }, 'tls certificate reloaded');
      return m;
    },
    close: (cause = 'shutdown') => owned.close(cause),
  };
}

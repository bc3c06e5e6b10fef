import { z } from 'zod/v4';
import { agentList, edgeLimits, filePath, flag, ip, list, mobilePrefix, origin, port, sipWsUrl, supervisorList, trustedPeer, velocityLimits } from './fields.js';
import { capturePolicySchema } from './capture-policy.js';
import { smsSectionSchema, type SmsSettings } from './sms.js';
import { didPoolProblems, numberEntries, numberPlanProblems, planSettings } from './number-plan.js';
import { LANGUAGE_CODE, PROMPT_LANGUAGES } from '../contract/events.js';
import { providerListSchema, providerNameSchema, type ProviderPlan } from './provider-plan.js';

export type { AgentCredential, EdgeOverrides, SupervisorCredential, TrustedPeer, VelocityOverrides } from './fields.js';

/**
 * Every setting of the gateway (docs/operations.md, "Configuration"), in one table: its
 * environment variable, its key in the YAML file named by `TONEGATE_CONFIG` (dotted path), its
 * type and default. Secrets have no file key: they come from the environment or `<NAME>_FILE`
 * (docs/security.md, "Secrets"). The JSON Schema in docs/config.schema.json is generated from here.
 */
interface Setting<T extends z.ZodType> {
  /** Dotted key in the configuration file; undefined for secrets. */
  readonly file: string | undefined;
  readonly schema: T;
}
function setting<T extends z.ZodType>(file: string, schema: T, description: string): Setting<T> {
  return { file, schema: schema.meta({ description }) as T };
}
function secret<T extends z.ZodType>(schema: T, description: string): Setting<T> {
  return { file: undefined, schema: schema.meta({ description: `${description} Secret: environment or <NAME>_FILE only.` }) as T };
}

const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
/** A prompt language code (contract/events.ts): built in (en, hi, ta) or one of recorded prompts. */
const languageCode = z.string().regex(LANGUAGE_CODE, 'a language code: 2-3 lower-case letters (ISO 639)');

export const SETTINGS = {
  TONEGATE_MODE: setting('mode', z.enum(['demo', 'production']).default('demo'), 'demo: embedded demo provider and defaults; production: refuses to start without TLS, real credentials, trusted peers and an https provider.'),
  INSTANCE_ID: setting('instanceId', z.string().regex(/^[A-Za-z0-9._-]{1,64}$/).default('gw-1'), 'Name of this gateway instance in session records (scale-out).'),
  LOG_LEVEL: setting('logLevel', z.enum(LOG_LEVELS).default('info'), 'pino log level; logs are JSON on stdout.'),
  HEAP_GROWTH_PERCENT: setting(
    'runtime.heapGrowthPercent',
    z.coerce.number().int().min(0).max(300).default(50),
    "How far the main thread's V8 old space may grow past its live heap before a full collection, in percent (V8's --heap-growing-percent). 0 leaves the choice to V8, which may let it reach 4x the live heap on a machine with 16 GiB or more (docs/operations.md, Memory).",
  ),
  HEAP_COMPACTION: setting(
    'runtime.heapCompaction',
    flag.default(false),
    "Compact every fragmented page of the main thread's V8 old space at each full collection (V8's --compact-on-every-full-gc): memory stays flat under steady load, at the cost of full-collection pauses of hundreds of ms that can refuse calls for event-loop lag (docs/operations.md, Memory).",
  ),
  HEAP_COMPACT_EVERY_S: setting(
    'runtime.heapCompactEverySeconds',
    z.coerce.number().int().min(0).max(86_400).default(300),
    "Compact the fragmented V8 old space once every this many seconds (V8's --compact-on-every-full-gc set for the next two full collections of the main thread, then cleared): one longer pause (about 0.2-0.3 s) per period instead of one at every collection (HEAP_COMPACTION) or none; without it the committed heap climbs under steady load. Default 300; 0: never (docs/operations.md, Memory).",
  ),

  SIP_HOST: setting('sip.host', ip.default('127.0.0.1'), 'Address SIP listens on (UDP, TCP) and puts in Via/Contact.'),
  SIP_PORT: setting('sip.port', port.default(5060), 'SIP port, UDP and TCP.'),
  SIP_TLS_PORT: setting('sip.tlsPort', port.default(5061), 'SIP over TLS port (RFC 5630), used when a certificate is configured.'),
  SIP_REALM: setting('sip.realm', z.string().min(1).max(128).default('tonegate'), 'Digest realm of REGISTER challenges; hashed agent credentials are made for it.'),
  SIP_DIGEST_ALGORITHMS: setting(
    'sip.digestAlgorithms',
    list(z.enum(['SHA-256', 'MD5'])).pipe(z.array(z.enum(['SHA-256', 'MD5'])).min(1)).optional(),
    'Digest algorithms offered in REGISTER challenges, in this order (RFC 8760 2.4). Unset: MD5 alone over UDP/TCP (desk phones such as baresip fail on any SHA-256 challenge), SHA-256 then MD5 over WebSocket.',
  ),
  SIP_PROFILE: setting('sip.profile', z.string().regex(/^[a-z0-9-]+$/).default('generic'), 'Where the transaction comes from: a file in sip-profiles/.'),
  ROUTING_NUMBERS: setting(
    'routing.numbers',
    numberEntries.optional(),
    'Number plan (README, Routing): Request-URI users (DIDs) the gateway answers, each {number|prefix|pattern, kind: pay|support|agent, agent, profile}; environment form "<number|prefix*|~pattern> <pay|support|agent:<id>> [profile]", comma-separated. Unset: demo mode routes +912240000000 to pay (generic); production none. pay and pay-<code> always route to payments.',
  ),
  ROUTING_COUNTRY_CODE: setting('routing.countryCode', z.string().regex(/^[1-9]\d{0,2}$/, 'an ITU-T E.164 country code, 1-3 digits').default('91'), 'Country code of numbers dialled in national form (E.164): 02240000000 is +912240000000 with 91 and national prefix 0.'),
  ROUTING_NATIONAL_PREFIX: setting('routing.nationalPrefix', z.string().regex(/^(\d{0,2}|none)$/, '1-2 digits, or none').default('0').transform((v) => (v === 'none' ? '' : v)), 'National trunk prefix that starts numbers dialled in national form (India: 0); none (or empty in the file): numbers are only E.164 or country code first.'),
  ROUTING_DID_POOL: setting(
    'routing.didPool.numbers',
    list(z.string()).transform((v) => (v.length === 1 && v[0] === 'none' ? [] : v)).optional(),
    'DID pool (README, Routing): numbers POST /api/handoffs with "via": "did" reserves, one per transaction, and the transfer to it redeems once (PBXs and carriers that keep no headers). Each item a number or a range first..last (E.164 or national form, at most 1000 DIDs); comma-separated in the environment. Unset: demo mode +912240000100..+912240000109; production none. none (or [] in the file): no pool.',
  ),
  ROUTING_DID_POOL_TTL_S: setting(
    'routing.didPool.ttlSeconds',
    z.coerce.number().int().min(30).max(3600).default(300),
    'Seconds a DID-pool reservation waits for its transfer; the DID is free again afterwards.',
  ),
  RING_TIMEOUT_S: setting('sip.ringTimeoutSeconds', z.coerce.number().int().min(5).max(600).default(60), 'Seconds an INVITE to an agent may ring before the caller gets 480.'),
  SESSION_EXPIRES_S: setting(
    'sip.sessionExpiresSeconds',
    z.coerce.number().int().min(90).max(86_400).default(1800),
    'RFC 4028 session interval the gateway asks for and accepts at most; the refresher refreshes at half of it, a missing refresh ends the call with BYE.',
  ),
  MIN_SE_S: setting(
    'sip.minSessionExpiresSeconds',
    z.coerce.number().int().min(90).max(86_400).default(90),
    'RFC 4028 Min-SE: a request with a smaller Session-Expires gets 422 (at least 90, RFC 4028 4).',
  ),
  TRUSTED_PEERS: setting(
    'sip.trustedPeers',
    list(trustedPeer).default([]),
    'Peers allowed to start payments: CIDRs (10.0.0.0/8, 192.0.2.7, fd00::/8) and SHA-256 fingerprints of TLS client certificates (sha256:AB:CD:..., AB:CD:... or 64 hex digits, any case). Empty: not enforced (demo only; production requires a list).',
  ),
  REQUIRE_SIGNATURE_V2: setting(
    'sip.requireSignatureV2',
    flag.optional(),
    'Every transfer INVITE must carry a v2 X-Pay-Signature (Request-URI, Call-ID, single-use nonce). Always on in production (false is refused there); unset: as the SIP profile says in demo mode.',
  ),
  TLS_CERT_FILE: setting('tls.certFile', filePath.optional(), 'PEM certificate (chain) for SIP over TLS and HTTPS/WSS.'),
  TLS_KEY_FILE: setting('tls.keyFile', filePath.optional(), 'PEM private key of TLS_CERT_FILE.'),
  TLS_SELF_SIGNED: setting('tls.selfSigned', flag.default(false), 'Generate a self-signed certificate at start when none is given (for trying TLS, not for production).'),

  HTTP_HOST: setting('http.host', z.string().min(1).default('127.0.0.1'), 'Address of the HTTP server (widget, REST, /sip and /events WebSockets).'),
  HTTP_PORT: setting('http.port', port.default(8080), 'Port of the HTTP server.'),
  ALLOWED_ORIGINS: setting('http.allowedOrigins', list(origin).optional(), 'Origins whose pages may open /events; unset: same origin only.'),
  WIDGET_EMBED_ORIGINS: setting('http.widgetEmbedOrigins', list(origin).default([]), 'Origins allowed to frame /agent and prefill it by postMessage.'),
  SIP_WS_URL: setting(
    'http.sipWsUrl',
    sipWsUrl.optional(),
    'SIP WebSocket URL (RFC 7118) the agent widget registers on instead of this gateway\'s /sip: the agents\' proxy, e.g. Kamailio with -A WITH_WEBSOCKET (README, "Agents across instances"); ws: or wss: with a host, no credentials or fragment; wss: only in production. The pages\' CSP connect-src adds its origin. Unset: /sip on the gateway that served the page.',
  ),
  METRICS_HOST: setting('metrics.host', ip.optional(), 'Address of an internal listener serving only /metrics (with METRICS_PORT).'),
  METRICS_PORT: setting('metrics.port', port.optional(), 'Port of the internal /metrics listener; in production /metrics is served there or with METRICS_TOKEN.'),

  RTP_PORT_MIN: setting('media.rtpPortMin', port.default(20000), 'Lowest RTP port for anchored media (two per leg).'),
  RTP_PORT_MAX: setting('media.rtpPortMax', port.default(20999), 'Highest RTP port.'),
  MEDIA_ADDRESS: setting('media.address', ip.optional(), 'Address put in SDP for anchored media; defaults to sip.host.'),
  MEDIA_WORKERS: setting('media.workers', z.coerce.number().int().min(1).max(64).optional(), 'Media worker threads; default one per core.'),
  SRTP: setting('media.srtp', z.enum(['required', 'offer', 'off']).optional(), 'SRTP with SDES on SIP legs (RFC 3711, RFC 4568): required, offer or off. Unset: off in demo mode; in production required towards non-loopback peers, offer towards loopback ones.'),
  MEDIA_TIMEOUT_S: setting(
    'media.timeoutSeconds',
    z.coerce.number().int().min(0).max(3600).default(60),
    'Seconds without RTP from a leg (not on hold) before the call is ended with BYE (a lost BYE cannot leave a call open); 0 turns the check off.',
  ),
  PROMPTS_DIR: setting('prompts.dir', z.string().min(1).optional(), 'Prompt clips (<dir>/<lang>/<clip>.wav, made by npm run prompts).'),
  DEFAULT_LANGUAGE: setting('prompts.defaultLanguage', languageCode.default('en'), 'Prompt language when the handoff names none (en, hi, ta or a language of recorded prompts); one of PROMPT_LANGUAGES.'),
  PROMPT_LANGUAGES: setting(
    'prompts.languages',
    list(languageCode).default([...PROMPT_LANGUAGES]).refine((l) => l.length > 0 && new Set(l).size === l.length, 'one or more languages, each once'),
    'Languages callers may be prompted in (X-Pay-Language) and the agent widget offers, in that order: en English, hi Hindi, ta Tamil built in; any other code (2-3 letters, e.g. mr) is a language of recorded prompts, its clips in <prompts.dir>/<code>/ (docs/operations.md); a list in the file.',
  ),

  MAX_CALLS: setting('limits.maxCalls', z.coerce.number().int().min(1).max(100_000).optional(), 'Most calls at once; beyond it new INVITEs get 503 with Retry-After. Unset: no limit.'),
  MAX_CAPTURES: setting('limits.maxCaptures', z.coerce.number().int().min(1).max(100_000).optional(), 'Most payment captures at once; beyond it payment INVITEs and REFERs get 503. Unset: no limit.'),
  VELOCITY_LIMITS: setting(
    'limits.velocity',
    velocityLimits.optional(),
    'Payments allowed per source address and merchant (N/1m) and per customer mobile and card (N/1h): source:N/1m,merchant:N/1m,mobile:N/1h,card:N/1h, off removes one; a list in the file. Unset: none in demo mode; production mobile:10/1h,card:5/1h.',
  ),
  EDGE_LIMITS: setting(
    'limits.edge',
    edgeLimits.optional(),
    'Per-source INVITE and REGISTER rates (503 with Retry-After beyond), SIP TCP/WS sockets per address, frames a second per SIP WebSocket (closed beyond), /events sockets per address (503 beyond): invite:200/1s,register:50/1s,sockets:200,ws-messages:50/1s,ws-per-ip:50 (the defaults); a list in the file.',
  ),
  ALLOWED_MOBILE_PREFIXES: setting(
    'handoff.allowedMobilePrefixes',
    list(mobilePrefix).pipe(z.array(z.string()).min(1, 'at least one country code')).default(['+91']),
    'Country codes a customer mobile must start with (+91: the country of the DLT SMS template); any other is refused 403 before the call is answered or an SMS is sent.',
  ),
  ADMIT_RTP_RESERVE: setting('limits.rtpReservePairs', z.coerce.number().int().min(0).max(32_767).optional(), 'RTP port pairs kept free for calls already admitted; new INVITEs that would eat into them get 503. Unset: 5 % of the RTP range, at least 2.'),
  ADMIT_MEDIA_BUSY: setting('limits.mediaBusy', z.coerce.number().min(0.05).max(1).default(0.85), 'Share (0-1) of wall time the busiest media worker may be busy (two seconds in a row); at it new INVITEs and payment REFERs get 503.'),
  ADMIT_LOOP_LAG_MS: setting('limits.loopLagMs', z.coerce.number().int().min(10).max(60_000).default(250), 'Event-loop lag (ms; p99 of each second, two seconds in a row) at which new INVITEs and payment REFERs get 503.'),
  ADMIT_RETRY_AFTER_S: setting('limits.retryAfterSeconds', z.coerce.number().int().min(1).max(3600).default(5), 'Seconds in the Retry-After of a 503 for load (RFC 3261 20.33).'),

  PAYMENT_API_URL: setting('provider.url', z.url().optional(), 'The payment provider base URL (https: in production); unset runs the demo provider embedded (demo only).'),
  PAYMENT_TLS_CERT_FILE: setting('provider.tlsCertFile', filePath.optional(), 'Client certificate (PEM) for mutual TLS to the provider (with provider.tlsKeyFile: both or neither).'),
  PAYMENT_TLS_KEY_FILE: setting('provider.tlsKeyFile', filePath.optional(), 'Private key (PEM) of provider.tlsCertFile.'),
  PAYMENT_TLS_CA_FILE: setting('provider.tlsCaFile', filePath.optional(), 'CA certificate(s) (PEM) of a provider whose server certificate comes from a private CA; with or without mutual TLS. They replace the system CAs for the provider (and its SMS API on the same origin).'),
  PAYMENT_CARD_KEY_FILE: setting('provider.cardKeyFile', filePath.optional(), 'The provider\'s card-encryption public key (PEM), pinned: the card goes RSA-OAEP SHA-256 encrypted to it.'),
  PAYMENT_CARD_KEY_SHA256: setting('provider.cardKeySha256', z.string().min(1).optional(), 'SHA-256 fingerprint the key the provider publishes must have (pins it; turns card encryption on).'),
  PROVIDERS: setting(
    'providers',
    providerListSchema.optional(),
    'Named payment providers (docs/operations.md, "Several payment providers"): each {name, url, auth {kind: apiKey|bearer|none, header, secretEnv}, tls {certFile, keyFile, caFile}, cardKeyFile, cardKeySha256, merchants, timeouts, retry, breaker}; a YAML list in the file, JSON in the environment. Unset: the single provider of provider.* / PAYMENT_*, named default (those settings also override the entry named default).',
  ),
  PROVIDER_DEFAULT: setting('providerRouting.default', providerNameSchema.optional(), 'The provider of merchants no provider lists. Unset: default, or the only provider.'),
  PROVIDER_FAILOVER: setting(
    'providerRouting.failover',
    list(providerNameSchema).optional(),
    'Providers tried in this order when the merchant\'s provider fails (breaker open, connection refused, timeout, 5xx) before any charge was sent for the order; never after. A list in the file.',
  ),
  LOOKUP_TIMEOUT_MS: setting('lookup.timeoutMs', z.coerce.number().int().min(100).max(30_000).default(2000), 'SIP profiles of kind sql: statement_timeout of a lookup query (ms); the client gives up one second later, and a connection attempt after this long. A lookup that times out refuses the payment with 503.'),
  LOOKUP_POOL_MAX: setting('lookup.poolMax', z.coerce.number().int().min(1).max(32).default(4), 'SIP profiles of kind sql: connections to the lookup database at most.'),
  DEMO_PG_PORT: setting('demo.providerPort', port.default(8090), 'Port of the embedded demo provider (demo only).'),
  DEMO_OTP: setting('demo.otp', z.string().regex(/^\d{4,8}$/).optional(), 'OTP the demo provider issues, for predictable demos (demo only).'),

  REDIS_URL: setting('store.redisUrl', z.url().optional(), 'Redis for sessions and events shared by several instances; unset: memory. A URL with a password belongs in the environment.'),
  REDIS_TLS_CA_FILE: setting('store.redisTlsCaFile', filePath.optional(), 'PEM CA bundle that signed the Redis server\'s certificate (rediss:// with a private CA); unset: the system CAs.'),
  REDIS_OUTAGE_BUFFER: setting('store.outageBuffer', z.coerce.number().int().min(1).max(1_000_000).default(10_000), 'Events held in memory while Redis is down.'),
  AUDIT_LOG: setting('audit.log', z.string().min(1).default('./data/audit.jsonl'), 'Append-only JSONL audit trail with a hash chain (npm run audit:verify).'),
  AUDIT_SYSLOG_URL: setting('audit.syslogUrl', z.string().min(1).optional(), 'Copy of every audit entry to a syslog collector over TLS (RFC 5425): tls://host:6514.'),
  AUDIT_SYSLOG_CA_FILE: setting('audit.syslogCaFile', filePath.optional(), 'CA certificate(s) (PEM) that sign the collector\'s certificate; unset: the system CAs.'),
  AUDIT_SYSLOG_CERT_FILE: setting('audit.syslogCertFile', filePath.optional(), 'Client certificate (PEM) for collectors that require one (with AUDIT_SYSLOG_KEY_FILE).'),
  AUDIT_SYSLOG_KEY_FILE: setting('audit.syslogKeyFile', filePath.optional(), 'Private key (PEM) of AUDIT_SYSLOG_CERT_FILE.'),

  OTP_MODE: setting('otp.mode', z.enum(['gateway-sms', 'issuer', 'none']).default('gateway-sms'), 'How the bank OTP is obtained: gateway-sms (the provider returns it, the gateway texts it), issuer (the bank texts it), none.'),
  OTP_MODE_MERCHANTS: setting(
    'otp.merchants',
    z.string().max(10_000).regex(/^\s*[A-Za-z0-9._-]{1,128}:(gateway-sms|issuer|none)\s*(,\s*[A-Za-z0-9._-]{1,128}:(gateway-sms|issuer|none)\s*)*$/, 'merchantId:gateway-sms|issuer|none, comma-separated').optional(),
    'Per-merchant OTP modes overriding otp.mode: M-1:issuer,M-2:none.',
  ),
  RECEIPT_SMS: setting('receipts.sms', z.enum(['on', 'off']).default('off'), 'Receipt SMS to the customer after paid (DLT template of kind receipt).'),
  WEBHOOK_URL: setting('webhook.url', z.url().optional(), 'Merchant webhook: every session outcome is POSTed here as JSON, HMAC-signed (X-Tonegate-Signature).'),
  WEBHOOK_OUTBOX: setting('webhook.outbox', z.string().min(1).default('./data/webhook-outbox.jsonl'), 'The durable outbox journal file when store.redisUrl is unset.'),
  WEBHOOK_RETRY_BASE_MS: setting('webhook.retryBaseMs', z.coerce.number().int().min(10).max(3_600_000).default(1_000), 'First retry delay; doubles per attempt up to webhook.retryMaxMs.'),
  WEBHOOK_RETRY_MAX_MS: setting('webhook.retryMaxMs', z.coerce.number().int().min(10).max(86_400_000).default(600_000), 'Longest delay between two attempts.'),
  WEBHOOK_MAX_ATTEMPTS: setting('webhook.maxAttempts', z.coerce.number().int().min(1).max(10_000).default(300), 'Attempts before an outcome is given up (logged at error, counted); about 2 days at the defaults.'),
  WEBHOOK_TIMEOUT_MS: setting('webhook.timeoutMs', z.coerce.number().int().min(100).max(120_000).default(10_000), 'Timeout of one webhook request.'),
  RECONCILE_INTERVAL_S: setting('reconcile.intervalSeconds', z.coerce.number().int().min(0).max(86_400).default(60), 'Seconds between reconciliation sweeps of sessions flagged needsReconciliation; 0: off.'),
  DEMO_NO_ANSWER_SETTLE_S: setting('demo.noAnswerSettleSeconds', z.coerce.number().int().min(0).max(86_400).optional(), 'Demo only: the no-answer test card is decided this many seconds after the gateway gave up (unset: pending forever).'),

  AGENTS: secret(agentList.prefault('agent-1:demo,agent-2:demo,agent-3:demo'), 'Agent credentials id:password (demo) or id:$tg1$... (hashed by npm run credential:hash), comma-separated.'),
  SUPERVISOR_TOKEN: secret(z.string().min(16).optional(), 'Static bearer token with supervisor rights (REST, dashboard), for machine clients; demo: generated and printed; production: optional, unset means none.'),
  SUPERVISORS: secret(
    supervisorList.default([]),
    'Named supervisors who sign in with a TOTP code (RFC 6238): name:$tg1$...:BASE32SECRET entries made by npm run credential:hash -- --supervisor <name> (demo may use name:password:BASE32SECRET), comma-separated; required in production.',
  ),
  HANDOFF_API_KEY: secret(z.string().min(16).optional(), 'API key for POST /api/handoffs; demo: generated and printed.'),
  HANDOFF_HMAC_KEY: secret(z.string().min(16).optional(), 'HMAC-SHA256 key of X-Pay-Signature (the profiles\' signature.keyEnv).'),
  REDIS_PASSWORD: secret(z.string().min(1).optional(), 'Redis AUTH password when REDIS_URL carries none.'),
  PAYMENT_API_KEY: secret(z.string().min(1).optional(), 'API key sent to the provider as X-API-Key.'),
  PAYMENT_API_BEARER: secret(z.string().min(1).optional(), 'Bearer token sent to the provider (Authorization: Bearer).'),
  WEBHOOK_SECRET: secret(z.string().min(16).optional(), 'HMAC-SHA256 key of X-Tonegate-Signature (required with WEBHOOK_URL).'),
  AUDIT_KEY: secret(z.string().min(1).optional(), 'HMAC-SHA256 key of the audit chain, hex or base64 of at least 32 bytes (openssl rand -hex 32); required in production.'),
  LOOKUP_DATABASE_URL: secret(
    z.string().min(1).optional(),
    'PostgreSQL URL (postgres://user:password@host:5432/db) of the lookup database that SIP profiles of kind sql query; required when one is used. Sessions are read-only with a statement_timeout; URL parameters other than sslmode, sslrootcert, sslcert, sslkey, application_name and host are refused.',
  ),
  METRICS_TOKEN: secret(z.string().min(16).optional(), 'Bearer token for /metrics on the main HTTP port.'),
} as const;

type Settings = typeof SETTINGS;
export type SettingName = keyof Settings;
export const SETTING_NAMES = Object.keys(SETTINGS) as SettingName[];
/** Names read from the environment only (and from `<NAME>_FILE`), never from the file. */
export const SECRET_NAMES = SETTING_NAMES.filter((k) => SETTINGS[k].file === undefined);

const shape = Object.fromEntries(SETTING_NAMES.map((k) => [k, SETTINGS[k].schema])) as { [K in SettingName]: Settings[K]['schema'] };

/** The settings by environment name (each value a string or the file's native value). */
export const configSchema = z
  .object(shape)
  .refine((c) => c.MIN_SE_S <= c.SESSION_EXPIRES_S, { message: 'MIN_SE_S must not exceed SESSION_EXPIRES_S', path: ['MIN_SE_S'] })
  .refine((c) => c.RTP_PORT_MIN < c.RTP_PORT_MAX, { message: 'RTP_PORT_MIN must be below RTP_PORT_MAX', path: ['RTP_PORT_MIN'] })
  .superRefine((c, ctx) => {
    // Pairs: the one missing is named.
    for (const [a, b] of [['METRICS_HOST', 'METRICS_PORT'], ['TLS_CERT_FILE', 'TLS_KEY_FILE']] as const) {
      if ((c[a] === undefined) !== (c[b] === undefined)) ctx.addIssue({ code: 'custom', message: `${a} and ${b} go together`, path: [c[a] === undefined ? a : b] });
    }
    if (!c.PROMPT_LANGUAGES.includes(c.DEFAULT_LANGUAGE)) ctx.addIssue({ code: 'custom', message: `DEFAULT_LANGUAGE ${c.DEFAULT_LANGUAGE} is not one of PROMPT_LANGUAGES`, path: ['DEFAULT_LANGUAGE'] });
    // The number plan, one line per bad entry (config/number-plan.ts).
    const numbering = { countryCode: c.ROUTING_COUNTRY_CODE, nationalPrefix: c.ROUTING_NATIONAL_PREFIX };
    for (const [i, field, message] of numberPlanProblems(c.ROUTING_NUMBERS ?? [], numbering)) ctx.addIssue({ code: 'custom', message, path: ['ROUTING_NUMBERS', i, field] });
    // The DID pool as it will run (demo mode's when unset), against the plan's exact numbers.
    const planned = planSettings(c);
    for (const [i, , message] of didPoolProblems(planned.pool, numbering, planned.entries)) ctx.addIssue({ code: 'custom', message, path: ['ROUTING_DID_POOL', i] });
  });

export type Config = z.output<typeof configSchema> & {
  /** Capture policy from the file's `capture:` section (capture.ts); defaults when absent. */
  readonly capture?: z.output<typeof capturePolicySchema>;
  /** SMS under DLT from the file's `sms:` section (sms.ts), route keys read from the environment; absent: the demo registration. */
  readonly sms?: SmsSettings;
  /** The providers as loadConfig checked them (config/provider-plan.ts); calls/payment rebuilds the plan from the settings and providerSecrets. */
  readonly providerPlan?: ProviderPlan;
  /** The named providers' credentials, by the variable `auth.secretEnv` names; set by loadConfig. */
  readonly providerSecrets?: Readonly<Record<string, string>>;
};

/** The file's dotted key of an environment name (undefined for secrets). */
export function fileKeyOf(name: SettingName): string | undefined {
  return SETTINGS[name].file;
}

/**
 * The YAML file's schema: the settings nested by their dotted keys, every key optional, unknown
 * keys refused (a typo is an error, not a silently ignored setting), plus `capture:` and `sms:`.
 */
function buildFileSchema(): z.ZodType {
  interface Node { [k: string]: Node | z.ZodType }
  const root: Node = {};
  for (const name of SETTING_NAMES) {
    const key = SETTINGS[name].file;
    if (!key) continue;
    const parts = key.split('.');
    let node = root;
    for (const p of parts.slice(0, -1)) node = (node[p] ??= {}) as Node;
    node[parts.at(-1)!] = (SETTINGS[name].schema as z.ZodType).optional().meta({ env: name });
  }
  const toZod = (n: Node): z.ZodType =>
    z.strictObject(Object.fromEntries(Object.entries(n).map(([k, v]) => [k, v instanceof z.ZodType ? v : toZod(v).optional()])));
  const base = toZod(root) as z.ZodObject;
  return base.extend({ capture: capturePolicySchema.optional(), sms: smsSectionSchema.optional() }).strict().meta({
    title: 'tonegate configuration',
    description: 'The file named by TONEGATE_CONFIG. Environment variables override it; secrets are never in it.',
  });
}

export const fileSchema = buildFileSchema();

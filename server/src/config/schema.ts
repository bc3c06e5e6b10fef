import { z } from 'zod';

/** Agents are `id:password` pairs separated by commas: `agent-1:demo,agent-2:demo`. */
const agentList = z
  .string()
  .transform((s, ctx) => {
    const out: { id: string; password: string }[] = [];
    for (const part of s.split(',').map((p) => p.trim()).filter(Boolean)) {
      const i = part.indexOf(':');
      const id = i > 0 ? part.slice(0, i) : '';
      if (!/^[A-Za-z0-9._-]{1,64}$/.test(id) || i === part.length - 1) {
        ctx.addIssue({ code: z.ZodIssueCode.custom, message: `AGENTS entry "${part.split(':')[0]}" must be id:password with id of [A-Za-z0-9._-]` });
        return z.NEVER;
      }
      out.push({ id, password: part.slice(i + 1) });
    }
    return out;
  });

/** Origins are `scheme://host[:port]` separated by commas: `https://cc.example.com,http://localhost:3000`. */
const originList = z.string().transform((s, ctx) => {
  const out: string[] = [];
  for (const part of s.split(',').map((p) => p.trim()).filter(Boolean)) {
    let origin: string | undefined;
    try {
      const u = new URL(part);
      const bare = u.pathname === '/' && !u.search && !u.hash && !u.username && !u.password && !part.endsWith('/');
      if ((u.protocol === 'http:' || u.protocol === 'https:') && bare) origin = u.origin;
    } catch {
      // reported below
    }
    if (!origin) {
      ctx.addIssue({ code: z.ZodIssueCode.custom, message: `ALLOWED_ORIGINS entry "${part.slice(0, 100)}" must be an origin like https://host:port (no path)` });
      return z.NEVER;
    }
    out.push(origin);
  }
  return out;
});

const port = z.coerce.number().int().min(1).max(65535);

/** The whole runtime configuration, from the environment (design.md, "External contract"). */
export const configSchema = z
  .object({
    SIP_HOST: z.string().ip().default('127.0.0.1'),
    SIP_PORT: port.default(5060),
    HTTP_HOST: z.string().default('127.0.0.1'),
    HTTP_PORT: port.default(8080),
    RTP_PORT_MIN: port.default(20000),
    RTP_PORT_MAX: port.default(20999),
    /** Address put in SDP for anchored media; defaults to SIP_HOST. */
    MEDIA_ADDRESS: z.string().ip().optional(),
    DEMO_PG_PORT: port.default(8090),
    PAYMENT_API_URL: z.string().url().optional(),
    REDIS_URL: z.string().url().optional(),
    // issue 6: Redis outages and the audit trail
    /** Events held in memory while Redis is down; the oldest are dropped beyond it (logged, counted). */
    REDIS_OUTAGE_BUFFER: z.coerce.number().int().min(1).max(1_000_000).default(10_000),
    /** Append-only JSONL audit trail with a SHA-256 hash chain (`npm run audit:verify`). */
    AUDIT_LOG: z.string().min(1).default('./data/audit.jsonl'),
    SUPERVISOR_TOKEN: z.string().min(16).optional(),
    /** API key of the call centre's system for `POST /api/handoffs` (demo: generated and printed). */
    HANDOFF_API_KEY: z.string().min(16).optional(),
    SIP_PROFILE: z.string().regex(/^[a-z0-9-]+$/).default('generic'),
    DEMO_OTP: z.string().regex(/^\d{4,8}$/).optional(),
    LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
    AGENTS: agentList.default('agent-1:demo,agent-2:demo,agent-3:demo'),
    /** Digest realm for REGISTER challenges. */
    SIP_REALM: z.string().min(1).max(128).default('tonegate'),
    /**
     * Digest algorithms offered in REGISTER challenges, preferred first (RFC 8760 2.4). Set `MD5`
     * alone for SIP phones that fail on a SHA-256 challenge (SIPp 3.6 is one).
     */
    SIP_DIGEST_ALGORITHMS: z
      .string()
      .default('SHA-256,MD5')
      .transform((s) => s.split(',').map((x) => x.trim().toUpperCase()))
      .pipe(z.array(z.enum(['SHA-256', 'MD5'])).min(1)),
    /** Media worker threads (default: one per core). */
    MEDIA_WORKERS: z.coerce.number().int().min(1).max(64).optional(),
    /** Prompt audio directory (`<dir>/<lang>/<clip>.wav`, made by `npm run prompts`). */
    PROMPTS_DIR: z.string().min(1).optional(),
    /** Prompt language when the handoff names none. */
    DEFAULT_LANGUAGE: z.enum(['en', 'hi']).default('en'),
    /** Name of this gateway instance in session records (scale-out). */
    INSTANCE_ID: z.string().regex(/^[A-Za-z0-9._-]{1,64}$/).default('gw-1'),
    /**
     * Origins whose browser pages may open `/events` (comma-separated). Unset: same origin only (the
     * Origin's host:port must equal the Host header); a client without Origin still needs a token.
     */
    ALLOWED_ORIGINS: originList.optional(),
    /** The payment provider's credentials, client certificate and card key (docs/security.md; providers/access.ts). */
    PAYMENT_API_KEY: z.string().min(1).optional(),
    PAYMENT_API_KEY_FILE: z.string().min(1).optional(),
    PAYMENT_API_BEARER: z.string().min(1).optional(),
    PAYMENT_API_BEARER_FILE: z.string().min(1).optional(),
    PAYMENT_TLS_CERT_FILE: z.string().min(1).optional(),
    PAYMENT_TLS_KEY_FILE: z.string().min(1).optional(),
    PAYMENT_TLS_CA_FILE: z.string().min(1).optional(),
    PAYMENT_CARD_KEY_FILE: z.string().min(1).optional(),
    PAYMENT_CARD_KEY_SHA256: z.string().min(1).optional(),
    /** SRTP with SDES on SIP legs: required | offer | off (docs/security.md). Unset: off in demo mode. */
    SRTP: z.enum(['required', 'offer', 'off']).optional(),
    /** Seconds an INVITE to an agent may ring before the caller gets 480. */
    RING_TIMEOUT_S: z.coerce.number().int().min(5).max(600).default(60),
    /**
     * Origins (scheme://host[:port], comma-separated) allowed to embed the agent widget in an iframe
     * and to prefill it by postMessage (agent-widget/README.md). Unset: same origin only.
     */
    WIDGET_EMBED_ORIGINS: z
      .string()
      .default('')
      .transform((s) => s.split(',').map((x) => x.trim()).filter(Boolean))
      .pipe(z.array(z.string().regex(/^https?:\/\/[A-Za-z0-9.-]+(:\d{1,5})?$/, 'an origin such as https://crm.example.com'))),
  })
  .refine((c) => c.RTP_PORT_MIN < c.RTP_PORT_MAX, { message: 'RTP_PORT_MIN must be below RTP_PORT_MAX', path: ['RTP_PORT_MIN'] });

export type Config = z.infer<typeof configSchema>;

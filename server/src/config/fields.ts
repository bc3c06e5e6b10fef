import { isIP } from 'node:net';
import { z } from 'zod/v4';
import { hasDigest, isHashed, parseHashed } from '../security/credentials.js';
import { parseFingerprint } from '../security/peers.js';
import { parseRate, type EdgeCapKey, type EdgeRateKey, type RateSpec, type VelocityKey } from '../security/rates.js';
import { base32Decode } from '../security/totp.js';

/**
 * Value types of the settings (docs/operations.md, "Configuration"). Every one accepts the string
 * an environment variable carries and the native YAML value of the configuration file (a number,
 * a boolean, a list), so one schema checks both.
 */

/** A list: a YAML sequence of strings, or one comma-separated string (the environment form). */
export function list<T extends z.ZodType<unknown, string>>(item: T) {
  return z
    .union([z.array(z.string()), z.string()])
    .transform((v) => (Array.isArray(v) ? v : v.split(',')).map((x) => x.trim()).filter(Boolean))
    .pipe(z.array(item));
}

export const port = z.coerce.number({ error: 'must be a port number' }).int().min(1).max(65535);

export const ip = z.union([z.ipv4(), z.ipv6()], { error: 'must be an IPv4 or IPv6 address' });

/** `true`/`false` in YAML; `true|false|1|0|yes|no` in the environment. */
export const flag = z
  .union([z.boolean(), z.enum(['true', 'false', '1', '0', 'yes', 'no'])])
  .transform((v) => v === true || v === 'true' || v === '1' || v === 'yes');

/** A path to a readable file; whether it exists is checked where it matters (production checks). */
export const filePath = z.string().min(1).max(4096);

/** An origin `scheme://host[:port]` (no path). */
export const origin = z.string().transform((part, ctx) => {
  try {
    const u = new URL(part);
    const bare = u.pathname === '/' && !u.search && !u.hash && !u.username && !u.password && !part.endsWith('/');
    if ((u.protocol === 'http:' || u.protocol === 'https:') && bare) return u.origin;
  } catch {
    // reported below
  }
  ctx.addIssue({ code: 'custom', message: `"${part.slice(0, 100)}" must be an origin like https://host:port (no path)` });
  return z.NEVER;
});

/**
 * The agents' SIP WebSocket URL (RFC 7118) the widget opens instead of the gateway's own `/sip`
 * (SIP_WS_URL; README, "Agents across instances"): `ws:` or `wss:` with a host, no credentials
 * (a browser would not send them, and they would show in every page's config), no fragment
 * (RFC 6455 3). Normalised by the URL parser (`ws://k:8080` is `ws://k:8080/`); production refuses `ws:` (production.ts).
 */
export const sipWsUrl = z.string().transform((text, ctx) => {
  let u: URL | undefined;
  try {
    u = new URL(text);
  } catch {
    u = undefined;
  }
  const why = sipWsUrlProblem(text, u);
  if (!why) return u!.href;
  // A URL with credentials is named without them.
  const shown = u && (u.username || u.password) ? `${u.protocol}//…@${u.host}` : text.slice(0, 100);
  ctx.addIssue({ code: 'custom', message: `"${shown}" ${why} (e.g. wss://sip.example.com/)` });
  return z.NEVER;
});

function sipWsUrlProblem(text: string, u: URL | undefined): string | undefined {
  if (!u) return 'is not a URL';
  if (u.protocol !== 'ws:' && u.protocol !== 'wss:') return 'must be a ws: or wss: URL';
  if (!u.hostname) return 'has no host';
  if (u.username || u.password) return 'may not carry credentials';
  if (u.hash || text.includes('#')) return 'may not have a fragment';
  return undefined;
}

/** One agent credential: `id:password` (demo) or `id:$tg1$...` (hashed, security/credentials.ts). */
export interface AgentCredential {
  readonly id: string;
  /** The plain password or the encoded hashed entry. */
  readonly password: string;
}

const AGENT_ID = /^[A-Za-z0-9._-]{1,64}$/;

/** `id:password` or `id:$tg1$...` entries, comma-separated (AGENTS). */
export const agentList = z.string().transform((s, ctx) => {
  const out: AgentCredential[] = [];
  for (const part of s.split(',').map((p) => p.trim()).filter(Boolean)) {
    const i = part.indexOf(':');
    const id = i > 0 ? part.slice(0, i) : '';
    const password = part.slice(i + 1);
    if (!AGENT_ID.test(id) || i === part.length - 1) {
      ctx.addIssue({ code: 'custom', message: `entry "${part.split(':')[0]!.slice(0, 64)}" must be id:password with id of [A-Za-z0-9._-]` });
      return z.NEVER;
    }
    const hashed = isHashed(password) ? parseHashed(password) : undefined;
    if (isHashed(password) && !hashed) {
      ctx.addIssue({ code: 'custom', message: `entry "${id}" looks like a hashed credential but is malformed (make it with npm run credential:hash)` });
      return z.NEVER;
    }
    if (hashed && !hasDigest(hashed)) {
      // A supervisor entry has no digest HA1 (all zeros): as an agent's, anyone could answer its challenge.
      ctx.addIssue({ code: 'custom', message: `entry "${id}" was made with --supervisor and has no SIP digest; make it with npm run credential:hash -- ${id}` });
      return z.NEVER;
    }
    if (out.some((a) => a.id === id)) {
      ctx.addIssue({ code: 'custom', message: `agent "${id}" is listed twice` });
      return z.NEVER;
    }
    out.push({ id, password });
  }
  return out;
});

/** A peer allowed to start payments (docs/security.md, "Trusted peers"). */
export type TrustedPeer =
  | { readonly kind: 'cidr'; readonly text: string; readonly family: 4 | 6; readonly address: string; readonly prefix: number }
  | { readonly kind: 'fingerprint'; readonly text: string; /** SHA-256 of the peer's DER certificate, upper-case hex pairs joined by `:` */ readonly sha256: string };

/**
 * `10.0.0.0/8`, `192.0.2.7` (one host), `fd00::/8`, or a TLS client certificate's SHA-256
 * fingerprint: `sha256:AB:CD:...` (RFC 8122 5 form), `AB:CD:...` or 64 plain hex digits, any case
 * (security/peers.ts, parseFingerprint).
 */
export const trustedPeer = z.string().transform((text, ctx): TrustedPeer => {
  const fp = parseFingerprint(text);
  if (fp) return { kind: 'fingerprint', text, sha256: fp.slice('sha256:'.length) };
  const [address = '', prefixText, extra] = text.split('/');
  const family = isIP(address);
  const max = family === 6 ? 128 : 32;
  const prefix = prefixText === undefined ? max : /^\d{1,3}$/.test(prefixText) ? Number(prefixText) : NaN;
  if ((family === 4 || family === 6) && extra === undefined && prefix >= 0 && prefix <= max) return { kind: 'cidr', text, family, address, prefix };
  ctx.addIssue({ code: 'custom', message: `"${text.slice(0, 100)}" is neither a CIDR (10.0.0.0/8, fd00::/8, 192.0.2.7) nor a SHA-256 fingerprint (sha256:AB:CD:..., 32 bytes)` });
  return z.NEVER;
});

/** `key:value` (the entries of VELOCITY_LIMITS and EDGE_LIMITS); undefined key when there is no `:`. */
function pair(entry: string): [string | undefined, string] {
  const i = entry.indexOf(':');
  return i > 0 ? [entry.slice(0, i).trim(), entry.slice(i + 1).trim()] : [undefined, entry];
}

/** Per-key overrides of the velocity limits: a rate, or `off` to remove the mode's default. */
export type VelocityOverrides = Partial<Record<VelocityKey, RateSpec | 'off'>>;
const VELOCITY_KEYS: readonly VelocityKey[] = ['source', 'merchant', 'mobile', 'card'];

/** `source:N/1m,merchant:N/1m,mobile:N/1h,card:N/1h` entries, `off` for one (VELOCITY_LIMITS). */
export const velocityLimits = list(z.string()).transform((entries, ctx): VelocityOverrides => {
  const out: VelocityOverrides = {};
  for (const entry of entries) {
    const [k, v] = pair(entry);
    if (!VELOCITY_KEYS.includes(k as VelocityKey)) {
      ctx.addIssue({ code: 'custom', message: `"${entry.slice(0, 60)}" must be key:N/period or key:off with key one of ${VELOCITY_KEYS.join(', ')}` });
      continue;
    }
    const rate = v === 'off' ? 'off' : parseRate(v);
    if (rate) out[k as VelocityKey] = rate;
    else ctx.addIssue({ code: 'custom', message: `${k} must be N/period (e.g. 10/1h) or off` });
  }
  return out;
});

/** Overrides of the edge limits (EDGE_LIMITS): rates per source, socket caps per address. */
export interface EdgeOverrides {
  readonly rates: Partial<Record<EdgeRateKey, RateSpec>>;
  readonly caps: Partial<Record<EdgeCapKey, number>>;
}
const EDGE_RATE_KEYS: readonly EdgeRateKey[] = ['invite', 'register', 'ws-messages'];
const EDGE_CAP_KEYS: readonly EdgeCapKey[] = ['sockets', 'ws-per-ip'];

/** `invite:200/1s,register:50/1s,sockets:200,ws-messages:50/1s` entries (EDGE_LIMITS). */
export const edgeLimits = list(z.string()).transform((entries, ctx): EdgeOverrides => {
  const rates: EdgeOverrides['rates'] = {};
  const caps: EdgeOverrides['caps'] = {};
  for (const entry of entries) {
    const [k, v] = pair(entry);
    if (EDGE_CAP_KEYS.includes(k as EdgeCapKey)) {
      const n = /^\d{1,6}$/.test(v) ? Number(v) : 0;
      if (n >= 1) caps[k as EdgeCapKey] = n;
      else ctx.addIssue({ code: 'custom', message: `${k} must be a whole number >= 1` });
    } else if (EDGE_RATE_KEYS.includes(k as EdgeRateKey)) {
      const r = parseRate(v);
      if (r) rates[k as EdgeRateKey] = r;
      else ctx.addIssue({ code: 'custom', message: `${k} must be N/period (e.g. 200/1s)` });
    } else {
      ctx.addIssue({ code: 'custom', message: `"${entry.slice(0, 60)}" must be key:value with key one of ${[...EDGE_RATE_KEYS, ...EDGE_CAP_KEYS].join(', ')}` });
    }
  }
  return { rates, caps };
});

/** A country code a customer mobile may start with (ALLOWED_MOBILE_PREFIXES). */
export const mobilePrefix = z.string().regex(/^\+\d{1,6}$/, 'must be + and 1-6 digits (a country code such as +91)');

/** A named supervisor with a TOTP secret (docs/security.md, "Sign-in"). */
export interface SupervisorCredential {
  readonly name: string;
  /** A plain password (demo) or a `$tg1$` entry (security/credentials.ts). */
  readonly password: string;
  /** The TOTP secret (RFC 6238), decoded from base32. */
  readonly secret: Buffer;
}

/**
 * `name:password:BASE32SECRET` or `name:$tg1$...:BASE32SECRET` entries, comma-separated
 * (SUPERVISORS). A problem names the entry by its name or position, never by its password.
 */
export const supervisorList = z.string().transform((s, ctx): SupervisorCredential[] => {
  const out: SupervisorCredential[] = [];
  s.split(',').map((p) => p.trim()).filter(Boolean).forEach((part, i) => {
    const first = part.indexOf(':');
    const last = part.lastIndexOf(':');
    const name = first > 0 ? part.slice(0, first) : '';
    const label = AGENT_ID.test(name) ? `"${name}"` : `number ${i + 1}`;
    let secret: Buffer | undefined;
    try {
      secret = base32Decode(part.slice(last + 1));
    } catch {
      secret = undefined;
    }
    const password = part.slice(first + 1, Math.max(first + 1, last));
    if (!AGENT_ID.test(name) || last <= first + 1 || !secret || secret.length < 10) {
      ctx.addIssue({ code: 'custom', message: `entry ${label} must be name:password:SECRET with a base32 TOTP secret of at least 16 characters` });
    } else if (isHashed(password) && !parseHashed(password)) {
      ctx.addIssue({ code: 'custom', message: `entry ${label} looks like a hashed password but is malformed (make it with npm run credential:hash -- --supervisor ${name})` });
    } else if (out.some((a) => a.name === name)) {
      ctx.addIssue({ code: 'custom', message: `supervisor ${label} is listed twice` });
    } else {
      out.push({ name, password, secret });
    }
  });
  return out;
});

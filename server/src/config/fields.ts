import { isIP } from 'node:net';
import { z } from 'zod/v4';
import { isHashed, parseHashed } from '../security/credentials.js';

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
    if (isHashed(password) && !parseHashed(password)) {
      ctx.addIssue({ code: 'custom', message: `entry "${id}" looks like a hashed credential but is malformed (make it with npm run credential:hash)` });
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
 * `10.0.0.0/8`, `192.0.2.7` (one host), `fd00::/8`, or `sha256:AB:CD:...` (a TLS client
 * certificate's SHA-256 fingerprint, RFC 8122 5 form; colons optional).
 */
export const trustedPeer = z.string().transform((text, ctx): TrustedPeer => {
  const fp = /^sha256:((?:[0-9A-Fa-f]{2}:?){32})$/i.exec(text);
  if (fp) {
    const hex = fp[1]!.replace(/:/g, '').toUpperCase();
    if (hex.length === 64 && !fp[1]!.endsWith(':')) return { kind: 'fingerprint', text, sha256: hex.match(/../g)!.join(':') };
  }
  const [address = '', prefixText, extra] = text.split('/');
  const family = isIP(address);
  const max = family === 6 ? 128 : 32;
  const prefix = prefixText === undefined ? max : /^\d{1,3}$/.test(prefixText) ? Number(prefixText) : NaN;
  if ((family === 4 || family === 6) && extra === undefined && prefix >= 0 && prefix <= max) return { kind: 'cidr', text, family, address, prefix };
  ctx.addIssue({ code: 'custom', message: `"${text.slice(0, 100)}" is neither a CIDR (10.0.0.0/8, fd00::/8, 192.0.2.7) nor a fingerprint sha256:AB:CD:... (32 bytes)` });
  return z.NEVER;
});

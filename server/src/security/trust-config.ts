import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { parseTrustedPeers, TrustedPeersError, type TrustedPeers } from './peers.js';
import { base32Decode } from './totp.js';

/**
 * The trust-boundary settings (docs/security.md), read from the environment by a typed accessor
 * of their own: `TONEGATE_MODE`, `TRUSTED_PEERS`, `ALLOWED_MOBILE_PREFIXES`, `VELOCITY_LIMITS`,
 * `EDGE_LIMITS`. Bad values throw an error naming the variable (fail fast, like config/).
 */
export type Mode = 'demo' | 'production';

/** `count` events per `periodMs`, as a token bucket (rate count/period, burst count). */
export interface RateSpec {
  readonly count: number;
  readonly periodMs: number;
}

export type VelocityKey = 'source' | 'merchant' | 'mobile' | 'card';
export type EdgeRateKey = 'invite' | 'register' | 'ws-messages';
export type EdgeCapKey = 'sockets' | 'ws-per-ip';

export interface TrustConfig {
  readonly mode: Mode;
  /** Undefined: TRUSTED_PEERS unset, anyone may start a payment (demo). */
  readonly trustedPeers: TrustedPeers | undefined;
  /** E.164 prefixes (`+91`) a customer mobile must start with. */
  readonly mobilePrefixes: readonly string[];
  readonly velocity: Readonly<Partial<Record<VelocityKey, RateSpec>>>;
  readonly edgeRates: Readonly<Record<EdgeRateKey, RateSpec>>;
  readonly edgeCaps: Readonly<Record<EdgeCapKey, number>>;
  /** Production: every headers-based transfer handoff must carry a v2 signature (Request-URI, Call-ID, nonce). */
  readonly requireSignature: boolean;
  /** Named supervisors with a TOTP secret (`SUPERVISORS=name:password:BASE32SECRET,...`). */
  readonly supervisors: readonly { readonly name: string; readonly password: string; readonly secret: Buffer }[];
  /** HMAC key of the audit chain, read from AUDIT_KEY_FILE (at least 32 bytes). */
  readonly auditKey: Buffer | undefined;
}

export class TrustConfigError extends Error {
  constructor(readonly issues: string[]) {
    super(`invalid configuration:\n  ${issues.join('\n  ')}`);
    this.name = 'TrustConfigError';
  }
}

const PERIOD: Record<string, number> = { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/** `10/1h`, `200/1s`, `5/30m`. */
export function parseRate(text: string): RateSpec | undefined {
  const m = /^(\d{1,9})\/(\d{1,6})?([smhd])$/.exec(text.trim());
  if (!m) return undefined;
  const count = Number(m[1]);
  const periodMs = Number(m[2] ?? 1) * PERIOD[m[3]!]!;
  return count >= 1 && periodMs > 0 ? { count, periodMs } : undefined;
}

/** `key:value` pairs, comma-separated, keys from `allowed`. */
function pairs(name: string, text: string, allowed: readonly string[], issues: string[]): Map<string, string> {
  const out = new Map<string, string>();
  for (const part of text.split(',').map((p) => p.trim()).filter(Boolean)) {
    const i = part.indexOf(':');
    const k = i > 0 ? part.slice(0, i).trim() : '';
    if (!allowed.includes(k)) {
      issues.push(`${name}: "${part.slice(0, 60)}" must be key:value with key one of ${allowed.join(', ')}`);
      continue;
    }
    out.set(k, part.slice(i + 1).trim());
  }
  return out;
}

/** Defaults (docs/security.md): generous enough for bench:load from one PBX, tight enough to stop a flood. */
export const EDGE_RATE_DEFAULTS: Record<EdgeRateKey, RateSpec> = {
  invite: { count: 200, periodMs: 1000 },
  register: { count: 50, periodMs: 1000 },
  'ws-messages': { count: 50, periodMs: 1000 },
};
export const EDGE_CAP_DEFAULTS: Record<EdgeCapKey, number> = { sockets: 200, 'ws-per-ip': 50 };
/** Production velocity defaults (unset in demo: the demo and its tests reuse one mobile). */
export const PRODUCTION_VELOCITY: Partial<Record<VelocityKey, RateSpec>> = {
  mobile: { count: 10, periodMs: 3_600_000 },
  card: { count: 5, periodMs: 3_600_000 },
};

const modeSchema = z.enum(['demo', 'production']);

export function loadTrustConfig(env: Readonly<Record<string, string | undefined>> = process.env): TrustConfig {
  const issues: string[] = [];
  const modeParse = modeSchema.safeParse(env['TONEGATE_MODE'] || 'demo');
  if (!modeParse.success) issues.push('TONEGATE_MODE: must be demo or production');
  const mode: Mode = modeParse.success ? modeParse.data : 'demo';

  let trustedPeers: TrustedPeers | undefined;
  const tp = env['TRUSTED_PEERS'];
  if (tp !== undefined && tp.trim() !== '') {
    try {
      trustedPeers = parseTrustedPeers(tp);
    } catch (err) {
      issues.push(`TRUSTED_PEERS: ${err instanceof TrustedPeersError ? err.message : String(err)}`);
    }
  }

  const prefixes = (env['ALLOWED_MOBILE_PREFIXES'] || '+91').split(',').map((p) => p.trim()).filter(Boolean);
  for (const p of prefixes) if (!/^\+\d{1,6}$/.test(p)) issues.push(`ALLOWED_MOBILE_PREFIXES: "${p.slice(0, 20)}" must be + and 1-6 digits (a country code such as +91)`);

  const velocity: Partial<Record<VelocityKey, RateSpec>> = mode === 'production' ? { ...PRODUCTION_VELOCITY } : {};
  for (const [k, v] of pairs('VELOCITY_LIMITS', env['VELOCITY_LIMITS'] ?? '', ['source', 'merchant', 'mobile', 'card'], issues)) {
    if (v === 'off') delete velocity[k as VelocityKey];
    else {
      const r = parseRate(v);
      if (r) velocity[k as VelocityKey] = r;
      else issues.push(`VELOCITY_LIMITS: ${k} must be N/period (e.g. 10/1h) or off`);
    }
  }

  const edgeRates: Record<EdgeRateKey, RateSpec> = { ...EDGE_RATE_DEFAULTS };
  const edgeCaps: Record<EdgeCapKey, number> = { ...EDGE_CAP_DEFAULTS };
  for (const [k, v] of pairs('EDGE_LIMITS', env['EDGE_LIMITS'] ?? '', ['invite', 'register', 'ws-messages', 'sockets', 'ws-per-ip'], issues)) {
    if (k === 'sockets' || k === 'ws-per-ip') {
      const n = /^\d{1,6}$/.test(v) ? Number(v) : 0;
      if (n >= 1) edgeCaps[k] = n;
      else issues.push(`EDGE_LIMITS: ${k} must be a whole number >= 1`);
    } else {
      const r = parseRate(v);
      if (r) edgeRates[k as EdgeRateKey] = r;
      else issues.push(`EDGE_LIMITS: ${k} must be N/period (e.g. 200/1s)`);
    }
  }
  const supervisors: { name: string; password: string; secret: Buffer }[] = [];
  for (const part of (env['SUPERVISORS'] ?? '').split(',').map((p) => p.trim()).filter(Boolean)) {
    const first = part.indexOf(':');
    const last = part.lastIndexOf(':');
    const name = part.slice(0, Math.max(0, first));
    let secret: Buffer | undefined;
    try {
      secret = base32Decode(part.slice(last + 1));
    } catch {
      secret = undefined;
    }
    if (first <= 0 || last <= first + 1 || !/^[A-Za-z0-9._-]{1,64}$/.test(name) || !secret || secret.length < 10) {
      issues.push(`SUPERVISORS: "${name.slice(0, 64) || part.slice(0, 10)}" must be name:password:SECRET with a base32 TOTP secret of at least 16 characters`);
      continue;
    }
    supervisors.push({ name, password: part.slice(first + 1, last), secret });
  }
  let auditKey: Buffer | undefined;
  const keyFile = env['AUDIT_KEY_FILE'];
  if (keyFile) {
    try {
      auditKey = readFileSync(keyFile);
      if (auditKey.length < 32) issues.push('AUDIT_KEY_FILE: the key must be at least 32 bytes (e.g. openssl rand -out FILE 32)');
    } catch (err) {
      issues.push(`AUDIT_KEY_FILE: cannot read it (${(err as NodeJS.ErrnoException).code ?? 'error'})`);
    }
  }
  if (issues.length) throw new TrustConfigError(issues);
  return {
    auditKey, mode, trustedPeers, mobilePrefixes: prefixes, velocity, edgeRates, edgeCaps, requireSignature: mode === 'production', supervisors };
}

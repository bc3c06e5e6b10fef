import { createHmac, timingSafeEqual } from 'node:crypto';
import type { RawFields, TxnField } from './transaction.js';

/**
 * HMAC-SHA256 signature of a handoff (RFC 2104 HMAC, FIPS 180-4 SHA-256), documented for the call
 * centre's developers in sip-profiles/README.md.
 *
 * Header value: `t=<unix seconds>,v1=<64 lowercase hex>`.
 * Canonical string: these 11 lines joined by LF (no trailing LF), each value exactly as sent with
 * surrounding whitespace trimmed, an absent field as the empty string:
 *
 * ```
 * tonegate-handoff-v1
 * <t>
 * <amount>
 * <currency>
 * <merchantId>
 * <orderRef>
 * <customerMobile>
 * <agentId>
 * <language>
 * <returnTo>
 * <txnRef>
 * ```
 *
 * The values are the ones received (header, Refer-To URI header after %-decoding, or UUI value
 * after hex and %-decoding), so signer and verifier never disagree over normalisation. A
 * timestamp outside ±windowSeconds is `stale`; a signature seen before inside the window is
 * `replayed` (a {@link ReplayGuard} makes each one single-use).
 */
export const CANONICAL_VERSION = 'tonegate-handoff-v1';
export const CANONICAL_FIELDS: readonly TxnField[] = [
  'amount',
  'currency',
  'merchantId',
  'orderRef',
  'customerMobile',
  'agentId',
  'language',
  'returnTo',
  'txnRef',
];

/** Default replay window: a signature is accepted within ±5 minutes of its timestamp. */
export const DEFAULT_WINDOW_SECONDS = 300;

export function canonicalString(fields: RawFields, t: number): string {
  return [CANONICAL_VERSION, String(t), ...CANONICAL_FIELDS.map((f) => (fields[f] ?? '').trim())].join('\n');
}

export function signHandoff(fields: RawFields, key: string | Buffer, t: number): string {
  return `t=${t},v1=${createHmac('sha256', key).update(canonicalString(fields, t), 'utf8').digest('hex')}`;
}

export type SignatureProblem = 'malformed' | 'stale' | 'mismatch' | 'replayed';

/** Remembers signatures inside the replay window so that each is accepted once. Bounded. */
export class ReplayGuard {
  readonly #seen = new Map<string, number>();

  constructor(private readonly max = 100_000) {}

  /** False when `mac` was seen and has not expired; otherwise records it until `expiresAt` (epoch s). */
  firstUse(mac: string, nowSeconds: number, expiresAt: number): boolean {
    for (const [k, exp] of this.#seen) {
      if (exp > nowSeconds && this.#seen.size < this.max) break; // oldest first; the rest are newer
      this.#seen.delete(k);
    }
    const exp = this.#seen.get(mac);
    if (exp !== undefined && exp > nowSeconds) return false;
    this.#seen.set(mac, expiresAt);
    return true;
  }
}

export interface VerifyOptions {
  readonly key: string | Buffer;
  readonly nowSeconds: number;
  readonly windowSeconds?: number;
  readonly replay?: ReplayGuard;
}

/** Checks a signature header against the received fields. */
export function verifyHandoff(header: string, fields: RawFields, o: VerifyOptions): { ok: true } | { ok: false; problem: SignatureProblem } {
  const m = /^t=(\d{1,12}),v1=([0-9a-f]{64})$/.exec(header.trim());
  if (!m) return { ok: false, problem: 'malformed' };
  const t = Number(m[1]);
  const window = o.windowSeconds ?? DEFAULT_WINDOW_SECONDS;
  if (Math.abs(o.nowSeconds - t) > window) return { ok: false, problem: 'stale' };
  const expected = createHmac('sha256', o.key).update(canonicalString(fields, t), 'utf8').digest();
  const given = Buffer.from(m[2]!, 'hex');
  if (!timingSafeEqual(expected, given)) return { ok: false, problem: 'mismatch' };
  if (o.replay && !o.replay.firstUse(m[2]!, o.nowSeconds, t + window)) return { ok: false, problem: 'replayed' };
  return { ok: true };
}

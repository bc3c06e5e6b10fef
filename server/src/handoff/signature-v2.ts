import { createHmac, timingSafeEqual } from 'node:crypto';
import { CANONICAL_FIELDS, DEFAULT_WINDOW_SECONDS } from './signature.js';
import type { RawFields } from './transaction.js';

/**
 * Handoff signature v2 (docs/security.md, "Signed handoffs"; sip-profiles/README.md): like v1
 * (HMAC-SHA256, RFC 2104) but the signed string also binds the request to one SIP transaction and
 * makes it single-use: the Request-URI, the Call-ID and a nonce from `X-Pay-Nonce`.
 *
 * Header values: `X-Pay-Signature: t=<unix seconds>,v2=<64 lowercase hex>`,
 * `X-Pay-Nonce: <16-64 characters of A-Z a-z 0-9 _ ->`.
 * Canonical string, lines joined by LF (no trailing LF), values trimmed, absent = empty:
 *
 * ```
 * tonegate-handoff-v2
 * <t>
 * <nonce>
 * <Request-URI as received, e.g. sip:pay@gw.example.com>
 * <Call-ID>
 * <amount> <currency> <merchantId> <orderRef> <customerMobile> <agentId> <language> <returnTo> <txnRef>  (one per line)
 * ```
 *
 * A nonce is accepted once: a {@link NonceGuard} remembers it for the window (in Redis when the
 * gateway has one, so the refusal holds on every instance).
 */
export const CANONICAL_VERSION_V2 = 'tonegate-handoff-v2';
export const NONCE_PATTERN = /^[A-Za-z0-9_-]{16,64}$/;

/** Single-use nonces. `claim` is true the first time a nonce is seen within `ttlSeconds`. */
export interface NonceGuard {
  claim(nonce: string, ttlSeconds: number): Promise<boolean>;
}

/** Memory guard for one instance (no Redis). Bounded: the oldest entries go first. */
export class MemoryNonceGuard implements NonceGuard {
  readonly #seen = new Map<string, number>();

  constructor(
    private readonly nowMs: () => number = Date.now,
    private readonly max = 100_000,
  ) {}

  async claim(nonce: string, ttlSeconds: number): Promise<boolean> {
    const now = this.nowMs();
    for (const [k, exp] of this.#seen) {
      if (exp > now && this.#seen.size < this.max) break;
      this.#seen.delete(k);
    }
    const exp = this.#seen.get(nonce);
    if (exp !== undefined && exp > now) return false;
    this.#seen.set(nonce, now + ttlSeconds * 1000);
    return true;
  }
}

export interface BoundRequest {
  readonly requestUri: string;
  readonly callId: string;
  readonly nonce: string;
}

export function canonicalStringV2(fields: RawFields, t: number, bound: BoundRequest): string {
  return [CANONICAL_VERSION_V2, String(t), bound.nonce.trim(), bound.requestUri.trim(), bound.callId.trim(), ...CANONICAL_FIELDS.map((f) => (fields[f] ?? '').trim())].join('\n');
}

export function signHandoffV2(fields: RawFields, key: string | Buffer, t: number, bound: BoundRequest): string {
  return `t=${t},v2=${createHmac('sha256', key).update(canonicalStringV2(fields, t, bound), 'utf8').digest('hex')}`;
}

export function isV2(header: string): boolean {
  return /,v2=/.test(header);
}

export type V2Problem = 'malformed' | 'bad-nonce' | 'stale' | 'mismatch' | 'replayed';

/** Checks a v2 signature; the nonce is claimed only when the MAC matches (forgeries cannot burn nonces). */
export async function verifyHandoffV2(
  header: string,
  fields: RawFields,
  bound: { readonly requestUri: string; readonly callId: string; readonly nonce: string | undefined },
  o: { readonly key: string | Buffer; readonly nowSeconds: number; readonly windowSeconds?: number; readonly guard: NonceGuard },
): Promise<{ ok: true } | { ok: false; problem: V2Problem }> {
  const m = /^t=(\d{1,12}),v2=([0-9a-f]{64})$/.exec(header.trim());
  if (!m) return { ok: false, problem: 'malformed' };
  const nonce = bound.nonce?.trim();
  if (!nonce || !NONCE_PATTERN.test(nonce)) return { ok: false, problem: 'bad-nonce' };
  const t = Number(m[1]);
  const window = o.windowSeconds ?? DEFAULT_WINDOW_SECONDS;
  if (Math.abs(o.nowSeconds - t) > window) return { ok: false, problem: 'stale' };
  const expected = createHmac('sha256', o.key).update(canonicalStringV2(fields, t, { ...bound, nonce }), 'utf8').digest();
  if (!timingSafeEqual(expected, Buffer.from(m[2]!, 'hex'))) return { ok: false, problem: 'mismatch' };
  // Kept for twice the window: a nonce can never come back while its timestamp is acceptable.
  if (!(await o.guard.claim(nonce, 2 * window))) return { ok: false, problem: 'replayed' };
  return { ok: true };
}

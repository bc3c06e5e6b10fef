import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import type { Clock } from '../../lib/clock.js';
import type { DigestCredentials } from './digest-parse.js';
import {
  DIGEST_ALGORITHMS,
  DIGEST_HEX_LENGTH,
  computeDigestResponse,
  normalizeAlgorithm,
  type DigestAlgorithm,
} from './digest.js';
import { NonceSigner } from './nonce.js';
import { hasDigest, parseHashed } from '../../security/credentials.js';

/**
 * Server side of SIP Digest authentication (RFC 3261 22.4, RFC 2617, RFC 7616, RFC 8760).
 *
 * Nonces are stateless (HMAC-signed with a timestamp, see nonce.ts): accepting one needs no
 * memory and they expire after `nonceTtlMs`. Replay protection for qop=auth needs the last
 * nonce-count seen per nonce (RFC 2617 3.2.2, RFC 7616 3.4: "the server can detect request
 * replays by maintaining its own copy of this count"); that map is bounded. When it is full,
 * expired entries go first, then the oldest; any nonce issued no later than an evicted live one
 * and not in the map is then answered `stale-nonce`, so eviction can never reopen a replay window
 * (the client just retries with a fresh nonce, RFC 2617 3.2.1 stale=TRUE).
 */
export interface DigestAuthenticatorOptions {
  readonly realm: string;
  readonly clock: Clock;
  /** RegistrarLimits.NONCE_TTL_MS. */
  readonly nonceTtlMs: number;
  /** HMAC key for nonces; random per instance when absent. Share it only with a shared clock. */
  readonly secret?: Buffer;
  /** Bound on the nonce-count map (default 10 000). */
  readonly maxTrackedNonces?: number;
}

export type VerifyFailure =
  | 'unknown-user'
  | 'bad-response'
  | 'stale-nonce'
  | 'bad-nonce'
  | 'realm-mismatch'
  | 'unsupported-algorithm'
  | 'bad-qop'
  | 'nc-replay';

export type VerifyResult = { ok: true; username: string } | { ok: false; reason: VerifyFailure };

interface SeenNonce {
  nc: number;
  issuedAt: number;
}

/** RFC 3261 25.1 quoted-string: escape `\` and `"`. */
function quote(s: string): string {
  return `"${s.replace(/[\\"]/g, (c) => `\\${c}`)}"`;
}

export class DigestAuthenticator {
  private readonly realm: string;
  private readonly clock: Clock;
  private readonly ttl: number;
  private readonly signer: NonceSigner;
  private readonly opaque: string;
  private readonly maxTracked: number;
  private readonly seen = new Map<string, SeenNonce>();
  /** Highest issue time of a still-live nonce evicted from `seen`. */
  private evictedUpTo = -Infinity;

  constructor(opts: DigestAuthenticatorOptions) {
    if (!(opts.nonceTtlMs > 0)) throw new RangeError('nonceTtlMs must be > 0');
    this.realm = opts.realm;
    this.clock = opts.clock;
    this.ttl = opts.nonceTtlMs;
    const secret = opts.secret ?? randomBytes(32);
    this.signer = new NonceSigner(secret, opts.realm);
    // opaque: returned unchanged by the client (RFC 2617 3.2.1); fixed per secret and realm.
    this.opaque = createHmac('sha256', secret).update(`opaque\0${opts.realm}`).digest('base64url').slice(0, 22);
    this.maxTracked = Math.max(1, opts.maxTrackedNonces ?? 10_000);
  }

  /**
   * WWW-Authenticate values for a 401 (RFC 3261 22.4, 20.44): one challenge per algorithm in the
   * order given (RFC 8760 2.4: in order of preference; the client uses the topmost it supports),
   * SHA-256 then MD5 by default. All carry the same nonce.
   */
  challenge(opts?: { stale?: boolean; algorithms?: readonly DigestAlgorithm[] }): string[] {
    const nonce = this.signer.issue(this.clock.now());
    const stale = opts?.stale ? ', stale=TRUE' : '';
    const algorithms = [...new Set(opts?.algorithms ?? DIGEST_ALGORITHMS)];
    if (algorithms.length === 0) throw new RangeError('challenge: no algorithm to offer');
    return algorithms.map(
      (alg) =>
        `Digest realm=${quote(this.realm)}, nonce="${nonce}", opaque="${this.opaque}", ` +
        `algorithm=${alg}, qop="auth"${stale}`,
    );
  }

  /**
   * Verifies parsed credentials for a request with `method` (RFC 2617 3.2.2, RFC 7616 3.4).
   * Order of checks: algorithm, realm, qop, nonce MAC and opaque, user, response, nonce age,
   * nonce-count. Age is checked after the response so that `stale-nonce` (and stale=TRUE on the
   * next challenge) is only given to a client that knows the password (RFC 2617 3.2.1 `stale`).
   * The nonce-count is only recorded for a correct response, so forged requests cannot poison it.
   */
  verify(method: string, creds: DigestCredentials, lookupPassword: (username: string) => string | undefined): VerifyResult {
    const algorithm = normalizeAlgorithm(creds.algorithm);
    if (!algorithm) return fail('unsupported-algorithm');
    if (creds.realm !== this.realm) return fail('realm-mismatch');

    // qop (RFC 2617 3.2.2): we only offer "auth"; when present, nc and cnonce are required.
    let ncValue = 0;
    if (creds.qop !== undefined) {
      if (creds.qop.toLowerCase() !== 'auth' || creds.nc === undefined || creds.cnonce === undefined) return fail('bad-qop');
      if (!/^[0-9a-fA-F]{8}$/.test(creds.nc)) return fail('bad-qop');
      ncValue = parseInt(creds.nc, 16);
      if (ncValue === 0) return fail('bad-qop');
    } else if (creds.nc !== undefined || creds.cnonce !== undefined) {
      return fail('bad-qop');
    }

    const nonce = this.signer.check(creds.nonce);
    if (!nonce.ok) return fail('bad-nonce');
    if (creds.opaque !== undefined && !safeEqual(creds.opaque, this.opaque)) return fail('bad-nonce');

    const password = lookupPassword(creds.username);
    const hashed = password !== undefined ? parseHashed(password) : undefined;
    const expected = computeDigestResponse({
      algorithm,
      username: creds.username,
      realm: this.realm,
      // Unknown users still cost one digest, so timing does not tell which users exist.
      password: password ?? '\0unknown',
      // A hashed credential carries H(A1) per algorithm (RFC 7616 3.4.2), not the password.
      ...(hashed ? { ha1: hashed.ha1[algorithm] } : {}),
      method,
      uri: creds.uri,
      nonce: creds.nonce,
      ...(creds.qop !== undefined ? { qop: 'auth' as const, nc: creds.nc, cnonce: creds.cnonce } : {}),
    });
    // An entry without digest HA1s (a supervisor's, security/credentials.ts) never verifies a digest.
    if (password === undefined || (hashed && !hasDigest(hashed))) return fail('unknown-user');
    if (!responseMatches(algorithm, creds.response, expected)) return fail('bad-response');

    const now = this.clock.now();
    // A validly signed nonce from the future comes from an earlier process sharing the secret.
    if (now - nonce.issuedAt > this.ttl || nonce.issuedAt > now) return fail('stale-nonce');

    if (creds.qop !== undefined) {
      const seen = this.seen.get(creds.nonce);
      if (seen) {
        // RFC 7616 3.4: nc must grow; an equal or lower count is a replay.
        if (ncValue <= seen.nc) return fail('nc-replay');
        seen.nc = ncValue;
      } else {
        if (nonce.issuedAt <= this.evictedUpTo) return fail('stale-nonce');
        this.remember(creds.nonce, { nc: ncValue, issuedAt: nonce.issuedAt }, now);
      }
    }
    return { ok: true, username: creds.username };
  }

  /**
   * True when the response is right for the password, whatever the nonce: a nonce another gateway
   * issued (another secret) with the right password is answered with a fresh nonce and stale=TRUE
   * (RFC 7616 3.3), like an expired one, and only to a client that knows the password.
   */
  knowsPassword(method: string, creds: DigestCredentials, lookupPassword: (username: string) => string | undefined): boolean {
    const algorithm = normalizeAlgorithm(creds.algorithm);
    const password = lookupPassword(creds.username);
    if (!algorithm || password === undefined || creds.realm !== this.realm) return false;
    const hashed = parseHashed(password);
    if (hashed && !hasDigest(hashed)) return false;
    const expected = computeDigestResponse({
      algorithm,
      username: creds.username,
      realm: this.realm,
      password,
      ...(hashed ? { ha1: hashed.ha1[algorithm] } : {}),
      method,
      uri: creds.uri,
      nonce: creds.nonce,
      ...(creds.qop?.toLowerCase() === 'auth' ? { qop: 'auth' as const, nc: creds.nc, cnonce: creds.cnonce } : {}),
    });
    return responseMatches(algorithm, creds.response, expected);
  }

  /** Number of nonces whose count is being tracked (for tests and metrics). */
  trackedNonces(): number {
    return this.seen.size;
  }

  private remember(nonce: string, entry: SeenNonce, now: number): void {
    if (this.seen.size >= this.maxTracked) {
      for (const [k, v] of this.seen) {
        if (now - v.issuedAt > this.ttl) this.seen.delete(k);
      }
    }
    while (this.seen.size >= this.maxTracked) {
      const [oldestKey, oldest] = this.seen.entries().next().value as [string, SeenNonce];
      this.seen.delete(oldestKey);
      this.evictedUpTo = Math.max(this.evictedUpTo, oldest.issuedAt);
    }
    this.seen.set(nonce, entry);
  }
}

function fail(reason: VerifyFailure): VerifyResult {
  return { ok: false, reason };
}

/** Constant-time compare of two strings (length is not secret). */
function safeEqual(a: string, b: string): boolean {
  const ab = Buffer.from(a, 'utf8');
  const bb = Buffer.from(b, 'utf8');
  return ab.length === bb.length && timingSafeEqual(ab, bb);
}

/** request-digest compare (RFC 7616 3.4.1: LHEX; upper-case hex from lax clients is accepted). */
function responseMatches(algorithm: DigestAlgorithm, got: string, expected: string): boolean {
  if (got.length !== DIGEST_HEX_LENGTH[algorithm]) return false;
  return safeEqual(got.toLowerCase(), expected);
}

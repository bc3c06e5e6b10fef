import { createHash } from 'node:crypto';

/**
 * Digest response computation (RFC 2617 3.2.2.1-3.2.2.3, RFC 7616 3.4.1-3.4.3, RFC 8760 2).
 * Only the non-session algorithms are implemented; `-sess` variants are refused by the verifier.
 */
export type DigestAlgorithm = 'MD5' | 'SHA-256';

/** Algorithms offered in challenges, preferred first (RFC 8760 2.4). */
export const DIGEST_ALGORITHMS: readonly DigestAlgorithm[] = ['SHA-256', 'MD5'];

/**
 * What a REGISTER challenge offers, in order, when the deployment configured nothing: the flow's
 * transport decides (README "Stock SIP phones"). RFC 8760 2.4 has the client use the topmost
 * challenge it supports, but deployed SIP phones do not all follow it: baresip 1.0 (libre) gives
 * up with "Function not implemented" when any of the challenges is SHA-256, whatever its position.
 * So over UDP, TCP and TLS the default is MD5 alone (RFC 3261 22.4's mandatory algorithm); browsers
 * (SIP over WebSocket, RFC 7118: the widget and JsSIP) get SHA-256 first, then MD5.
 */
export const DEFAULT_ALGORITHMS_BY_TRANSPORT: Readonly<Record<'websocket' | 'other', readonly DigestAlgorithm[]>> = {
  websocket: ['SHA-256', 'MD5'],
  other: ['MD5'],
};

/**
 * The algorithms to challenge a request on `flowId` (`udp:...`, `tcp:...`, `tls:...`, `ws:...`,
 * `wss:...`) with: `configured` exactly as given (order kept, duplicates dropped) when set, else the
 * transport's default above.
 */
export function offeredAlgorithms(configured: readonly DigestAlgorithm[] | undefined, flowId: string): DigestAlgorithm[] {
  const list = configured && configured.length > 0
    ? configured
    : DEFAULT_ALGORITHMS_BY_TRANSPORT[/^wss?:/i.test(flowId) ? 'websocket' : 'other'];
  return [...new Set(list)];
}

const NODE_HASH: Record<DigestAlgorithm, string> = { MD5: 'md5', 'SHA-256': 'sha256' };

/** Hex length of each algorithm's output (RFC 7616 3.4.1: lower-case hex). */
export const DIGEST_HEX_LENGTH: Record<DigestAlgorithm, number> = { MD5: 32, 'SHA-256': 64 };

/**
 * Maps the `algorithm` parameter to a supported algorithm. Absent means MD5 (RFC 2617 3.2.1,
 * RFC 3261 22.4). Token comparison is case-insensitive (RFC 7616 3.3). Unknown: undefined.
 */
export function normalizeAlgorithm(value: string | undefined): DigestAlgorithm | undefined {
  if (value === undefined) return 'MD5';
  const v = value.toUpperCase();
  if (v === 'MD5') return 'MD5';
  if (v === 'SHA-256') return 'SHA-256';
  return undefined;
}

/** H(data) as lower-case hex (RFC 7616 3.4.1, RFC 2617 3.1.3 KD/H). UTF-8 input (RFC 7616 4). */
export function digestHash(algorithm: DigestAlgorithm, data: string): string {
  return createHash(NODE_HASH[algorithm]).update(data, 'utf8').digest('hex');
}

export interface DigestResponseInput {
  readonly algorithm: DigestAlgorithm;
  readonly username: string;
  readonly realm: string;
  readonly password: string;
  /** H(A1) stored instead of the password (a hashed credential, security/credentials.ts); wins over `password`. */
  readonly ha1?: string;
  readonly method: string;
  readonly uri: string;
  readonly nonce: string;
  /** 'auth', or undefined for the RFC 2069 compatible form (RFC 2617 3.2.2.1). */
  readonly qop?: 'auth';
  readonly nc?: string;
  readonly cnonce?: string;
}

/**
 * request-digest:
 *   A1 = username ":" realm ":" password                      (RFC 2617 3.2.2.2)
 *   A2 = Method ":" digest-uri                                 (RFC 2617 3.2.2.3, qop=auth or absent)
 *   qop=auth: KD(H(A1), nonce ":" nc ":" cnonce ":" qop ":" H(A2))
 *   no qop:   KD(H(A1), nonce ":" H(A2))                        (RFC 2069 compatibility)
 * where KD(secret, data) = H(secret ":" data).
 */
export function computeDigestResponse(i: DigestResponseInput): string {
  const h = (d: string): string => digestHash(i.algorithm, d);
  const ha1 = i.ha1 ?? h(`${i.username}:${i.realm}:${i.password}`);
  const ha2 = h(`${i.method}:${i.uri}`);
  if (i.qop === 'auth') {
    if (i.nc === undefined || i.cnonce === undefined) throw new TypeError('qop=auth needs nc and cnonce');
    return h(`${ha1}:${i.nonce}:${i.nc}:${i.cnonce}:${i.qop}:${ha2}`);
  }
  return h(`${ha1}:${i.nonce}:${ha2}`);
}

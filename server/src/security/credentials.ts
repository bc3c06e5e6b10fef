import { createHash, randomBytes, scryptSync, timingSafeEqual } from 'node:crypto';

/**
 * Hashed agent credentials (docs/security.md, "Agent credentials"): one entry serves both ways an
 * agent signs in, so the plain password is stored nowhere:
 *   - HTTP login: scrypt (RFC 7914) of the password with a random salt;
 *   - SIP REGISTER: the digest HA1 = H(username ":" realm ":" password) for MD5 and SHA-256
 *     (RFC 2617 3.2.2.2, RFC 7616 3.4.2), which is all a digest verifier needs.
 *
 * Encoding (no `,` or `:`, so it fits an `AGENTS=id:entry,id:entry` list):
 *   `$tg1$<salt>$<scrypt key>$<realm>$<HA1 MD5 hex>$<HA1 SHA-256 hex>` with salt, key and realm in
 *   base64url. `npm run credential:hash -- <id>` prints one.
 */
export const HASH_PREFIX = '$tg1$';
/** scrypt cost (N = 2^14, r = 8, p = 1: 16 MiB, tens of milliseconds), key length 32. */
const SCRYPT = { N: 16384, r: 8, p: 1, maxmem: 64 * 1024 * 1024 } as const;
const KEY_LEN = 32;
/** Shortest password the hashing tool accepts (docs/security.md). */
export const MIN_PASSWORD_LENGTH = 12;

export interface HashedCredential {
  readonly salt: Buffer;
  readonly key: Buffer;
  readonly realm: string;
  readonly ha1: { readonly 'MD5': string; readonly 'SHA-256': string };
}

const b64 = (b: Buffer | string): string => Buffer.from(b).toString('base64url');

function ha1(algorithm: 'md5' | 'sha256', user: string, realm: string, password: string): string {
  return createHash(algorithm).update(`${user}:${realm}:${password}`, 'utf8').digest('hex');
}

/** True when a configured secret is a hashed entry rather than a plain password. */
export function isHashed(secret: string): boolean {
  return secret.startsWith(HASH_PREFIX);
}

/**
 * Hashes a password for `user` in digest `realm`. Throws when the password is too short.
 * `digest: false` (supervisors, who never sign in over SIP) leaves both HA1 fields zero: an HA1 is
 * one fast hash of the password, so an entry without one can only be attacked through scrypt.
 */
export function hashCredential(user: string, realm: string, password: string, salt: Buffer = randomBytes(16), o: { digest?: boolean } = {}): string {
  if (password.length < MIN_PASSWORD_LENGTH) throw new RangeError(`the password must have at least ${MIN_PASSWORD_LENGTH} characters`);
  const key = scryptSync(password, salt, KEY_LEN, SCRYPT);
  const [md5, sha256] = o.digest === false ? ['0'.repeat(32), '0'.repeat(64)] : [ha1('md5', user, realm, password), ha1('sha256', user, realm, password)];
  return `${HASH_PREFIX}${b64(salt)}$${b64(key)}$${b64(realm)}$${md5}$${sha256}`;
}

/** Parses an encoded entry; undefined when it is not a well-formed `$tg1$` entry. */
export function parseHashed(secret: string): HashedCredential | undefined {
  if (!isHashed(secret)) return undefined;
  const parts = secret.slice(HASH_PREFIX.length).split('$');
  if (parts.length !== 5) return undefined;
  const [salt, key, realm, md5, sha256] = parts as [string, string, string, string, string];
  const b64url = /^[A-Za-z0-9_-]+$/;
  if (!b64url.test(salt) || !b64url.test(key) || !b64url.test(realm)) return undefined;
  if (!/^[0-9a-f]{32}$/.test(md5) || !/^[0-9a-f]{64}$/.test(sha256)) return undefined;
  const k = Buffer.from(key, 'base64url');
  if (k.length !== KEY_LEN) return undefined;
  return { salt: Buffer.from(salt, 'base64url'), key: k, realm: Buffer.from(realm, 'base64url').toString('utf8'), ha1: { 'MD5': md5, 'SHA-256': sha256 } };
}

/** False for an entry made without digest HA1s (`--supervisor`): it must never verify a SIP digest. */
export function hasDigest(h: HashedCredential): boolean {
  return !/^0+$/.test(h.ha1['MD5']) && !/^0+$/.test(h.ha1['SHA-256']);
}

// A fixed entry to hash against for unknown users, so the answer takes as long either way.
const DUMMY: HashedCredential = { salt: Buffer.alloc(16), key: Buffer.alloc(KEY_LEN), realm: '', ha1: { 'MD5': '', 'SHA-256': '' } };

/**
 * Checks a password against a configured secret, plain or hashed, in constant time for its kind.
 * An unknown user (`expected` undefined) still costs one scrypt when `hashesInUse`, so the answer
 * takes as long as for a known one.
 */
export function verifyPassword(password: string, expected: string | undefined, hashesInUse = false): boolean {
  if (expected !== undefined && !isHashed(expected)) {
    const a = createHash('sha256').update(password, 'utf8').digest();
    const b = createHash('sha256').update(expected, 'utf8').digest();
    return timingSafeEqual(a, b);
  }
  if (expected === undefined && !hashesInUse) {
    createHash('sha256').update(password, 'utf8').digest();
    return false;
  }
  const entry = (expected !== undefined ? parseHashed(expected) : undefined) ?? DUMMY;
  const key = scryptSync(password, entry.salt, KEY_LEN, SCRYPT);
  return timingSafeEqual(key, entry.key) && entry !== DUMMY;
}

import { createHmac, timingSafeEqual } from 'node:crypto';

/**
 * HOTP (RFC 4226) and TOTP (RFC 6238) with node:crypto HMAC, for supervisors' second factor
 * (docs/security.md, PCI DSS 8.4). Secrets are given in base32 (RFC 4648 6), as authenticator
 * apps take them.
 */
export type TotpAlgorithm = 'sha1' | 'sha256' | 'sha512';

/** RFC 4226 5.3: HMAC of the 8-byte big-endian counter, dynamic truncation, `digits` decimal digits. */
export function hotp(key: Buffer, counter: number, digits = 6, algorithm: TotpAlgorithm = 'sha1'): string {
  if (!Number.isSafeInteger(counter) || counter < 0) throw new RangeError('counter must be a non-negative safe integer');
  const msg = Buffer.alloc(8);
  msg.writeBigUInt64BE(BigInt(counter));
  const mac = createHmac(algorithm, key).update(msg).digest();
  const offset = mac[mac.length - 1]! & 0x0f;
  const bin = ((mac[offset]! & 0x7f) << 24) | (mac[offset + 1]! << 16) | (mac[offset + 2]! << 8) | mac[offset + 3]!;
  return String(bin % 10 ** digits).padStart(digits, '0');
}

export interface TotpOptions {
  /** RFC 6238 4.1 X: time step in seconds (30). */
  readonly stepSeconds?: number;
  readonly digits?: number;
  readonly algorithm?: TotpAlgorithm;
}

/** RFC 6238 4.2: T = floor(unix seconds / X) (T0 = 0). */
export function timeStep(nowMs: number, stepSeconds = 30): number {
  return Math.floor(nowMs / 1000 / stepSeconds);
}

export function totp(key: Buffer, nowMs: number, o: TotpOptions = {}): string {
  return hotp(key, timeStep(nowMs, o.stepSeconds), o.digits ?? 6, o.algorithm ?? 'sha1');
}

/**
 * Checks `code` against the steps `now - window .. now + window` (RFC 6238 5.2: allow one step of
 * clock drift). Returns the matching step, or undefined. A step at or below `lastUsedStep` is
 * refused: each code is accepted once (RFC 6238 5.2 "MUST NOT accept the second attempt").
 */
export function verifyTotp(key: Buffer, code: string, nowMs: number, o: TotpOptions & { window?: number; lastUsedStep?: number } = {}): number | undefined {
  const digits = o.digits ?? 6;
  if (!new RegExp(`^\\d{${digits}}$`).test(code)) return undefined;
  const now = timeStep(nowMs, o.stepSeconds);
  const w = o.window ?? 1;
  let found: number | undefined;
  for (let s = now - w; s <= now + w; s++) {
    if (s < 0) continue;
    const want = Buffer.from(hotp(key, s, digits, o.algorithm ?? 'sha1'));
    // Compare every candidate (no early exit), in constant time.
    if (timingSafeEqual(want, Buffer.from(code)) && found === undefined) found = s;
  }
  if (found === undefined || (o.lastUsedStep !== undefined && found <= o.lastUsedStep)) return undefined;
  return found;
}

const B32 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';

/** RFC 4648 6 base32 (case-insensitive, padding and spaces ignored); throws on other characters. */
export function base32Decode(text: string): Buffer {
  const clean = text.replace(/[\s=]/g, '').toUpperCase();
  let bits = 0;
  let value = 0;
  const out: number[] = [];
  for (const c of clean) {
    const v = B32.indexOf(c);
    if (v < 0) throw new Error('not base32');
    value = (value << 5) | v;
    bits += 5;
    if (bits >= 8) {
      out.push((value >>> (bits - 8)) & 0xff);
      bits -= 8;
    }
  }
  return Buffer.from(out);
}

export function base32Encode(buf: Buffer): string {
  let bits = 0;
  let value = 0;
  let out = '';
  for (const b of buf) {
    value = (value << 8) | b;
    bits += 8;
    while (bits >= 5) {
      out += B32[(value >>> (bits - 5)) & 31];
      bits -= 5;
    }
  }
  if (bits > 0) out += B32[(value << (5 - bits)) & 31];
  return out;
}

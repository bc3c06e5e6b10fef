import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';

/**
 * Stateless, self-validating nonces (RFC 2617 3.2.1 suggests `time-stamp H(time-stamp ":" ETag
 * ":" private-key)`; RFC 7616 5.4). Layout before base64url encoding (32 bytes, 43 characters):
 *
 *   issuedAt (uint64 BE, clock ms) | random (8 bytes) | HMAC-SHA256(secret, realm 0x00 first 16)[0..16]
 *
 * The server keeps no per-nonce memory to accept a nonce: the MAC proves it issued it, the
 * timestamp tells its age. (The verifier keeps a separate, bounded nonce-count map for replay
 * protection; see authenticator.ts.)
 */
const BODY_BYTES = 16;
const MAC_BYTES = 16;
const NONCE_RE = /^[A-Za-z0-9_-]{43}$/;

export type NonceCheck = { ok: true; issuedAt: number } | { ok: false };

export class NonceSigner {
  constructor(
    private readonly secret: Buffer,
    private readonly realm: string,
  ) {}

  issue(now: number): string {
    const body = Buffer.alloc(BODY_BYTES);
    body.writeBigUInt64BE(BigInt(Math.max(0, Math.floor(now))), 0);
    randomBytes(8).copy(body, 8);
    return Buffer.concat([body, this.mac(body)]).toString('base64url');
  }

  /** Checks the MAC (constant time) and returns the issue time. Never throws. */
  check(nonce: string): NonceCheck {
    if (!NONCE_RE.test(nonce)) return { ok: false };
    const raw = Buffer.from(nonce, 'base64url');
    // Only the canonical encoding is accepted, so one nonce has exactly one spelling.
    if (raw.length !== BODY_BYTES + MAC_BYTES || raw.toString('base64url') !== nonce) return { ok: false };
    const body = raw.subarray(0, BODY_BYTES);
    if (!timingSafeEqual(raw.subarray(BODY_BYTES), this.mac(body))) return { ok: false };
    return { ok: true, issuedAt: Number(body.readBigUInt64BE(0)) };
  }

  private mac(body: Buffer): Buffer {
    return createHmac('sha256', this.secret)
      .update(this.realm, 'utf8')
      .update(Buffer.from([0]))
      .update(body)
      .digest()
      .subarray(0, MAC_BYTES);
  }
}

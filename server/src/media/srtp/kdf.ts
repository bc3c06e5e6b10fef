/**
 * SRTP crypto suites and session-key derivation.
 *
 * RFC 3711 §4.3.1/§4.3.3: each session key is the AES-CM keystream (the PRF) of the master key,
 * with IV = (key_id XOR master_salt) * 2^16, where key_id = label || r and r = index DIV kdr.
 * tonegate only uses key_derivation_rate 0 (RFC 3711 §4.3.1: r = 0, keys derived once), which is
 * also SDES's default (RFC 4568 §6.3.2 KDR); any other rate is refused at negotiation.
 *
 * Suites (RFC 4568 §6.2.1; RFC 6188 §7.1 for the 256-bit one): AES-CM encryption, HMAC-SHA1
 * authentication with an 80-bit tag, 112-bit salts, 160-bit authentication keys.
 */
import { createCipheriv } from 'node:crypto';

export type SrtpSuiteName = 'AES_CM_128_HMAC_SHA1_80' | 'AES_256_CM_HMAC_SHA1_80';

export interface SrtpSuite {
  name: SrtpSuiteName;
  /** node:crypto cipher for AES in counter mode (RFC 3711 §4.1.1): key derivation. */
  cipher: 'aes-128-ctr' | 'aes-256-ctr';
  /** The block cipher itself, for the per-packet keystream from one reusable cipher object (srtp.ts). */
  block: 'aes-128-ecb' | 'aes-256-ecb';
  /** Master key and session encryption key length, octets. */
  keyLength: 16 | 32;
  /** Master salt and session salt length, octets (112 bits). */
  saltLength: 14;
  /** Session authentication key, octets (160 bits, RFC 3711 §5.2). */
  authKeyLength: 20;
  /** Authentication tag, octets (80 bits). */
  tagLength: 10;
}

export const SRTP_SUITES: Readonly<Record<SrtpSuiteName, SrtpSuite>> = {
  AES_CM_128_HMAC_SHA1_80: { name: 'AES_CM_128_HMAC_SHA1_80', cipher: 'aes-128-ctr', block: 'aes-128-ecb', keyLength: 16, saltLength: 14, authKeyLength: 20, tagLength: 10 },
  AES_256_CM_HMAC_SHA1_80: { name: 'AES_256_CM_HMAC_SHA1_80', cipher: 'aes-256-ctr', block: 'aes-256-ecb', keyLength: 32, saltLength: 14, authKeyLength: 20, tagLength: 10 },
};

export function isSrtpSuiteName(s: string): s is SrtpSuiteName {
  return Object.hasOwn(SRTP_SUITES, s);
}

/** RFC 3711 §4.3.2: key derivation labels. */
export const LABEL = {
  rtpEncryption: 0x00,
  rtpAuth: 0x01,
  rtpSalt: 0x02,
  rtcpEncryption: 0x03,
  rtcpAuth: 0x04,
  rtcpSalt: 0x05,
} as const;

/** One direction's session keys for SRTP or SRTCP. */
export interface SessionKeys {
  encryption: Buffer;
  auth: Buffer;
  salt: Buffer;
}

/**
 * RFC 3711 §4.3.3: PRF_n(k_master, x) = AES-CM keystream, n bits, IV = x * 2^16.
 * x = key_id XOR master_salt, key_id = label (8 bits) || r (48 bits, here 0), right-aligned in 112 bits.
 */
export function deriveKey(suite: SrtpSuite, masterKey: Uint8Array, masterSalt: Uint8Array, label: number, length: number): Buffer {
  const iv = Buffer.alloc(16);
  iv.set(masterSalt.subarray(0, 14), 0);
  // key_id is 56 bits (label || 48-bit r); right-aligned against the 112-bit salt: label at octet 7.
  iv[7]! ^= label;
  const cipher = createCipheriv(suite.cipher, masterKey, iv);
  const out = Buffer.concat([cipher.update(Buffer.alloc(length)), cipher.final()]);
  iv.fill(0);
  return out;
}

/** The three session keys for SRTP (srtcp false) or SRTCP (true) from one master key and salt. */
export function deriveSessionKeys(suite: SrtpSuite, masterKey: Uint8Array, masterSalt: Uint8Array, srtcp: boolean): SessionKeys {
  if (masterKey.length !== suite.keyLength) throw new RangeError(`${suite.name}: master key must be ${suite.keyLength} octets, got ${masterKey.length}`);
  if (masterSalt.length !== suite.saltLength) throw new RangeError(`${suite.name}: master salt must be ${suite.saltLength} octets, got ${masterSalt.length}`);
  const base = srtcp ? LABEL.rtcpEncryption : LABEL.rtpEncryption;
  return {
    encryption: deriveKey(suite, masterKey, masterSalt, base, suite.keyLength),
    auth: deriveKey(suite, masterKey, masterSalt, base + 1, suite.authKeyLength),
    salt: deriveKey(suite, masterKey, masterSalt, base + 2, suite.saltLength),
  };
}

/**
 * RFC 3711 §4.1.1: IV = (k_s * 2^16) XOR (SSRC * 2^64) XOR (i * 2^16), written into `iv` (16 octets).
 * `indexHigh`/`indexLow`: the 48-bit packet index (ROC || SEQ for SRTP, the 31-bit SRTCP index) as
 * 16 + 32 bits.
 */
export function writeIv(iv: Buffer, salt: Buffer, ssrc: number, indexHigh: number, indexLow: number): void {
  iv.set(salt, 0);
  iv[14] = 0;
  iv[15] = 0;
  iv[4]! ^= ssrc >>> 24;
  iv[5]! ^= (ssrc >>> 16) & 0xff;
  iv[6]! ^= (ssrc >>> 8) & 0xff;
  iv[7]! ^= ssrc & 0xff;
  iv[8]! ^= (indexHigh >>> 8) & 0xff;
  iv[9]! ^= indexHigh & 0xff;
  iv[10]! ^= indexLow >>> 24;
  iv[11]! ^= (indexLow >>> 16) & 0xff;
  iv[12]! ^= (indexLow >>> 8) & 0xff;
  iv[13]! ^= indexLow & 0xff;
}

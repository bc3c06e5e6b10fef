import { constants, generateKeyPairSync, privateDecrypt } from 'node:crypto';
import forge from 'node-forge';
import type { SensitiveDigits } from './sensitive-digits.js';

/**
 * Card-field encryption for the provider request: RSA-OAEP with SHA-256 as the hash and as the
 * MGF1 hash (RFC 8017 §7.1, "RSAES-OAEP"), label empty, output base64. This is the parameter set
 * that Node/OpenSSL (`oaepHash: 'sha256'`), Java (`RSA/ECB/OAEPWithSHA-256AndMGF1Padding` with an
 * explicit MGF1 SHA-256 spec) and WebCrypto (`RSA-OAEP`, hash SHA-256) agree on; the unit test
 * decrypts node-forge output with node:crypto to prove it.
 *
 * The whole card travels as one OAEP block: `{"pan":"…","expiry":"MMYY","cvv":"…"}` is at most
 * 60 bytes, well under the 190-byte limit of a 2048-bit key with SHA-256 (k - 2·hLen - 2).
 */
export const CARD_ENCRYPTION_ALGORITHM = 'RSA-OAEP-256';
const MIN_MODULUS_BITS = 2048;

export interface CardDigits {
  readonly pan: SensitiveDigits;
  /** MMYY */
  readonly expiry: SensitiveDigits;
  readonly cvv: SensitiveDigits;
}

/** What the provider finds after decrypting `encryptedCard`. */
export interface DecryptedCard {
  pan: string;
  expiry: string;
  cvv: string;
}

const keyCache = new Map<string, forge.pki.rsa.PublicKey>();

function publicKey(pem: string): forge.pki.rsa.PublicKey {
  let key = keyCache.get(pem);
  if (!key) {
    key = forge.pki.publicKeyFromPem(pem);
    if (key.n.bitLength() < MIN_MODULUS_BITS) {
      throw new Error(`provider card key must be at least ${MIN_MODULUS_BITS} bits`);
    }
    if (keyCache.size > 16) keyCache.clear();
    keyCache.set(pem, key);
  }
  return key;
}

/** RSA-OAEP(SHA-256) of raw bytes with a PEM (SPKI or PKCS#1) public key; base64 out. */
export function encryptOaep(publicKeyPem: string, plaintext: Buffer): string {
  const key = publicKey(publicKeyPem);
  // node-forge works on binary strings; this transient copy is unavoidable with forge.
  const encrypted = key.encrypt(plaintext.toString('latin1'), 'RSA-OAEP', {
    md: forge.md.sha256.create(),
    mgf1: { md: forge.md.sha256.create() },
  });
  return forge.util.encode64(encrypted);
}

/**
 * Encrypts PAN, expiry and CVV for the provider's `encryptedCard` field. The JSON is assembled in a
 * Buffer straight from the sensitive buffers and zero-filled afterwards.
 */
export function encryptCard(publicKeyPem: string, card: CardDigits): string {
  const parts: Buffer[] = [];
  const push = (s: string) => parts.push(Buffer.from(s, 'latin1'));
  const pushDigits = (d: SensitiveDigits) => d.withValue((b) => parts.push(Buffer.from(b)));
  push('{"pan":"');
  pushDigits(card.pan);
  push('","expiry":"');
  pushDigits(card.expiry);
  push('","cvv":"');
  pushDigits(card.cvv);
  push('"}');
  const json = Buffer.concat(parts);
  try {
    return encryptOaep(publicKeyPem, json);
  } finally {
    json.fill(0);
    for (const p of parts) p.fill(0);
  }
}

/** Provider side (the demo provider): decrypts `encryptedCard`. Throws on a bad block or shape. */
export function decryptCard(privateKeyPem: string, encryptedB64: string): DecryptedCard {
  const plain = privateDecrypt(
    { key: privateKeyPem, padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: 'sha256' },
    Buffer.from(encryptedB64, 'base64'),
  );
  try {
    const v: unknown = JSON.parse(plain.toString('utf8'));
    if (typeof v !== 'object' || v === null) throw new Error('encrypted card is not an object');
    const { pan, expiry, cvv } = v as Record<string, unknown>;
    if (typeof pan !== 'string' || typeof expiry !== 'string' || typeof cvv !== 'string') {
      throw new Error('encrypted card lacks pan, expiry or cvv');
    }
    return { pan, expiry, cvv };
  } catch {
    // Never let a JSON error message (which quotes the input) carry card data upwards.
    throw new Error('encrypted card could not be read');
  } finally {
    plain.fill(0);
  }
}

export interface CardKeyPair {
  /** SPKI PEM ("BEGIN PUBLIC KEY"), published at `GET /v1/keys/card`. */
  publicKeyPem: string;
  /** PKCS#8 PEM, never leaves the provider. */
  privateKeyPem: string;
}

/** A fresh RSA key pair (native key generation; forge's pure-JS one takes seconds). */
export function generateCardKeyPair(modulusLength = MIN_MODULUS_BITS): CardKeyPair {
  const { publicKey: pub, privateKey: priv } = generateKeyPairSync('rsa', {
    modulusLength,
    publicKeyEncoding: { type: 'spki', format: 'pem' },
    privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
  });
  return { publicKeyPem: pub, privateKeyPem: priv };
}

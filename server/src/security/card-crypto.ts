import { constants, createHash, createPublicKey, generateKeyPairSync, privateDecrypt, publicEncrypt, type KeyObject } from 'node:crypto';
import type { SensitiveDigits } from './sensitive-digits.js';

/**
 * Card-field encryption for the provider request: RSA-OAEP with SHA-256 as the hash and as the
 * MGF1 hash (RFC 8017 §7.1, "RSAES-OAEP"), label empty, output base64. This is the parameter set
 * that Node/OpenSSL (`oaepHash: 'sha256'`), Java (`RSA/ECB/OAEPWithSHA-256AndMGF1Padding` with an
 * explicit MGF1 SHA-256 spec) and WebCrypto (`RSA-OAEP`, hash SHA-256) agree on.
 *
 * node:crypto encrypts straight from a Buffer (docs/security.md): the card never becomes a JS
 * string on its way into the OAEP block, and every Buffer that held it is zero-filled after.
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

const keyCache = new Map<string, KeyObject>();

/** The PEM (SPKI or PKCS#1) public key as a KeyObject; refused when not RSA or under 2048 bits. */
export function cardPublicKey(pem: string): KeyObject {
  let key = keyCache.get(pem);
  if (!key) {
    try {
      key = createPublicKey(pem);
    } catch {
      throw new Error('provider card key is not a PEM public key');
    }
    if (key.asymmetricKeyType !== 'rsa') throw new Error(`provider card key must be RSA, not ${String(key.asymmetricKeyType)}`);
    if ((key.asymmetricKeyDetails?.modulusLength ?? 0) < MIN_MODULUS_BITS) {
      throw new Error(`provider card key must be at least ${MIN_MODULUS_BITS} bits`);
    }
    if (keyCache.size > 16) keyCache.clear();
    keyCache.set(pem, key);
  }
  return key;
}

/**
 * SHA-256 of the key's DER SubjectPublicKeyInfo, lower-case hex: what `PAYMENT_CARD_KEY_SHA256`
 * pins (`openssl pkey -pubin -outform DER | sha256sum` gives the same).
 */
export function cardKeyFingerprint(pem: string): string {
  return createHash('sha256').update(cardPublicKey(pem).export({ type: 'spki', format: 'der' })).digest('hex');
}

/** A pinned fingerprint as configured: hex, colons and case ignored. */
export function normaliseFingerprint(text: string): string | null {
  const hex = text.replace(/:/g, '').trim().toLowerCase();
  return /^[0-9a-f]{64}$/.test(hex) ? hex : null;
}

/** RSA-OAEP(SHA-256) of raw bytes with a PEM (SPKI or PKCS#1) public key; base64 out. */
export function encryptOaep(publicKeyPem: string, plaintext: Buffer): string {
  return publicEncrypt({ key: cardPublicKey(publicKeyPem), padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: 'sha256' }, plaintext).toString('base64');
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

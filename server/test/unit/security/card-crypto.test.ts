import { execFileSync } from 'node:child_process';
import { constants, generateKeyPairSync, privateDecrypt, publicEncrypt } from 'node:crypto';
import forge from 'node-forge';
import { describe, expect, it } from 'vitest';
import {
  cardKeyFingerprint,
  decryptCard,
  encryptCard,
  encryptOaep,
  generateCardKeyPair,
  normaliseFingerprint,
} from '../../../src/security/card-crypto.js';
import { SensitiveDigits } from '../../../src/security/sensitive-digits.js';

const keys = generateCardKeyPair();

function card() {
  return {
    pan: SensitiveDigits.fromString('4111111111111111', 19),
    expiry: SensitiveDigits.fromString('1230', 4),
    cvv: SensitiveDigits.fromString('123', 4),
  };
}

describe('card-crypto (RSA-OAEP SHA-256 with node:crypto)', () => {
  it('encryptCard output decrypts with the private key to the card fields', () => {
    const b64 = encryptCard(keys.publicKeyPem, card());
    expect(b64).toMatch(/^[A-Za-z0-9+/]+=*$/);
    expect(Buffer.from(b64, 'base64').length).toBe(256); // one 2048-bit block
    expect(decryptCard(keys.privateKeyPem, b64)).toEqual({ pan: '4111111111111111', expiry: '1230', cvv: '123' });
  });

  it('is standard OAEP: an independent implementation (node-forge) decrypts what we encrypt', () => {
    const msg = Buffer.from('{"pan":"5555555555554444","expiry":"0130","cvv":"999"}');
    const priv = forge.pki.privateKeyFromPem(keys.privateKeyPem);
    const opened = priv.decrypt(Buffer.from(encryptOaep(keys.publicKeyPem, msg), 'base64').toString('latin1'), 'RSA-OAEP', {
      md: forge.md.sha256.create(),
      mgf1: { md: forge.md.sha256.create() },
    });
    expect(opened).toBe(msg.toString('latin1'));
  });

  it('round-trips with OpenSSL OAEP parameters both ways', () => {
    const msg = Buffer.from('{"pan":"5555555555554444","expiry":"0130","cvv":"999"}');
    const ours = encryptOaep(keys.publicKeyPem, msg);
    const opened = privateDecrypt(
      { key: keys.privateKeyPem, padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: 'sha256' },
      Buffer.from(ours, 'base64'),
    );
    expect(opened.equals(msg)).toBe(true);
    const theirs = publicEncrypt(
      { key: keys.publicKeyPem, padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: 'sha256' },
      Buffer.from('{"pan":"1","expiry":"2","cvv":"3"}'),
    );
    expect(decryptCard(keys.privateKeyPem, theirs.toString('base64'))).toEqual({ pan: '1', expiry: '2', cvv: '3' });
  });

  it('is randomised: the same card encrypts differently each time', () => {
    expect(encryptCard(keys.publicKeyPem, card())).not.toBe(encryptCard(keys.publicKeyPem, card()));
  });

  it('does not consume or alter the sensitive buffers', () => {
    const c = card();
    encryptCard(keys.publicKeyPem, c);
    expect(c.pan.revealForProvider()).toBe('4111111111111111');
  });

  it('refuses keys under 2048 bits', () => {
    const small = generateCardKeyPair(1024);
    expect(() => encryptOaep(small.publicKeyPem, Buffer.from('x'))).toThrow(/2048/);
  });

  it('a damaged block fails with a message that carries nothing of the input', () => {
    const b64 = encryptCard(keys.publicKeyPem, card());
    const bad = Buffer.from(b64, 'base64');
    bad[10] = bad[10]! ^ 0xff;
    expect(() => decryptCard(keys.privateKeyPem, bad.toString('base64'))).toThrow();
    const notJson = encryptOaep(keys.publicKeyPem, Buffer.from('{"pan":"4111111111111111",'));
    expect(() => decryptCard(keys.privateKeyPem, notJson)).toThrow('encrypted card could not be read');
  });
});

describe('card key pinning', () => {
  it('the fingerprint is the SHA-256 of the DER SubjectPublicKeyInfo, as openssl computes it', () => {
    const der = execFileSync('openssl', ['pkey', '-pubin', '-outform', 'DER'], { input: keys.publicKeyPem });
    const fromOpenssl = execFileSync('openssl', ['dgst', '-sha256', '-r'], { input: der }).toString().split(' ')[0];
    expect(cardKeyFingerprint(keys.publicKeyPem)).toBe(fromOpenssl);
  });

  it('two keys have different fingerprints', () => {
    expect(cardKeyFingerprint(generateCardKeyPair().publicKeyPem)).not.toBe(cardKeyFingerprint(keys.publicKeyPem));
  });

  it.each([
    ['AB:CD' + ':00'.repeat(30), 'abcd' + '00'.repeat(30)],
    ['F'.repeat(64), 'f'.repeat(64)],
    ['abc', null],
    ['z'.repeat(64), null],
  ])('normaliseFingerprint(%s) -> %s', (text, want) => {
    expect(normaliseFingerprint(text)).toBe(want);
  });

  it('refuses a key that is not RSA, or not a key, with a clear message', () => {
    const ec = generateKeyPairSync('ec', { namedCurve: 'P-256', publicKeyEncoding: { type: 'spki', format: 'pem' }, privateKeyEncoding: { type: 'pkcs8', format: 'pem' } });
    expect(() => encryptOaep(ec.publicKey, Buffer.from('x'))).toThrow(/must be RSA/);
    expect(() => encryptOaep('-----BEGIN PUBLIC KEY-----\nnope\n-----END PUBLIC KEY-----\n', Buffer.from('x'))).toThrow(/not a PEM public key/);
  });
});

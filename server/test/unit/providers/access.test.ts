import { describe, expect, it } from 'vitest';
import { providerAccess, type ProviderAccessSettings } from '../../../src/providers/access.js';
import { cardKeyFingerprint, generateCardKeyPair } from '../../../src/security/card-crypto.js';
import { TestCa } from '../../support/tls-certs.js';

const keys = generateCardKeyPair();
const other = generateCardKeyPair();
// A throwaway CA and a client certificate it signs, made by openssl (support/tls-certs.ts).
const ca = TestCa.create('access test CA');
const leaf = ca.issue('tonegate-gw');
const FILES: Record<string, string> = {
  '/k/card.pem': keys.publicKeyPem, '/k/api': 'key-1\n', '/k/bearer': 'tok-2', '/k/two-lines': 'a\nb',
  '/tls/ca.pem': ca.cert.toString(), '/tls/client.pem': leaf.cert.toString(), '/tls/client.key': leaf.key.toString(),
};
const read = (p: string): string => {
  const v = FILES[p];
  if (v === undefined) throw Object.assign(new Error('nope'), { code: 'ENOENT' });
  return v;
};
const access = (s: ProviderAccessSettings, profile: 'plain' | 'provider-key' = 'plain') => providerAccess(s, profile, read);

describe('provider access settings', () => {
  it.each<[string, ProviderAccessSettings, 'plain' | 'provider-key', object]>([
    ['nothing set, plain profile: plain', {}, 'plain', { mode: 'plain' }],
    ['provider-key profile, no pin: the provider key over TLS', {}, 'provider-key', { mode: 'provider-key' }],
    ['a pinned fingerprint turns encryption on even with a plain profile', { PAYMENT_CARD_KEY_SHA256: cardKeyFingerprint(keys.publicKeyPem).toUpperCase() }, 'plain', { mode: 'provider-key', pinnedSha256: cardKeyFingerprint(keys.publicKeyPem) }],
    ['a key file: that key', { PAYMENT_CARD_KEY_FILE: '/k/card.pem' }, 'plain', { mode: 'key', publicKeyPem: keys.publicKeyPem }],
    ['key file and its matching pin', { PAYMENT_CARD_KEY_FILE: '/k/card.pem', PAYMENT_CARD_KEY_SHA256: cardKeyFingerprint(keys.publicKeyPem) }, 'provider-key', { mode: 'key' }],
  ])('%s', (_name, s, profile, want) => {
    expect(access(s, profile).cardEncryption).toMatchObject(want);
  });

  it('reads the API key and bearer token from files (trimmed)', () => {
    expect(access({ PAYMENT_API_KEY_FILE: '/k/api', PAYMENT_API_BEARER_FILE: '/k/bearer' })).toMatchObject({ apiKeyHeader: 'key-1', bearer: 'tok-2' });
  });

  it.each<[string, ProviderAccessSettings, RegExp]>([
    ['both a value and a file', { PAYMENT_API_KEY: 'x', PAYMENT_API_KEY_FILE: '/k/api' }, /^PAYMENT_API_KEY: set PAYMENT_API_KEY or PAYMENT_API_KEY_FILE/],
    ['an unreadable file', { PAYMENT_API_BEARER_FILE: '/k/missing' }, /^PAYMENT_API_BEARER_FILE: cannot read \/k\/missing \(ENOENT\)/],
    ['a secret file of two lines', { PAYMENT_API_KEY_FILE: '/k/two-lines' }, /one non-empty line/],
    ['a certificate without its key', { PAYMENT_TLS_CERT_FILE: '/k/api' }, /^PAYMENT_TLS_KEY_FILE: mutual TLS needs both PAYMENT_TLS_CERT_FILE and PAYMENT_TLS_KEY_FILE: PAYMENT_TLS_CERT_FILE is set, PAYMENT_TLS_KEY_FILE is not/],
    ['a malformed fingerprint', { PAYMENT_CARD_KEY_SHA256: 'abc' }, /^PAYMENT_CARD_KEY_SHA256: must be 64 hex digits/],
    ['a pin that is not the key file', { PAYMENT_CARD_KEY_FILE: '/k/card.pem', PAYMENT_CARD_KEY_SHA256: cardKeyFingerprint(other.publicKeyPem) }, /does not match the key in PAYMENT_CARD_KEY_FILE/],
    ['a key file that is not a key', { PAYMENT_CARD_KEY_FILE: '/k/api' }, /^PAYMENT_CARD_KEY_FILE: provider card key is not a PEM public key/],
  ])('refuses %s, naming the variable', (_name, s, why) => {
    expect(() => access(s)).toThrow(why);
  });

  describe('TLS: the CA and the client certificate are independent', () => {
    it.each<[string, ProviderAccessSettings]>([
      ['none (the system CAs)', {}],
      ['the CA alone (a private CA, no mutual TLS)', { PAYMENT_TLS_CA_FILE: '/tls/ca.pem' }],
      ['certificate and key alone (mutual TLS, the system CAs)', { PAYMENT_TLS_CERT_FILE: '/tls/client.pem', PAYMENT_TLS_KEY_FILE: '/tls/client.key' }],
      ['all three', { PAYMENT_TLS_CERT_FILE: '/tls/client.pem', PAYMENT_TLS_KEY_FILE: '/tls/client.key', PAYMENT_TLS_CA_FILE: '/tls/ca.pem' }],
    ])('accepts %s', (_name, s) => {
      const a = access(s);
      expect(typeof a.fetch).toBe('function');
      a.close();
    });

    it.each<[string, ProviderAccessSettings, string]>([
      ['a certificate without its key (even with the CA)', { PAYMENT_TLS_CERT_FILE: '/tls/client.pem', PAYMENT_TLS_CA_FILE: '/tls/ca.pem' },
        'PAYMENT_TLS_KEY_FILE: mutual TLS needs both PAYMENT_TLS_CERT_FILE and PAYMENT_TLS_KEY_FILE: PAYMENT_TLS_CERT_FILE is set, PAYMENT_TLS_KEY_FILE is not (PAYMENT_TLS_CA_FILE alone is enough to trust a private CA)'],
      ['a key without its certificate', { PAYMENT_TLS_KEY_FILE: '/tls/client.key' },
        'PAYMENT_TLS_CERT_FILE: mutual TLS needs both PAYMENT_TLS_CERT_FILE and PAYMENT_TLS_KEY_FILE: PAYMENT_TLS_KEY_FILE is set, PAYMENT_TLS_CERT_FILE is not (PAYMENT_TLS_CA_FILE alone is enough to trust a private CA)'],
      ['an unreadable CA file', { PAYMENT_TLS_CA_FILE: '/tls/missing.pem' }, 'PAYMENT_TLS_CA_FILE: cannot read /tls/missing.pem (ENOENT)'],
      ['a CA file that is not a certificate', { PAYMENT_TLS_CA_FILE: '/tls/client.key' }, 'PAYMENT_TLS_CA_FILE: /tls/client.key holds no PEM certificate (-----BEGIN CERTIFICATE-----)'],
    ])('refuses %s, naming the variables', (_name, s, why) => {
      expect(() => access(s)).toThrow(why);
    });

    it('a named provider\'s errors name its keys, in the reason too', () => {
      const names = { PAYMENT_TLS_CERT_FILE: 'providers.1.tls.certFile', PAYMENT_TLS_KEY_FILE: 'providers.1.tls.keyFile', PAYMENT_TLS_CA_FILE: 'providers.1.tls.caFile' };
      expect(() => providerAccess({ PAYMENT_TLS_KEY_FILE: '/tls/client.key' }, 'plain', read, names)).toThrow(
        'providers.1.tls.certFile: mutual TLS needs both providers.1.tls.certFile and providers.1.tls.keyFile: providers.1.tls.keyFile is set, providers.1.tls.certFile is not (providers.1.tls.caFile alone is enough to trust a private CA)',
      );
    });
  });
});

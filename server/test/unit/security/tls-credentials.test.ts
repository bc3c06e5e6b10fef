import { createPrivateKey, X509Certificate } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  certificateFingerprint,
  credentialsFromSettings,
  formatFingerprint,
  selfSignedMaterial,
  TlsConfigError,
  TlsCredentials,
  trustedFingerprints,
} from '../../../src/security/tls-credentials.js';

const fp64 = 'AB'.repeat(32);

describe('TRUSTED_PEERS fingerprints', () => {
  it('keeps the sha256: entries, normalised to upper-case with colons, and skips CIDRs', () => {
    const set = trustedFingerprints(`10.0.0.0/8, sha256:${fp64.toLowerCase()} ,sha256:${'CD:'.repeat(31)}CD`);
    expect([...set]).toEqual([formatFingerprint(fp64), `sha256:${'CD:'.repeat(31)}CD`]);
  });

  it('an entry that starts with sha256: but is not 32 octets is a clear error naming it', () => {
    expect(() => trustedFingerprints('sha256:AB:CD')).toThrow(TlsConfigError);
    expect(() => trustedFingerprints('sha256:AB:CD')).toThrow(/TRUSTED_PEERS: "sha256:AB:CD" is not a SHA-256 fingerprint/);
  });

  it('plain hex and colon-separated octets without sha256: are fingerprints too (the SIP TLS transport marks such peers trusted)', () => {
    expect([...trustedFingerprints([fp64.toLowerCase(), `${'CD:'.repeat(31)}cd`, '192.0.2.7'])]).toEqual([formatFingerprint(fp64), `sha256:${'CD:'.repeat(31)}CD`]);
  });

  it('unset or empty gives an empty set', () => {
    expect(trustedFingerprints(undefined).size).toBe(0);
    expect(trustedFingerprints('').size).toBe(0);
  });
});

describe('self-signed demo certificate (node-forge)', () => {
  it('names the hosts as subjectAltName, is valid now, and its key belongs to it', () => {
    const m = selfSignedMaterial(['127.0.0.1', 'localhost']);
    const x = new X509Certificate(m.cert);
    expect(x.subjectAltName).toBe('IP Address:127.0.0.1, DNS:localhost');
    expect(new Date(x.validFrom).getTime()).toBeLessThanOrEqual(Date.now());
    expect(new Date(x.validTo).getTime()).toBeGreaterThan(Date.now() + 29 * 86_400_000);
    expect(x.checkPrivateKey(createPrivateKey(m.key))).toBe(true);
    expect(m.fingerprint).toBe(certificateFingerprint(m.cert));
    expect(m.fingerprint).toMatch(/^sha256:([0-9A-F]{2}:){31}[0-9A-F]{2}$/);
  });
});

describe('certificate files', () => {
  const dir = mkdtempSync(join(tmpdir(), 'tg-cred-'));
  const a = selfSignedMaterial(['127.0.0.1']);
  const b = selfSignedMaterial(['127.0.0.1']);
  const file = (name: string, data: Buffer | string): string => {
    const p = join(dir, name);
    writeFileSync(p, data);
    return p;
  };

  it('a key that is not the certificate key is refused naming TLS_KEY_FILE', () => {
    expect(() => TlsCredentials.fromFiles(file('a.pem', a.cert), file('b.key', b.key))).toThrow(/TLS_KEY_FILE: .* is not the key of the certificate/);
  });

  it('a missing file or a file that is not PEM is refused naming the variable', () => {
    expect(() => TlsCredentials.fromFiles(join(dir, 'nope.pem'), file('a.key', a.key))).toThrow(/TLS_CERT_FILE: cannot read .*ENOENT/);
    expect(() => TlsCredentials.fromFiles(file('junk.pem', 'junk'), file('a2.key', a.key))).toThrow(/TLS_CERT_FILE: .* is not a PEM certificate/);
  });

  it('reload() reads the renewed pair and tells the listeners; a bad pair throws and keeps the current one', () => {
    const cert = file('live.pem', a.cert);
    const key = file('live.key', a.key);
    const creds = TlsCredentials.fromFiles(cert, key);
    const seen: string[] = [];
    creds.onChange((m) => seen.push(m.fingerprint));
    writeFileSync(cert, b.cert);
    writeFileSync(key, b.key);
    expect(creds.reload().fingerprint).toBe(b.fingerprint);
    expect(seen).toEqual([b.fingerprint]);
    writeFileSync(key, a.key); // a half-done renewal: key of the old certificate
    expect(() => creds.reload()).toThrow(TlsConfigError);
    expect(creds.current.fingerprint).toBe(b.fingerprint);
    expect(seen).toEqual([b.fingerprint]);
  });

  it('settings: TLS off without files, the pair must go together, self-signed excludes files and production', () => {
    expect(credentialsFromSettings({ hosts: ['127.0.0.1'] })).toBeUndefined();
    expect(() => credentialsFromSettings({ hosts: [], TLS_CERT_FILE: 'x.pem' })).toThrow(/TLS_KEY_FILE is missing/);
    expect(() => credentialsFromSettings({ hosts: [], TLS_CERT_FILE: file('s.pem', a.cert), TLS_KEY_FILE: file('s.key', a.key), TLS_SELF_SIGNED: true })).toThrow(/exclude each other/);
    expect(() => credentialsFromSettings({ hosts: ['127.0.0.1'], TLS_SELF_SIGNED: true, production: true })).toThrow(/demo mode only/);
    const demo = credentialsFromSettings({ hosts: ['127.0.0.1'], TLS_SELF_SIGNED: true });
    expect(demo?.reloadable).toBe(false);
  });
});

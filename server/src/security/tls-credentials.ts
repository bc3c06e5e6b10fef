import { createPrivateKey, generateKeyPairSync, randomBytes, X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { isIP } from 'node:net';
import forge from 'node-forge';
import { parseFingerprint } from './peers.js';

/**
 * The gateway's TLS certificate and key (docs/security.md, "Encryption"): read from
 * `TLS_CERT_FILE`/`TLS_KEY_FILE`, checked (the key must belong to the certificate), and re-read on
 * SIGHUP by `reload()`. Listeners (the SIP TLS and HTTPS servers) then call
 * `server.setSecureContext()`: connections already open keep the context they were made with, new
 * ones get the renewed certificate, so no call or socket is dropped.
 */
export interface TlsMaterial {
  readonly cert: Buffer;
  readonly key: Buffer;
  /** `sha256:AB:CD:...` of the leaf certificate. */
  readonly fingerprint: string;
  /** Subject CN and the notAfter date, for the log line. */
  readonly subject: string;
  readonly validTo: string;
}

export class TlsConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'TlsConfigError';
  }
}

/** `AB:CD:...` (Node's `fingerprint256`) or bare hex -> `sha256:AB:CD:...` upper-case. */
export function formatFingerprint(hexWithColons: string): string {
  const hex = hexWithColons.replace(/^sha256:/i, '').replace(/:/g, '').toUpperCase();
  return 'sha256:' + (hex.match(/../g) ?? []).join(':');
}

/** The SHA-256 fingerprint of a PEM or DER certificate, as `sha256:AB:CD:...`. */
export function certificateFingerprint(cert: Buffer | string): string {
  return formatFingerprint(new X509Certificate(cert).fingerprint256);
}

/** Reads and checks a PEM certificate and key pair. Throws TlsConfigError naming the file and the problem. */
export function readTlsMaterial(certFile: string, keyFile: string): TlsMaterial {
  const cert = readOrThrow(certFile, 'TLS_CERT_FILE');
  const key = readOrThrow(keyFile, 'TLS_KEY_FILE');
  return checkMaterial(cert, key, certFile, keyFile);
}

function readOrThrow(file: string, name: string): Buffer {
  try {
    return readFileSync(file);
  } catch (err) {
    throw new TlsConfigError(`${name}: cannot read ${file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
}

function checkMaterial(cert: Buffer, key: Buffer, certName: string, keyName: string): TlsMaterial {
  let x509: X509Certificate;
  try {
    x509 = new X509Certificate(cert);
  } catch (err) {
    throw new TlsConfigError(`TLS_CERT_FILE: ${certName} is not a PEM certificate (${(err as Error).message})`);
  }
  let pk;
  try {
    pk = createPrivateKey(key);
  } catch (err) {
    throw new TlsConfigError(`TLS_KEY_FILE: ${keyName} is not a PEM private key (${(err as Error).message})`);
  }
  if (!x509.checkPrivateKey(pk)) throw new TlsConfigError(`TLS_KEY_FILE: ${keyName} is not the key of the certificate in ${certName}`);
  return { cert, key, fingerprint: formatFingerprint(x509.fingerprint256), subject: x509.subject.replace(/\n/g, ', '), validTo: x509.validTo };
}

/**
 * A self-signed certificate for demo mode (`TLS_SELF_SIGNED=1`), valid 30 days, with the given
 * host names / IP addresses as subjectAltName. node-forge builds the X.509 structure (Node cannot);
 * the RSA key comes from node:crypto.
 */
export function selfSignedMaterial(hosts: readonly string[], days = 30): TlsMaterial {
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const keyPem = privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
  const cert = forge.pki.createCertificate();
  cert.publicKey = forge.pki.publicKeyFromPem(publicKey.export({ type: 'spki', format: 'pem' }).toString());
  // RFC 5280 4.1.2.2: a positive serial of at most 20 octets.
  cert.serialNumber = '01' + randomBytes(15).toString('hex');
  cert.validity.notBefore = new Date(Date.now() - 60_000);
  cert.validity.notAfter = new Date(Date.now() + days * 86_400_000);
  const cn = hosts[0] ?? 'localhost';
  const attrs = [{ name: 'commonName', value: cn }, { name: 'organizationName', value: 'tonegate demo (self-signed)' }];
  cert.setSubject(attrs);
  cert.setIssuer(attrs);
  cert.setExtensions([
    { name: 'basicConstraints', cA: false },
    { name: 'keyUsage', digitalSignature: true, keyEncipherment: true },
    { name: 'extKeyUsage', serverAuth: true, clientAuth: true },
    { name: 'subjectAltName', altNames: [...new Set(hosts)].map((h) => (isIP(h) ? { type: 7, ip: h } : { type: 2, value: h })) },
  ]);
  cert.sign(forge.pki.privateKeyFromPem(keyPem), forge.md.sha256.create());
  const certPem = forge.pki.certificateToPem(cert);
  return checkMaterial(Buffer.from(certPem), Buffer.from(keyPem), 'self-signed', 'self-signed');
}

/** Where the certificate comes from and what listens for a renewal. */
export class TlsCredentials {
  #current: TlsMaterial;
  readonly #listeners = new Set<(m: TlsMaterial) => void>();

  private constructor(
    material: TlsMaterial,
    private readonly files: { cert: string; key: string } | undefined,
  ) {
    this.#current = material;
  }

  static fromFiles(certFile: string, keyFile: string): TlsCredentials {
    return new TlsCredentials(readTlsMaterial(certFile, keyFile), { cert: certFile, key: keyFile });
  }

  static selfSigned(hosts: readonly string[]): TlsCredentials {
    return new TlsCredentials(selfSignedMaterial(hosts), undefined);
  }

  get current(): TlsMaterial {
    return this.#current;
  }

  /** True when the material comes from files (a self-signed certificate is not reloaded). */
  get reloadable(): boolean {
    return this.files !== undefined;
  }

  /** Called with the new material after each successful reload. Returns an unsubscribe function. */
  onChange(fn: (m: TlsMaterial) => void): () => void {
    this.#listeners.add(fn);
    return () => void this.#listeners.delete(fn);
  }

  /**
   * Re-reads the files. A bad pair (unreadable, not PEM, key not matching) throws TlsConfigError
   * and leaves the current certificate in service. Returns the new material.
   */
  reload(): TlsMaterial {
    if (!this.files) return this.#current;
    const next = readTlsMaterial(this.files.cert, this.files.key);
    this.#current = next;
    for (const fn of this.#listeners) fn(next);
    return next;
  }
}

/**
 * The certificate fingerprints of `TRUSTED_PEERS` (`sha256:AB:CD:...`, `AB:CD:...` or 64 hex
 * digits, any case: peers.ts parseFingerprint; CIDR entries are someone else's business),
 * normalised to `sha256:AB:CD:...`. Throws TlsConfigError on an entry that starts with `sha256:`
 * but is not 32 hex octets.
 */
export function trustedFingerprints(trustedPeers: string | readonly string[] | undefined): Set<string> {
  const entries = typeof trustedPeers === 'string' ? trustedPeers.split(',') : (trustedPeers ?? []);
  const out = new Set<string>();
  for (const raw of entries.map((e) => e.trim()).filter(Boolean)) {
    const fp = parseFingerprint(raw);
    if (fp) out.add(fp);
    else if (/^sha256:/i.test(raw)) throw new TlsConfigError(`TRUSTED_PEERS: "${raw.slice(0, 120)}" is not a SHA-256 fingerprint (sha256: and 32 hex octets)`);
  }
  return out;
}

/** The TLS settings as the configuration gives them (config/schema.ts, encryption block). */
export interface TlsSettings {
  TLS_CERT_FILE?: string | undefined;
  TLS_KEY_FILE?: string | undefined;
  TLS_SELF_SIGNED?: boolean | undefined;
  /** Hosts for a self-signed certificate's subjectAltName. */
  hosts: readonly string[];
  /** Production never runs on a self-signed certificate. */
  production?: boolean;
}

/** The gateway's credentials from its settings, or undefined when TLS is off. Throws TlsConfigError on a bad combination or file. */
export function credentialsFromSettings(s: TlsSettings): TlsCredentials | undefined {
  if ((s.TLS_CERT_FILE === undefined) !== (s.TLS_KEY_FILE === undefined)) {
    throw new TlsConfigError(`${s.TLS_CERT_FILE === undefined ? 'TLS_CERT_FILE' : 'TLS_KEY_FILE'} is missing: TLS_CERT_FILE and TLS_KEY_FILE go together`);
  }
  if (s.TLS_CERT_FILE !== undefined && s.TLS_KEY_FILE !== undefined) {
    if (s.TLS_SELF_SIGNED) throw new TlsConfigError('TLS_SELF_SIGNED=1 and TLS_CERT_FILE exclude each other');
    return TlsCredentials.fromFiles(s.TLS_CERT_FILE, s.TLS_KEY_FILE);
  }
  if (!s.TLS_SELF_SIGNED) return undefined;
  if (s.production) throw new TlsConfigError('TLS_SELF_SIGNED=1 is for demo mode only: set TLS_CERT_FILE and TLS_KEY_FILE');
  return TlsCredentials.selfSigned([...s.hosts, 'localhost']);
}

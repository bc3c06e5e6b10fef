import { execFileSync, spawn } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/**
 * Test certificates made by the real `openssl` CLI at test time (no private key is committed): a
 * test CA and leaf certificates it signs, each with subjectAltName IP:127.0.0.1 and DNS:localhost.
 */
export interface CertFiles {
  certFile: string;
  keyFile: string;
  cert: Buffer;
  key: Buffer;
  /** `sha256:AB:CD:...` */
  fingerprint: string;
}

const fingerprintOf = (pem: Buffer): string => `sha256:${new X509Certificate(pem).fingerprint256}`;

export class TestCa {
  private n = 0;
  private constructor(
    readonly dir: string,
    readonly certFile: string,
    private readonly keyFile: string,
  ) {}

  /** A new CA in a fresh temporary directory (EC P-256: fast to make). */
  static create(name = 'tonegate test CA'): TestCa {
    const dir = mkdtempSync(join(tmpdir(), 'tg-tls-'));
    const keyFile = join(dir, 'ca.key');
    const certFile = join(dir, 'ca.pem');
    execFileSync('openssl', [
      'req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', keyFile, '-out', certFile,
      '-days', '2', '-subj', `/CN=${name}`, '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign',
    ], { stdio: 'pipe' });
    return new TestCa(dir, certFile, keyFile);
  }

  get cert(): Buffer {
    return readFileSync(this.certFile);
  }

  /** A leaf certificate signed by this CA, written to `<dir>/<name>.pem` / `.key` (`dest` overrides the paths). */
  issue(cn = '127.0.0.1', dest?: { certFile: string; keyFile: string }): CertFiles {
    const i = ++this.n;
    const keyFile = dest?.keyFile ?? join(this.dir, `leaf-${i}.key`);
    const certFile = dest?.certFile ?? join(this.dir, `leaf-${i}.pem`);
    const csr = join(this.dir, `leaf-${i}.csr`);
    const ext = join(this.dir, `leaf-${i}.ext`);
    writeFileSync(ext, 'subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth,clientAuth\nbasicConstraints=CA:FALSE\n');
    execFileSync('openssl', ['req', '-new', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', keyFile, '-out', csr, '-subj', `/CN=${cn}`], { stdio: 'pipe' });
    execFileSync('openssl', [
      'x509', '-req', '-in', csr, '-CA', this.certFile, '-CAkey', this.keyFile, '-set_serial', String(Date.now() * 100 + i), '-days', '2', '-extfile', ext, '-out', certFile,
    ], { stdio: 'pipe' });
    const cert = readFileSync(certFile);
    return { certFile, keyFile, cert, key: readFileSync(keyFile), fingerprint: fingerprintOf(cert) };
  }
}

export interface SClientResult {
  /** True when the handshake completed (a certificate was received and a protocol negotiated). */
  connected: boolean;
  /** `TLSv1.2`, `TLSv1.3`, ... as s_client reports it. */
  protocol: string | undefined;
  /** Fingerprint of the server's leaf certificate, when one was received. */
  fingerprint: string | undefined;
  output: string;
}

/**
 * Runs the real `openssl s_client` against 127.0.0.1:port with `args` (e.g. `-tls1_1`), sends nothing
 * and reads what it printed. `-cipher DEFAULT@SECLEVEL=0` lets Debian's OpenSSL 3 offer TLS 1.0/1.1
 * at all, so a refusal can only come from the server.
 */
export function sClient(port: number, args: readonly string[] = []): Promise<SClientResult> {
  return new Promise((resolve, reject) => {
    const child = spawn('openssl', ['s_client', '-connect', `127.0.0.1:${port}`, '-servername', 'localhost', '-showcerts', ...args], { stdio: ['pipe', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (d: Buffer) => (output += d.toString()));
    child.stderr.on('data', (d: Buffer) => (output += d.toString()));
    child.on('error', reject);
    const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
    child.on('close', () => {
      clearTimeout(timer);
      const pem = /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/.exec(output)?.[0];
      const protocol = /^\s*Protocol\s*:\s*(\S+)/m.exec(output)?.[1] ?? /New, (TLSv[\d.]+),/.exec(output)?.[1];
      const cipher = /Cipher is (\S+)/.exec(output)?.[1];
      resolve({
        connected: pem !== undefined && cipher !== undefined && cipher !== '(NONE)',
        protocol,
        fingerprint: pem ? fingerprintOf(Buffer.from(pem)) : undefined,
        output,
      });
    });
    // Close stdin after a moment: s_client then ends the session and exits.
    setTimeout(() => child.stdin.end(), 300);
  });
}

/** The parts of a fetch Response the tests read. */
export interface TlsResponse {
  readonly status: number;
  readonly headers: Record<string, string | string[] | undefined>;
  text(): Promise<string>;
  json(): Promise<unknown>;
}

/**
 * `fetch` over HTTPS trusting `ca` (Node's global fetch takes no CA): GET, or the given method and
 * body, through node:https. Plain `http:` URLs go to the global fetch.
 */
export async function tlsFetch(url: string, init: { ca?: Buffer; method?: string; headers?: Record<string, string>; body?: string; timeoutMs?: number } = {}): Promise<TlsResponse> {
  if (url.startsWith('http:')) {
    const r = await fetch(url, { method: init.method ?? 'GET', headers: init.headers ?? {}, ...(init.body !== undefined ? { body: init.body } : {}), signal: AbortSignal.timeout(init.timeoutMs ?? 5000) });
    const text = await r.text();
    const headers: Record<string, string> = {};
    r.headers.forEach((v, k) => (headers[k] = v));
    return { status: r.status, headers, text: async () => text, json: async () => JSON.parse(text) as unknown };
  }
  const { request } = await import('node:https');
  return new Promise((resolve, reject) => {
    const req = request(url, { method: init.method ?? 'GET', headers: init.headers ?? {}, ...(init.ca ? { ca: init.ca } : {}), timeout: init.timeoutMs ?? 5000 }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        resolve({ status: res.statusCode ?? 0, headers: res.headers, text: async () => text, json: async () => JSON.parse(text) as unknown });
      });
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error(`${url}: timed out`)));
    req.on('error', reject);
    if (init.body !== undefined) req.write(init.body);
    req.end();
  });
}

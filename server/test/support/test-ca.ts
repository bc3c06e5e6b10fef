import { execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface IssuedCert {
  readonly certFile: string;
  readonly keyFile: string;
}

/**
 * A throw-away certificate authority made with the openssl CLI in a temporary folder, for tests of
 * TLS peers (nothing private is committed). `issue()` signs a leaf for localhost / 127.0.0.1.
 */
export class TestCa {
  readonly dir = mkdtempSync(join(tmpdir(), 'tg-ca-'));
  readonly caFile = join(this.dir, 'ca.pem');
  readonly #caKey = join(this.dir, 'ca.key');

  constructor(readonly name = 'tonegate test CA') {
    openssl(['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '2', '-subj', `/CN=${name}`, '-keyout', this.#caKey, '-out', this.caFile]);
  }

  issue(cn = 'localhost', sans = ['DNS:localhost', 'IP:127.0.0.1']): IssuedCert {
    const base = join(this.dir, `${cn}-${Math.random().toString(36).slice(2, 8)}`);
    const ext = `${base}.ext`;
    writeFileSync(ext, `subjectAltName=${sans.join(',')}\nextendedKeyUsage=serverAuth,clientAuth\n`);
    openssl(['req', '-newkey', 'rsa:2048', '-nodes', '-subj', `/CN=${cn}`, '-keyout', `${base}.key`, '-out', `${base}.csr`]);
    openssl(['x509', '-req', '-in', `${base}.csr`, '-CA', this.caFile, '-CAkey', this.#caKey, '-CAcreateserial', '-days', '2', '-extfile', ext, '-out', `${base}.pem`]);
    return { certFile: `${base}.pem`, keyFile: `${base}.key` };
  }
}

function openssl(args: string[]): void {
  execFileSync('openssl', args, { stdio: ['ignore', 'ignore', 'pipe'] });
}

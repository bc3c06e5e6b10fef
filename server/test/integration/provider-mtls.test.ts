/**
 * Mutual TLS to the payment provider (PAYMENT_TLS_CERT_FILE / PAYMENT_TLS_KEY_FILE /
 * PAYMENT_TLS_CA_FILE): certificates made by real openssl, a real HTTPS server that requires a
 * client certificate from its CA. Our client presents it and gets through; a certificate from
 * another CA is refused in the handshake, and the call fails as a provider error, not a crash.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TLSSocket } from 'node:tls';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '../../src/observability/logger.js';
import { providerAccess } from '../../src/providers/access.js';
import { NO_RETRY, PaymentProviderClient, ProviderError } from '../../src/providers/index.js';

const dir = mkdtempSync(join(tmpdir(), 'tg-mtls-'));
const at = (f: string): string => join(dir, f);
const ossl = (...args: string[]): void => void execFileSync('openssl', args, { stdio: 'pipe' });

/** A CA, and a certificate signed by it for `cn` (with an IP SAN when given). */
function ca(name: string): void {
  ossl('req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', at(`${name}.key`), '-out', at(`${name}.crt`), '-days', '2', '-subj', `/CN=${name}`);
}
function issue(caName: string, name: string, cn: string, san?: string): void {
  ossl('req', '-newkey', 'rsa:2048', '-nodes', '-keyout', at(`${name}.key`), '-out', at(`${name}.csr`), '-subj', `/CN=${cn}`);
  const ext = at(`${name}.ext`);
  writeFileSync(ext, san ? `subjectAltName=${san}\n` : 'extendedKeyUsage=clientAuth\n');
  ossl('x509', '-req', '-in', at(`${name}.csr`), '-CA', at(`${caName}.crt`), '-CAkey', at(`${caName}.key`), '-CAcreateserial', '-out', at(`${name}.crt`), '-days', '2', '-extfile', ext);
}

let server: Server;
let base: string;
const seenClients: string[] = [];
const logger = createLogger('silent');

beforeAll(async () => {
  ca('provider-ca');
  ca('other-ca');
  issue('provider-ca', 'server', 'pg.test', 'IP:127.0.0.1');
  issue('provider-ca', 'client', 'tonegate-gw');
  issue('other-ca', 'stranger', 'tonegate-gw');
  server = createServer(
    { key: readFileSync(at('server.key')), cert: readFileSync(at('server.crt')), ca: readFileSync(at('provider-ca.crt')), requestCert: true, rejectUnauthorized: true, minVersion: 'TLSv1.2' },
    (req, res) => {
      seenClients.push(String((req.socket as TLSSocket).getPeerCertificate().subject?.CN ?? ''));
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify({ status: 'not-found' }));
    },
  );
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  base = `https://127.0.0.1:${(server.address() as { port: number }).port}`;
});
afterAll(async () => {
  await new Promise<void>((r) => server?.close(() => r()));
});

const clientWith = (cert: string, key: string) => {
  const access = providerAccess({ PAYMENT_TLS_CERT_FILE: at(cert), PAYMENT_TLS_KEY_FILE: at(key), PAYMENT_TLS_CA_FILE: at('provider-ca.crt') }, 'plain');
  return new PaymentProviderClient({ baseUrl: base, logger, fetch: access.fetch!, statusPolicy: NO_RETRY });
};

describe('mutual TLS to the provider', () => {
  it('presents the configured client certificate and the provider answers', async () => {
    expect(await clientWith('client.crt', 'client.key').paymentStatus('key-1')).toEqual({ status: 'not-found' });
    expect(seenClients).toContain('tonegate-gw');
  });

  it('a client certificate from another CA is refused in the handshake: a ProviderError, nothing answered', async () => {
    const before = seenClients.length;
    const err = await clientWith('stranger.crt', 'stranger.key').paymentStatus('key-2').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ProviderError);
    expect(seenClients.length).toBe(before);
  });
});

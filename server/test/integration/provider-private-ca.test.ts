/**
 * A payment provider whose server certificate comes from a private CA (PAYMENT_TLS_CA_FILE), with
 * and without mutual TLS (PAYMENT_TLS_CERT_FILE / PAYMENT_TLS_KEY_FILE): a throwaway CA made by
 * the real openssl CLI, real node:https servers. The CA alone reaches the provider; without it (or
 * with another CA) the handshake fails with the certificate error as the cause; mutual TLS works
 * with the CA; and the SMS routes on the provider's origin use the provider's TLS settings while
 * any other origin keeps the system CAs (docs/operations.md, "The provider").
 */
import { createServer, type Server, type ServerOptions } from 'node:https';
import type { TLSSocket } from 'node:tls';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/load.js';
import { createPayments, type Payments } from '../../src/calls/payment/setup.js';
import { systemClock } from '../../src/lib/clock.js';
import { createLogger } from '../../src/observability/logger.js';
import { providerAccess, type ProviderAccess, type ProviderAccessSettings } from '../../src/providers/access.js';
import { NO_RETRY, PaymentProviderClient, ProviderError } from '../../src/providers/index.js';
import { TestCa, type CertFiles } from '../support/tls-certs.js';

const logger = createLogger('silent');
let providerCa: TestCa;
let otherCa: TestCa;
let client: CertFiles;
const servers: Server[] = [];
/** A provider that needs no client certificate, one that requires one from providerCa, and a second origin of the first kind. */
let open: string;
let mtls: string;
let otherOrigin: string;
const seenClients: string[] = [];

async function serve(options: ServerOptions): Promise<string> {
  const server = createServer({ ...options, minVersion: 'TLSv1.2' }, (req, res) => {
    const peer = (req.socket as TLSSocket).getPeerCertificate();
    if (peer?.subject) seenClients.push(String(peer.subject.CN));
    res.setHeader('content-type', 'application/json');
    res.end(JSON.stringify({ status: 'not-found' }));
  });
  servers.push(server);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return `https://127.0.0.1:${(server.address() as { port: number }).port}`;
}

beforeAll(async () => {
  providerCa = TestCa.create('provider private CA');
  otherCa = TestCa.create('some other CA');
  const leaf = providerCa.issue('127.0.0.1');
  client = providerCa.issue('tonegate-gw');
  open = await serve({ key: leaf.key, cert: leaf.cert });
  mtls = await serve({ key: leaf.key, cert: leaf.cert, ca: providerCa.cert, requestCert: true, rejectUnauthorized: true });
  otherOrigin = await serve({ key: leaf.key, cert: leaf.cert });
});
afterAll(async () => {
  await Promise.all(servers.map((s) => new Promise<void>((r) => s.close(() => r()))));
});

const made: ProviderAccess[] = [];
afterEach(() => {
  for (const a of made.splice(0)) a.close();
});

function accessWith(s: ProviderAccessSettings): ProviderAccess {
  const a = providerAccess(s, 'plain');
  made.push(a);
  return a;
}
const status = (a: ProviderAccess, base: string): Promise<unknown> =>
  new PaymentProviderClient({ baseUrl: base, logger, fetch: a.fetch, statusPolicy: NO_RETRY }).paymentStatus('key-1');
/** The cause of a failed fetch: the TLS error code (UNABLE_TO_VERIFY_LEAF_SIGNATURE, say). */
const causeOf = async (p: Promise<unknown>): Promise<string | undefined> => {
  const err = await p.then(() => undefined, (e: unknown) => e);
  expect(err, 'the call should fail').toBeInstanceOf(TypeError);
  return (err as { cause?: { code?: string } }).cause?.code;
};
const UNTRUSTED = /^(UNABLE_TO_VERIFY_LEAF_SIGNATURE|SELF_SIGNED_CERT_IN_CHAIN|UNABLE_TO_GET_ISSUER_CERT_LOCALLY)$/;

describe('a provider with a private CA', () => {
  it('the CA alone (no mutual TLS) reaches it', async () => {
    const a = accessWith({ PAYMENT_TLS_CA_FILE: providerCa.certFile });
    expect(await status(a, open)).toEqual({ status: 'not-found' });
    expect((await a.fetch(`${open}/v1/x`)).status).toBe(200);
  });

  it.each<[string, () => ProviderAccessSettings]>([
    ['no TLS settings (the system CAs)', () => ({})],
    ['another CA', () => ({ PAYMENT_TLS_CA_FILE: otherCa.certFile })],
    ['a client certificate without the CA (the system CAs)', () => ({ PAYMENT_TLS_CERT_FILE: client.certFile, PAYMENT_TLS_KEY_FILE: client.keyFile })],
  ])('with %s the handshake fails on the server certificate, a ProviderError for the client', async (_name, settings) => {
    const a = accessWith(settings());
    expect(await causeOf(a.fetch(`${open}/v1/x`))).toMatch(UNTRUSTED);
    expect(await status(a, open).catch((e: unknown) => e)).toBeInstanceOf(ProviderError);
  });

  it('mutual TLS with the CA: the client certificate is presented and the provider answers', async () => {
    const a = accessWith({ PAYMENT_TLS_CERT_FILE: client.certFile, PAYMENT_TLS_KEY_FILE: client.keyFile, PAYMENT_TLS_CA_FILE: providerCa.certFile });
    const before = seenClients.length;
    expect(await status(a, mtls)).toEqual({ status: 'not-found' });
    expect(seenClients.slice(before)).toContain('tonegate-gw');
  });

  it('the CA alone against a provider that requires a client certificate: refused by the provider, nothing answered', async () => {
    const a = accessWith({ PAYMENT_TLS_CA_FILE: providerCa.certFile });
    const before = seenClients.length;
    expect(await status(a, mtls).catch((e: unknown) => e)).toBeInstanceOf(ProviderError);
    expect(seenClients.length).toBe(before);
  });

  it('a CA file that holds no certificate is refused at start-up, naming the variable', () => {
    expect(() => accessWith({ PAYMENT_TLS_CA_FILE: client.keyFile })).toThrow(/^PAYMENT_TLS_CA_FILE: .* holds no PEM certificate/);
  });
});

describe('SMS routes and the provider\'s TLS settings', () => {
  let payments: Payments | undefined;
  afterEach(async () => {
    await payments?.close();
    payments = undefined;
  });

  it('the provider\'s origin through its CA; any other origin through the system CAs', async () => {
    const config = loadConfig({ PAYMENT_API_URL: `${open}/v1`, PAYMENT_TLS_CA_FILE: providerCa.certFile });
    let smsFetch: typeof fetch | undefined;
    const fetchFor = (name: string, inner: typeof fetch = fetch): typeof fetch => {
      if (name === 'sms') smsFetch = inner;
      return inner;
    };
    payments = await createPayments(config, logger, systemClock, { fetchFor });
    expect(smsFetch).toBeDefined();
    expect((await smsFetch!(`${open}/v1/sms`, { method: 'POST', body: '{}' })).status).toBe(200);
    // Same certificate, another origin: not the provider's, so its private CA is not trusted there.
    expect(await causeOf(smsFetch!(`${otherOrigin}/v1/sms`, { method: 'POST', body: '{}' }))).toMatch(UNTRUSTED);
  });
});

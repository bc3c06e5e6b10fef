import https from 'node:https';
import http from 'node:http';
import type { TLSSocket } from 'node:tls';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Gateway } from '../../src/gateway.js';
import { EventsClient } from '../support/events-client.js';
import { startTestGateway, type LogSink } from '../support/gateway.js';
import { TestCa, type CertFiles } from '../support/tls-certs.js';
import { WsSipAgent } from '../support/ws-sip-agent.js';

/**
 * HTTPS and WSS on the HTTP listener (docs/security.md, "Encryption"): pages, REST, `/events` and
 * `/sip` over TLS with a certificate from a test CA made by openssl, checked against that CA by the
 * clients; HSTS (RFC 6797) and a Content-Security-Policy whose connect-src is the gateway's own origin.
 */
let gw: Gateway;
let logs: LogSink;
let ca: TestCa;
let cert: CertFiles;

beforeAll(async () => {
  ca = TestCa.create();
  cert = ca.issue('127.0.0.1');
  ({ gw, logs } = await startTestGateway({ TLS_CERT_FILE: cert.certFile, TLS_KEY_FILE: cert.keyFile, SIP_DIGEST_ALGORITHMS: 'SHA-256,MD5' }, { config: { SIP_TLS_PORT: 0 } }));
});
afterAll(async () => {
  await gw?.close();
});

interface Got {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: string;
  fingerprint: string | undefined;
}

/** A GET over HTTPS that trusts only the test CA (and checks the name, 127.0.0.1). */
function get(path: string, headers: Record<string, string> = {}): Promise<Got> {
  return new Promise((resolve, reject) => {
    const req = https.get({ host: '127.0.0.1', port: gw.httpPort, path, ca: ca.cert, headers, agent: false }, (res) => {
      const peer = (res.socket as TLSSocket).getPeerCertificate();
      const fingerprint = peer?.fingerprint256 ? `sha256:${peer.fingerprint256}` : undefined;
      let body = '';
      res.on('data', (d: Buffer) => (body += d.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body, fingerprint }));
    });
    req.on('error', reject);
  });
}

describe('HTTPS', () => {
  it('serves /healthz and REST over TLS with the configured certificate and an HSTS header', async () => {
    const h = await get('/healthz');
    expect(h.status).toBe(200);
    expect(JSON.parse(h.body).status).toBe('ok');
    expect(h.fingerprint).toBe(cert.fingerprint);
    expect(h.headers['strict-transport-security']).toBe('max-age=31536000');
    const s = await get('/api/sessions', { Authorization: `Bearer ${gw.supervisorToken}` });
    expect(s.status).toBe(200);
    expect(JSON.parse(s.body)).toEqual({ sessions: [], next: null });
    expect(s.headers['strict-transport-security']).toBe('max-age=31536000');
  });

  it("pages carry a CSP whose connect-src is the gateway's own origin only (wss: of the page's host, no ws:/wss: wildcard)", async () => {
    const page = await get('/agent');
    const csp = page.headers['content-security-policy'] ?? '';
    const connect = /connect-src ([^;]+)/.exec(String(csp))?.[1];
    expect(connect).toBe(`'self' wss://127.0.0.1:${gw.httpPort}`);
    expect(page.headers['strict-transport-security']).toBe('max-age=31536000');
  });

  it('plain HTTP on the HTTPS port gets no answer in clear', async () => {
    const r = await new Promise<string>((resolve) => {
      const req = http.get({ host: '127.0.0.1', port: gw.httpPort, path: '/healthz' }, (res) => resolve(`answered ${res.statusCode}`));
      req.on('error', (err: NodeJS.ErrnoException) => resolve(`error ${err.code}`));
      req.setTimeout(3_000, () => req.destroy(new Error('timeout')));
    });
    expect(r).not.toBe('answered 200');
    expect(r).not.toMatch(/^answered 2/);
  });

  it('a client that does not trust the test CA is refused by its own certificate check (the certificate is not a public one)', async () => {
    const err = await new Promise<NodeJS.ErrnoException>((resolve) => {
      https.get({ host: '127.0.0.1', port: gw.httpPort, path: '/healthz' }, () => resolve(new Error('connected'))).on('error', resolve);
    });
    expect(err.code).toBe('UNABLE_TO_VERIFY_LEAF_SIGNATURE');
  });
});

describe('WSS', () => {
  it('/events over wss: authenticates with the supervisor token and is ready', async () => {
    const c = new EventsClient(`wss://127.0.0.1:${gw.httpPort}/events`, { ca: ca.cert });
    const ready = await c.auth(gw.supervisorToken);
    expect(ready.type).toBe('ready');
    c.close();
    await c.closed;
  });

  it('/events over wss: refuses a page from another origin (403), as over ws:', async () => {
    const c = new EventsClient(`wss://127.0.0.1:${gw.httpPort}/events`, { ca: ca.cert, origin: 'https://evil.example' });
    expect(await c.refused).toBe(403);
  });

  it('/sip over wss: an agent registers (RFC 7118, Via WSS) and the gateway writes WSS in its own Via', async () => {
    const agent = await WsSipAgent.connect(`wss://127.0.0.1:${gw.httpPort}/sip`, { user: 'agent-1', password: 'demo', ca: ca.cert });
    try {
      const reg = await agent.register({ expires: 60 });
      expect(reg.final.status).toBe(200);
      expect(reg.final.header('via')).toMatch(/^SIP\/2\.0\/WSS /);
      const b = gw.registrar.bindings('agent-1');
      const flow = gw.sip.transport.getFlow(b[b.length - 1]!.flowId);
      expect(flow?.protocol).toBe('WS');
      expect(flow?.secure).toBe(true);
      expect(gw.sip.via(flow!).protocol).toBe('WSS');
      expect(gw.sip.via(flow!).contact).toContain(';transport=wss>');
      await agent.register({ expires: 0 });
    } finally {
      await agent.close();
    }
  });

  it('the gateway logged no errors', () => {
    expect(logs.lines.filter((l) => /"level":(50|60)/.test(l))).toEqual([]);
  });
});

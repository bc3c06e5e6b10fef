import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hashCredential } from '../../src/security/credentials.js';
import { base32Encode } from '../../src/security/totp.js';
import { GatewayChild } from '../support/gateway-process.js';
import { OpensslSipClient } from '../support/openssl-sip.js';
import { payHeaders } from '../../devtools/sipp/pay-scenario.js';
import { freeMediaPort, freePort } from '../../devtools/ports.js';
import { waitUntil, type SipResponse } from '../support/sip-client.js';
import { TestCa, type CertFiles } from '../support/tls-certs.js';
import { signedHeaders } from '../support/trust-scenarios.js';
import { PRODUCTION_SMS_YAML } from '../support/production-sms.js';

/**
 * TRUSTED_PEERS certificate fingerprints (docs/security.md, "Trusted peers"): a gateway in
 * production mode (`npm start`'s process, every start requirement met) with SIP over TLS, and
 * `INVITE sip:pay@` sent by the real `openssl s_client` with a client certificate whose SHA-256
 * fingerprint is listed (admitted by that alone: its address is not listed), with another
 * certificate, and with none. The list gives the fingerprint as plain lower-case hex, the form
 * `sha256sum` prints, so the test also covers that the TLS transport's `sha256:AB:CD:...` and the
 * configured form meet.
 */
const KEY = 'tls-trusted-peers-hmac-key-0123';
const dir = mkdtempSync(join(tmpdir(), 'tg-tlspeers-'));
const ca = TestCa.create();
let trustedClient: CertFiles;
let otherClient: CertFiles;
let gw: GatewayChild;
let env: Record<string, string>;
const clients: OpensslSipClient[] = [];
const WARNING = 'Warning: 399 tonegate "this source may not start payments (TRUSTED_PEERS)"';

beforeAll(async () => {
  const server = ca.issue('127.0.0.1', { certFile: join(dir, 'cert.pem'), keyFile: join(dir, 'key.pem') });
  trustedClient = ca.issue('pbx.example');
  otherClient = ca.issue('stranger.example');
  const rtp = 36000 + 2 * Math.floor(Math.random() * 1500);
  writeFileSync(join(dir, 'tonegate.yaml'), PRODUCTION_SMS_YAML); // production texts the OTP on its own DLT registration
  env = {
    TONEGATE_CONFIG: join(dir, 'tonegate.yaml'),
    TONEGATE_MODE: 'production',
    TLS_CERT_FILE: server.certFile,
    TLS_KEY_FILE: server.keyFile,
    TEST_CA_FILE: ca.certFile,
    AGENTS: `agent-1:${hashCredential('agent-1', 'tonegate', 'agent one long password')}`,
    SUPERVISORS: `asha:${hashCredential('asha', 'tonegate', 'supervisor long password', undefined, { digest: false })}:${base32Encode(randomBytes(20))}`,
    HANDOFF_API_KEY: 'hak-tls-peers-0123456789',
    HANDOFF_HMAC_KEY: KEY,
    AUDIT_KEY: randomBytes(32).toString('hex'),
    // 127.0.0.2 (a CIDR entry) and the trusted client's certificate as plain lower-case hex.
    TRUSTED_PEERS: `127.0.0.2/32,${trustedClient.fingerprint.slice('sha256:'.length).replace(/:/g, '').toLowerCase()}`,
    PAYMENT_API_URL: 'https://127.0.0.1:9/pg',
    SIP_PORT: String(await freePort()),
    SIP_TLS_PORT: String(await freePort()),
    HTTP_PORT: String(await freePort()),
    METRICS_HOST: '127.0.0.1',
    METRICS_PORT: String(await freePort()),
    RTP_PORT_MIN: String(rtp),
    RTP_PORT_MAX: String(rtp + 99),
    MEDIA_WORKERS: '1',
    AUDIT_LOG: join(dir, 'audit.jsonl'),
    LOG_LEVEL: 'info',
  };
  gw = await GatewayChild.start(env);
}, 60_000);

afterAll(async () => {
  await Promise.all(clients.map((c) => c.close()));
  await gw?.stop();
});

const tlsPort = () => Number(env['SIP_TLS_PORT']);
const ruri = () => `sip:pay@127.0.0.1:${tlsPort()}`;
const refusals = async (): Promise<number> =>
  Number(/tonegate_refusals_total\{reason="untrusted-peer"\} (\d+)/.exec(await (await fetch(`http://127.0.0.1:${env['METRICS_PORT']}/metrics`)).text())?.[1] ?? 0);
const audit = (): { action: string; outcome: string; source?: string; details?: Record<string, unknown>; target?: { id: string } }[] =>
  readFileSync(env['AUDIT_LOG']!, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as never);

/** A signed transfer INVITE (v2: production requires it) to sip:pay@ over the TLS connection. */
async function invite(client: OpensslSipClient, bind: string, tag = randomBytes(4).toString('hex')) {
  const callId = `tls-peer-${tag}@pbx.example`;
  const headers = signedHeaders(payHeaders(), { key: KEY, requestUri: ruri(), callId });
  const media = await freeMediaPort();
  const sdp = `v=0\r\no=pbx 1 1 IN IP4 ${bind}\r\ns=-\r\nc=IN IP4 ${bind}\r\nt=0 0\r\nm=audio ${media} RTP/AVP 0 101\r\na=rtpmap:0 PCMU/8000\r\na=rtpmap:101 telephone-event/8000\r\na=fmtp:101 0-16\r\na=sendrecv\r\n`;
  const from = `<sip:pbx@${bind}>;tag=${tag}`;
  const via = `SIP/2.0/TLS ${bind}:5061;branch=z9hG4bK-${tag}-1;rport`;
  client.send(
    [
      `INVITE ${ruri()} SIP/2.0`, `Via: ${via}`, 'Max-Forwards: 70', `From: ${from}`, `To: <${ruri()}>`, `Call-ID: ${callId}`, 'CSeq: 1 INVITE',
      `Contact: <sip:pbx@${bind}:5061;transport=tls>`, ...Object.entries(headers).map(([k, v]) => `${k}: ${v}`),
      'Content-Type: application/sdp', `Content-Length: ${Buffer.byteLength(sdp)}`, '', sdp,
    ].join('\r\n'),
  );
  const final = await client.response((r) => r.status >= 200 && r.headers['call-id']?.[0] === callId);
  return { final, callId, from, tag, orderRef: headers['X-Pay-Order-Ref']! };
}

/** In-dialog requests on the same connection (the in-dialog source rule: docs/security.md). */
function dialog(client: OpensslSipClient, call: { final: SipResponse; callId: string; from: string; tag: string }) {
  const to = call.final.headers['to']![0]!;
  const target = /<([^>]+)>/.exec(call.final.headers['contact']![0]!)![1]!;
  const common = (cseq: string, n: number) => [`Via: SIP/2.0/TLS 127.0.0.1:5061;branch=z9hG4bK-${call.tag}-${n};rport`, 'Max-Forwards: 70', `From: ${call.from}`, `To: ${to}`, `Call-ID: ${call.callId}`, `CSeq: ${cseq}`];
  return {
    ack: () => client.send([`ACK ${target} SIP/2.0`, ...common('1 ACK', 2), 'Content-Length: 0', '', ''].join('\r\n')),
    bye: (): Promise<SipResponse> => {
      const from = client.responses.length;
      client.send([`BYE ${target} SIP/2.0`, ...common('2 BYE', 3), 'Content-Length: 0', '', ''].join('\r\n'));
      return client.response((r) => r.headers['cseq']?.[0] === '2 BYE', 10_000, from);
    },
  };
}

function connect(bind: string, cert?: CertFiles): OpensslSipClient {
  const c = OpensslSipClient.connect({ port: tlsPort(), caFile: ca.certFile, bind, ...(cert ? { cert } : {}) });
  clients.push(c);
  return c;
}

describe('TRUSTED_PEERS certificate fingerprints on SIP over TLS (openssl s_client)', () => {
  it('(a) a client certificate whose SHA-256 fingerprint is listed is admitted from an unlisted address: 100, 200 with SDP, the payment starts (audited with the certificate)', async () => {
    const client = connect('127.0.0.3', trustedClient);
    const call = await invite(client, '127.0.0.3');
    expect(client.responses.some((r) => r.status === 100), client.stderr).toBe(true);
    expect(call.final.status, call.final.raw).toBe(200);
    expect(call.final.raw).toMatch(/\r\nm=audio \d+ RTP\/AVP /);
    const admitted = audit().find((e) => e.action === 'payment.admitted' && e.target?.id === call.orderRef);
    expect(admitted).toMatchObject({ outcome: 'success', source: '127.0.0.3', details: { transport: 'TLS', certificate: trustedClient.fingerprint } });
    const d = dialog(client, call);
    d.ack();
    // The capture session started (its first event reached the audit trail).
    expect(await waitUntil(() => audit().filter((e) => e.action === 'session.start').length === 1, 5000)).toBe(true);
    expect((await d.bye()).status).toBe(200);
  });

  it('(b) another client certificate from an unlisted address is refused with the uniform 403 before anything exists', async () => {
    const before = await refusals();
    const client = connect('127.0.0.4', otherClient);
    const { final, orderRef } = await invite(client, '127.0.0.4');
    expect(final.status, final.raw).toBe(403);
    expect(final.raw).toContain(`\r\n${WARNING}\r\n`);
    expect(await refusals()).toBe(before + 1);
    expect(audit().some((e) => e.target?.id === orderRef)).toBe(false);
    expect(audit().filter((e) => e.action === 'payment.refused' && e.source === '127.0.0.4').map((e) => e.details?.['reason'])).toEqual(['untrusted-peer']);
    // The certificate was seen, and it is not the listed one.
    expect(gw.lines.some((l) => l.includes('sip tls client certificate not in TRUSTED_PEERS') && l.includes(otherClient.fingerprint))).toBe(true);
  });

  it('(c) no client certificate from an unlisted address is refused the same way (certificates are asked for, not required: the handshake succeeds)', async () => {
    const before = await refusals();
    const client = connect('127.0.0.5');
    const { final } = await invite(client, '127.0.0.5');
    expect(final.status, final.raw).toBe(403);
    expect(final.raw).toContain(`\r\n${WARNING}\r\n`);
    expect(await refusals()).toBe(before + 1);
  });

  it('the listed CIDR still admits a TLS peer without a certificate (127.0.0.2)', async () => {
    const client = connect('127.0.0.2');
    const call = await invite(client, '127.0.0.2');
    expect(call.final.status, call.final.raw).toBe(200);
    const d = dialog(client, call);
    d.ack();
    expect((await d.bye()).status).toBe(200);
  });

  it('the gateway logged no errors', () => {
    expect(gw.lines.filter((l) => /"level":(50|60)/.test(l))).toEqual([]);
  });
});

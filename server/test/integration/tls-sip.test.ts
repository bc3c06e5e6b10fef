import { randomBytes } from 'node:crypto';
import tls from 'node:tls';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Call } from '../../src/calls/b2bua/call.js';
import type { DigitEvent } from '../../src/media/plane.js';
import type { Gateway } from '../../src/gateway.js';
import { Baresip } from '../support/baresip.js';
import { startTestGateway, type LogSink } from '../support/gateway.js';
import { freeMediaPort, freePort } from '../../devtools/ports.js';
import { TcpPeer, UdpPeer, parseResponse, waitUntil } from '../support/sip-client.js';
import { runSipp, type SippResult } from '../../devtools/sipp/run.js';
import { sClient, TestCa, type CertFiles } from '../support/tls-certs.js';
import { RtpSink, WsSipAgent, type AgentDialog } from '../support/ws-sip-agent.js';

/**
 * SIP over TLS (RFC 3261 26.2, RFC 5630) on a real gateway with a certificate from a test CA made by
 * openssl: protocol versions checked with the real `openssl s_client`, an agent registering and
 * taking a call over TLS (a small Node `tls` SIP client), client certificates against TRUSTED_PEERS,
 * and in-dialog requests from a foreign source refused (sip/dialog/source.ts).
 */
let gw: Gateway;
let logs: LogSink;
let target: string;
let ca: TestCa;
let server: CertFiles;
let trustedClient: CertFiles;
let otherClient: CertFiles;
let rtp: RtpSink;
const agents: WsSipAgent[] = [];

beforeAll(async () => {
  ca = TestCa.create();
  server = ca.issue('127.0.0.1');
  trustedClient = ca.issue('peer.example');
  otherClient = ca.issue('stranger.example');
  ({ gw, logs, target } = await startTestGateway(
    { TLS_CERT_FILE: server.certFile, TLS_KEY_FILE: server.keyFile, TRUSTED_PEERS: `10.0.0.0/8,${trustedClient.fingerprint}`,
      // MD5 only: baresip 1.0 answers the first challenge (SHA-256 would be first) and knows MD5 only.
      SIP_DIGEST_ALGORITHMS: 'MD5' },
    // These tests drive the REFER machinery with their own listener: no inline payments here.
    { config: { SIP_TLS_PORT: 0 }, gateway: { inlinePayments: false } },
  ));
  rtp = await RtpSink.open();
});
afterAll(async () => {
  await Promise.all(agents.map((a) => a.close().catch(() => undefined)));
  await rtp?.close();
  await gw?.close();
});

async function tlsAgent(user: string, client?: CertFiles): Promise<WsSipAgent> {
  const a = await WsSipAgent.connectTls(gw.sipTlsPort!, { user, password: 'demo', ca: ca.cert, ...(client ? { cert: client.cert, key: client.key } : {}) });
  agents.push(a);
  return a;
}

/** The flow the gateway holds for an agent's latest registration. */
function registeredFlow(user: string) {
  const b = gw.registrar.bindings(user);
  const latest = b[b.length - 1];
  return latest ? gw.sip.transport.getFlow(latest.flowId) : undefined;
}

describe('TLS versions (RFC 8996: TLS 1.2 minimum)', () => {
  for (const which of ['SIP over TLS', 'HTTPS'] as const) {
    it(`${which} refuses TLS 1.0 and 1.1 with a server-side protocol-version failure and serves TLS 1.2 with its certificate`, async () => {
      const port = which === 'SIP over TLS' ? gw.sipTlsPort! : gw.httpPort;
      const serverErrors: string[] = [];
      // Both servers are tls.Server instances: their own handshake errors say why they refused.
      const tlsServer = which === 'HTTPS' ? gw.http : undefined;
      const onErr = (err: NodeJS.ErrnoException): void => void serverErrors.push(err.code ?? err.message);
      tlsServer?.on('tlsClientError', onErr);
      const failuresBefore = gw.sip.transport.stats().tlsHandshakeFailures;
      try {
        for (const old of ['-tls1', '-tls1_1']) {
          // SECLEVEL=0: Debian's OpenSSL would not offer TLS 1.0/1.1 otherwise; now only the server can refuse.
          const r = await sClient(port, [old, '-cipher', 'DEFAULT@SECLEVEL=0']);
          expect(r.connected, r.output).toBe(false);
          expect(r.output).toMatch(/alert protocol version/i);
        }
        if (which === 'SIP over TLS') {
          expect(gw.sip.transport.stats().tlsHandshakeFailures - failuresBefore).toBe(2);
          const lines = logs.lines.filter((l) => l.includes('sip tls handshake failed'));
          expect(lines.slice(-2).every((l) => /UNSUPPORTED_PROTOCOL/.test(l))).toBe(true);
        } else {
          expect(serverErrors).toEqual(['ERR_SSL_UNSUPPORTED_PROTOCOL', 'ERR_SSL_UNSUPPORTED_PROTOCOL']);
        }
        const ok = await sClient(port, ['-tls1_2', '-CAfile', ca.certFile]);
        expect(ok.connected, ok.output).toBe(true);
        expect(ok.protocol).toBe('TLSv1.2');
        expect(ok.fingerprint).toBe(server.fingerprint);
        expect(ok.output).toMatch(/Verify return code: 0 \(ok\)/);
      } finally {
        tlsServer?.off('tlsClientError', onErr);
      }
    });
  }
});

describe('bad input on the TLS port', () => {
  it('plain SIP over TCP sent to the TLS port is a failed handshake: the connection is closed, nothing is answered in clear, the gateway goes on', async () => {
    const failures = gw.sip.transport.stats().tlsHandshakeFailures;
    const peer = await TcpPeer.connect(gw.sipTlsPort!);
    await peer.write(`OPTIONS sip:127.0.0.1 SIP/2.0\r\nVia: SIP/2.0/TCP 127.0.0.1:1;branch=z9hG4bKplain\r\nMax-Forwards: 70\r\nFrom: <sip:a@b>;tag=1\r\nTo: <sip:b@c>\r\nCall-ID: plain\r\nCSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n`);
    expect(await waitUntil(() => peer.closedByRemote, 5_000)).toBe(true);
    expect(peer.data().toString('latin1')).not.toContain('SIP/2.0');
    expect(gw.sip.transport.stats().tlsHandshakeFailures).toBe(failures + 1);
    const ok = await sClient(gw.sipTlsPort!, ['-CAfile', ca.certFile]);
    expect(ok.connected).toBe(true);
  });
});

describe('client certificates (RFC 3261 26.3.2.2) and TRUSTED_PEERS fingerprints', () => {
  it('a certificate named in TRUSTED_PEERS is bound to the flow as trusted, another is not, no certificate gives no fingerprint', async () => {
    const trusted = await tlsAgent('agent-2', trustedClient);
    const stranger = await tlsAgent('agent-3', otherClient);
    expect((await trusted.register({ algorithm: 'MD5', expires: 60 })).final.status).toBe(200);
    expect(registeredFlow('agent-2')?.tlsPeer).toEqual({ fingerprint: trustedClient.fingerprint, trusted: true });
    expect((await stranger.register({ algorithm: 'MD5', expires: 60 })).final.status).toBe(200);
    expect(registeredFlow('agent-3')?.tlsPeer).toEqual({ fingerprint: otherClient.fingerprint, trusted: false });
    expect(logs.lines.some((l) => l.includes('not in TRUSTED_PEERS') && l.includes(otherClient.fingerprint))).toBe(true);
    await trusted.register({ algorithm: 'MD5', expires: 0 });
    await stranger.register({ algorithm: 'MD5', expires: 0 });
    await trusted.close();
    await stranger.close();
    const anonymous = await tlsAgent('agent-2');
    expect((await anonymous.register({ algorithm: 'MD5', expires: 60 })).final.status).toBe(200);
    expect(registeredFlow('agent-2')?.tlsPeer).toEqual({ fingerprint: undefined, trusted: false });
    await anonymous.register({ algorithm: 'MD5', expires: 0 });
    await anonymous.close();
  });
});

interface Live {
  call: Call;
  d: AgentDialog;
  caller: Promise<SippResult>;
  agent: WsSipAgent;
}

/** agent-1 registered over TLS; a SIPp caller over UDP rings it through the gateway; answered and confirmed. */
async function callOverTls(): Promise<Live> {
  const agent = await tlsAgent('agent-1');
  const reg = await agent.register({ algorithm: 'MD5', expires: 300 });
  expect(reg.challenge?.status).toBe(401);
  expect(reg.final.status).toBe(200);
  // RFC 3261 18.2.2: the response came back on the same TLS connection, Via as we sent it.
  expect(reg.final.header('via')).toMatch(/^SIP\/2\.0\/TLS 127\.0\.0\.1:\d+;branch=/);
  expect(registeredFlow('agent-1')?.protocol).toBe('TLS');
  const seen = new Promise<Call>((resolve) => {
    const off = gw.calls.events.on('call', (c) => {
      off();
      resolve(c);
    });
  });
  const caller = (async () =>
    runSipp({ scenario: 'caller-wait-bye.xml', target, service: 'agent-1', localPort: await freePort(), mediaPort: await freeMediaPort(), timeoutS: 30 }).done)();
  const invite = await agent.nextRequest('INVITE');
  // The gateway reached the agent back over its TLS connection (RFC 5923 / 5626 style), as a SIPS UA.
  expect(invite.header('via')).toMatch(/^SIP\/2\.0\/TLS 127\.0\.0\.1:(\d+);branch=z9hG4bK/);
  expect(invite.header('via')).toContain(`:${gw.sipTlsPort};`);
  expect(invite.header('contact')).toBe(`<sips:tonegate@127.0.0.1:${gw.sipTlsPort}>`);
  const d = agent.answer(invite, rtp.port);
  await agent.nextRequest('ACK');
  const call = await seen;
  expect(await waitUntil(() => call.state === 'confirmed', 5_000)).toBe(true);
  return { call, d, caller, agent };
}

async function hangUp(live: Live): Promise<void> {
  const res = await live.agent.inDialog(live.d, 'BYE');
  expect(res.status).toBe(200);
  const r = await live.caller;
  expect(r.code, `caller failed:\n${r.errors}\n${r.stderr}`).toBe(0);
  expect(await waitUntil(() => gw.calls.calls.size === 0, 5_000)).toBe(true);
  await live.agent.register({ algorithm: 'MD5', expires: 0 });
  await live.agent.close();
}

const DTMF = { type: 'application/dtmf-relay', content: 'Signal=5\r\nDuration=160\r\n' };

describe('a call over SIP TLS', () => {
  it('an agent registers over TLS (digest), takes a call on its TLS connection and hangs up', async () => {
    const live = await callOverTls();
    const info = await live.agent.inDialog(live.d, 'INFO', [], DTMF);
    expect(info.status).toBe(200);
    await hangUp(live);
  });
});

describe('baresip (Debian) as an agent over SIP TLS', () => {
  it('registers over TLS with its client certificate, is rung over its own TLS connection for a support call, answers and gets the BYE', async () => {
    // It registers sip:agent-1@127.0.0.1;transport=tls through an RFC 5626 outbound flow to the TLS
    // port, presents its client certificate, checks the gateway's against the CA, answers every call.
    const bs = await Baresip.start({
      accounts: [`<sip:agent-1@127.0.0.1;transport=tls>;auth_pass=demo;answermode=auto;outbound="sip:127.0.0.1:${gw.sipTlsPort};transport=tls";regint=300`],
      tls: { caFile: ca.certFile, cert: otherClient.cert, key: otherClient.key },
      sipTrace: true,
      lifetimeS: 60,
    });
    try {
      // RFC 5626 outbound flow over TLS: the registration lives on that connection.
      expect(await waitUntil(() => registeredFlow('agent-1')?.protocol === 'TLS', 10_000, 50), bs.output).toBe(true);
      expect(registeredFlow('agent-1')?.tlsPeer).toEqual({ fingerprint: otherClient.fingerprint, trusted: false });
      let bFlow: string | undefined;
      const off = gw.calls.events.on('call', (c) => {
        off();
        c.events.on('state', () => (bFlow ??= c.bFlow?.id));
      });
      // SIPp's caller plays its PCMA recording through the gateway and hangs up.
      const r = await runSipp({ scenario: 'caller.xml', target, service: 'support', localPort: await freePort(), mediaPort: await freeMediaPort(), timeoutS: 40 }).done;
      expect(r.code, `caller failed:\n${r.errors}\n${bs.output.slice(-3000)}`).toBe(0);
      expect(bFlow).toMatch(/^tls:/);
      // baresip prints the end of the call a moment after SIPp is done.
      expect(await waitUntil(() => /Call with .* terminated/.test(bs.output), 5_000, 50), bs.output.slice(-3000)).toBe(true);
      const out = bs.output;
      expect(out).toMatch(/INVITE sip:agent-1[^ ]*;transport=tls SIP\/2\.0/);
      expect(out).toMatch(/Call established/);
      expect(out).toMatch(/incoming rtp for 'audio' established/);
      expect(out).toMatch(/BYE sip:agent-1[^ ]* SIP\/2\.0/);
      expect(await waitUntil(() => gw.calls.calls.size === 0, 5_000)).toBe(true);
    } finally {
      await bs.stop();
    }
    // Its TLS connection closed with it, and so did its registration.
    expect(await waitUntil(() => gw.registrar.bindings('agent-1').length === 0, 5_000)).toBe(true);
  });
});

describe('in-dialog requests only from the leg itself (RFC 3261 21.4.4: 403, nothing changes)', () => {
  it('a BYE and an INFO for the TLS agent leg on another TLS connection are refused 403; the call goes on and the agent ends it', async () => {
    const live = await callOverTls();
    const digits: DigitEvent[] = [];
    live.call.media!.bridge.events.on('digit', (x) => digits.push(x));
    const spoofer = await tlsAgent('agent-3');
    // Same dialog identifiers (Call-ID, tags), a higher CSeq: only the connection differs.
    const forged = { ...live.d, localSeq: live.d.localSeq + 100 };
    expect((await spoofer.inDialog(forged, 'INFO', [], DTMF)).status).toBe(403);
    expect((await spoofer.inDialog(forged, 'BYE')).status).toBe(403);
    await new Promise((r) => setTimeout(r, 200));
    expect(live.call.state).toBe('confirmed');
    expect(gw.calls.calls.size).toBe(1);
    expect(digits).toEqual([]);
    expect(logs.lines.filter((l) => l.includes('in-dialog request from a foreign source refused')).length).toBeGreaterThanOrEqual(2);
    // The real agent's requests still work, with a CSeq below the forged ones (the dialog's CSeq was not moved).
    expect((await live.agent.inDialog(live.d, 'INFO', [], DTMF)).status).toBe(200);
    expect(digits.map((x) => x.digit)).toEqual(['5']);
    await spoofer.close();
    await hangUp(live);
  });

  it("a BYE and an INFO for the UDP caller's leg from another address are refused 403; the call goes on", async () => {
    const live = await callOverTls();
    const digits: DigitEvent[] = [];
    live.call.media!.bridge.events.on('digit', (x) => digits.push(x));
    const aReq = live.call.aReq;
    const peer = await UdpPeer.open([await freePort()]);
    try {
      const forge = (method: string, cseq: number, body?: { type: string; content: string }): string =>
        [
          `${method} sip:tonegate@${target} SIP/2.0`,
          `Via: SIP/2.0/UDP ${peer.address}:${peer.port};branch=z9hG4bK${randomBytes(6).toString('hex')};rport`,
          'Max-Forwards: 70',
          `From: ${aReq.getHeader('from')}`,
          `To: ${aReq.getHeader('to')};tag=${live.call.aTag}`,
          `Call-ID: ${aReq.callId}`,
          `CSeq: ${cseq} ${method}`,
          ...(body ? [`Content-Type: ${body.type}`] : []),
          `Content-Length: ${Buffer.byteLength(body?.content ?? '')}`,
          '',
          body?.content ?? '',
        ].join('\r\n');
      const [host, port] = target.split(':');
      await peer.send(forge('INFO', 9000, DTMF), Number(port), host);
      await peer.send(forge('BYE', 9001), Number(port), host);
      expect(await waitUntil(() => peer.responses().length >= 2, 5_000)).toBe(true);
      expect(peer.responses().map((r) => `${r.status} ${r.headers['cseq']?.[0]}`)).toEqual(['403 9000 INFO', '403 9001 BYE']);
      await new Promise((r) => setTimeout(r, 200));
      expect(live.call.state).toBe('confirmed');
      expect(digits).toEqual([]);
      expect(parseResponse(peer.received[1]!.toString())?.reason).toBe('Not From Dialog Peer');
    } finally {
      await peer.close();
    }
    await hangUp(live);
  });
});

describe('outbound SIP over TLS (RFC 3261 26.3.1, RFC 5922)', () => {
  /** A TLS server on 127.0.0.1 with `cert`, recording the client certificate each connection presents. */
  async function peerServer(cert: CertFiles): Promise<{ port: number; clientFingerprints: (string | undefined)[]; close(): Promise<void> }> {
    const clientFingerprints: (string | undefined)[] = [];
    const srv = tls.createServer({ cert: cert.cert, key: cert.key, requestCert: true, rejectUnauthorized: false }, (s) => {
      const c = s.getPeerCertificate();
      clientFingerprints.push(c?.fingerprint256 ? `sha256:${c.fingerprint256}` : undefined);
      s.on('error', () => {});
    });
    await new Promise<void>((r) => srv.listen(0, '127.0.0.1', () => r()));
    return { port: (srv.address() as { port: number }).port, clientFingerprints, close: () => new Promise<void>((r) => srv.close(() => r())) };
  }

  it('a server whose certificate is pinned in TRUSTED_PEERS is dialled (our certificate as client certificate) and the connection reused; an unknown one is refused', async () => {
    const pinned = await peerServer(trustedClient);
    const unknown = await peerServer(otherClient);
    try {
      const flow = await gw.sip.transport.flowTo('TLS', { address: '127.0.0.1', port: pinned.port });
      expect(flow.protocol).toBe('TLS');
      expect(flow.tlsPeer).toEqual({ fingerprint: trustedClient.fingerprint, trusted: true });
      expect(await gw.sip.transport.flowTo('TLS', { address: '127.0.0.1', port: pinned.port })).toBe(flow);
      expect(await waitUntil(() => pinned.clientFingerprints.length === 1, 2_000)).toBe(true);
      expect(pinned.clientFingerprints).toEqual([server.fingerprint]);
      await expect(gw.sip.transport.flowTo('TLS', { address: '127.0.0.1', port: unknown.port })).rejects.toThrow(/server certificate not trusted/);
      (flow as unknown as { close(r: string): void }).close('test done');
    } finally {
      await pinned.close();
      await unknown.close();
    }
  });
});

describe('RFC 5923 connection reuse (Via alias)', () => {
  /** OPTIONS on `agent`'s TLS connection with `;alias` and sent-by 127.0.0.1:`port`; resolves when answered. */
  async function offerAlias(agent: WsSipAgent, port: number): Promise<number> {
    const branch = `z9hG4bK${randomBytes(6).toString('hex')}`;
    agent.send(
      [`OPTIONS sip:127.0.0.1:${gw.sipTlsPort} SIP/2.0`, `Via: SIP/2.0/TLS 127.0.0.1:${port};branch=${branch};alias`, 'Max-Forwards: 70',
        `From: <sip:peer@127.0.0.1>;tag=${randomBytes(4).toString('hex')}`, 'To: <sip:127.0.0.1>', `Call-ID: ${randomBytes(8).toString('hex')}`,
        'CSeq: 1 OPTIONS', 'Content-Length: 0', '', ''].join('\r\n'),
    );
    expect(await waitUntil(() => agent.received.some((m) => !m.isRequest && (m.header('via') ?? '').includes(branch)), 5_000)).toBe(true);
    return agent.received.find((m) => (m.header('via') ?? '').includes(branch))!.status;
  }

  it('a peer with a trusted certificate naming its sent-by is reached back over the connection it offered; an untrusted one is not', async () => {
    const [aliasPort, strangerPort] = [await freePort(), await freePort()];
    const trusted = await tlsAgent('agent-2', trustedClient);
    expect(await offerAlias(trusted, aliasPort)).toBe(200);
    const flow = await gw.sip.transport.flowTo('TLS', { address: '127.0.0.1', port: aliasPort });
    expect(flow.tlsPeer).toEqual({ fingerprint: trustedClient.fingerprint, trusted: true });
    // A request to the alias goes out on the peer's own connection (nothing listens on aliasPort).
    const seen = trusted.nextRequest('OPTIONS', 5_000);
    flow.send([`OPTIONS sips:peer@127.0.0.1:${aliasPort} SIP/2.0`, `Via: SIP/2.0/TLS 127.0.0.1:${gw.sipTlsPort};branch=z9hG4bKalias1`, 'Max-Forwards: 70',
      'From: <sips:tonegate@127.0.0.1>;tag=a1', `To: <sips:peer@127.0.0.1:${aliasPort}>`, 'Call-ID: alias-test-1', 'CSeq: 1 OPTIONS', 'Content-Length: 0', '', ''].join('\r\n'));
    expect((await seen).callId).toBe('alias-test-1');
    const stranger = await tlsAgent('agent-3', otherClient);
    expect(await offerAlias(stranger, strangerPort)).toBe(200);
    await expect(gw.sip.transport.flowTo('TLS', { address: '127.0.0.1', port: strangerPort })).rejects.toThrow(/TLS connect to 127\.0\.0\.1:\d+ failed/);
    await trusted.close();
    expect(await waitUntil(() => gw.sip.transport.stats().connections === 0 || !flow.open, 2_000)).toBe(true);
    await stranger.close();
  });
});

describe('hygiene', () => {
  it('the gateway logged no errors in this suite', () => {
    expect(logs.lines.filter((l) => /"level":(50|60)/.test(l))).toEqual([]);
  });
});

import { rmSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import type { Gateway } from '../../src/gateway.js';
import { Kamailio } from '../../devtools/kamailio.js';
import { freeMediaPort, freePort } from '../../devtools/ports.js';
import { payHangupScenario, payScenario } from '../../devtools/sipp/pay-scenario.js';
import { runSipp, type SippResult } from '../../devtools/sipp/run.js';
import { startTestGateway, type LogSink } from '../support/gateway.js';
import { sClient, TestCa, type CertFiles } from '../support/tls-certs.js';
import { WsSipAgent, uriIn, type AgentDialog, type SipMessage } from '../support/ws-sip-agent.js';

/**
 * Kamailio's wss: front for the agents (sip-profiles/kamailio/kamailio.cfg, `-A WITH_TLS`;
 * production requires SIP_WS_URL to be wss:), with real parts: a real Kamailio 5.6 with the tls
 * module and a tls.cfg taking TLS 1.2 or newer with a certificate from a test CA, an in-process
 * gateway behind it (dispatcher set 1), a WebSocket agent that trusts that CA, SIPp as the caller
 * and the real `openssl s_client`. The agent registers over wss through Kamailio (the gateway keeps
 * the binding with Kamailio's Path); calls to the agent come back over that TLS connection, and
 * in-dialog requests too. TLS 1.1 and a plain ws: connection on the TLS port are refused.
 */
let ca: TestCa;
let leaf: CertFiles;
let gw: Gateway;
let logs: LogSink;
let kamailio: Kamailio;
let agent: WsSipAgent | undefined;

beforeAll(async () => {
  ca = TestCa.create();
  leaf = ca.issue('127.0.0.1');
  ({ gw, logs } = await startTestGateway({ RING_TIMEOUT_S: '15', SIP_DIGEST_ALGORITHMS: 'SHA-256,MD5' }));
  kamailio = await Kamailio.start({
    gateways: [{ host: '127.0.0.1', port: gw.sipPort }],
    wss: { certFile: leaf.certFile, keyFile: leaf.keyFile },
  });
}, 60_000);

afterAll(async () => {
  if (process.env['KAMAILIO_WSS_DEBUG']) {
    const { writeFileSync } = await import('node:fs');
    writeFileSync('/tmp/kamailio-wss-kamailio.log', kamailio.lines.join('\n'));
    writeFileSync('/tmp/kamailio-wss-gateway.log', logs.lines.join('\n'));
  }
  await agent?.close().catch(() => undefined);
  await kamailio?.stop();
  await gw?.close();
  if (ca) rmSync(ca.dir, { recursive: true, force: true });
});

const wssUrl = (): string => `wss://127.0.0.1:${kamailio.wssPort}/`;

/** SIPp calls sip:agent-1@ at the gateway (UDP); `scenario` says who hangs up. */
function callAgent(scenario: string): Promise<SippResult> {
  return (async () => runSipp({ scenario, target: `127.0.0.1:${gw.sipPort}`, localPort: await freePort(), mediaPort: await freeMediaPort(), timeoutS: 60 }).done)();
}

/** The INVITE reached the agent over its wss connection through Kamailio: Kamailio's WSS Via on top, the gateway's UDP Via below. */
function expectThroughKamailioOverWss(invite: SipMessage): void {
  expect(invite.raw).toMatch(new RegExp(`^Via: SIP/2\\.0/WSS [^\\r]*\\r\\nVia: SIP/2\\.0/UDP 127\\.0\\.0\\.1:${gw.sipPort};`, 'm'));
  // Kamailio stays in the dialog: two Record-Route entries (UDP towards the gateway, WSS towards the agent).
  expect(invite.all('record-route').join(',')).toMatch(/transport=ws/);
  expect(kamailio.lines.some((l) => /INVITE sip:agent-1@[^ ]+ -> agent /.test(l))).toBe(true);
}

describe('Kamailio as the agents\' wss: front (-A WITH_TLS)', () => {
  it('an agent trusting the test CA registers over wss through Kamailio: 200, and the gateway holds agent-1 with Kamailio\'s Path', async () => {
    agent = await WsSipAgent.connect(wssUrl(), { user: 'agent-1', password: 'demo', ca: ca.cert });
    expect(agent.transport).toBe('WSS');
    const r = await agent.register({ expires: 300 });
    expect(r.challenge?.status).toBe(401);
    expect(r.final.status, r.final.raw).toBe(200);
    // RFC 3327 5.3: the registrar returns the Path it stored; it names Kamailio (its UDP side) and the agent's connection.
    const path = r.final.header('path');
    expect(path).toMatch(new RegExp(`^<sip:127\\.0\\.0\\.1:${kamailio.port};lr;received=`));
    const [binding] = gw.registrar.bindings('agent-1');
    expect(binding, 'no binding for agent-1').toBeDefined();
    expect(binding!.uri).toBe(uriIn(agent.contact));
    expect(binding!.path).toEqual([path]);
    // Kamailio dispatched it (the agent's only connection is the TLS one) and took the `proto == WSS`
    // path: force_rport() put the connection's port into the agent's Via (RFC 7118 5, RFC 3581).
    expect(kamailio.dispatched().some((l) => new RegExp(`REGISTER sip:127\\.0\\.0\\.1 -> sip:127\\.0\\.0\\.1:${gw.sipPort}$`).test(l))).toBe(true);
    expect(r.final.header('via')).toMatch(/^SIP\/2\.0\/WSS [0-9a-f]+\.invalid;.*\brport=\d+/);
    expect(logs.messages()).toContain('REGISTER accepted');
  }, 30_000);

  it('a call to agent-1 at the gateway reaches the agent over the wss connection; the agent answers and hangs up, and the caller gets the gateway\'s BYE', async () => {
    expect(agent, 'the agent did not register').toBeDefined();
    const a = agent!;
    a.clearInbox();
    const caller = callAgent(payScenario({ user: 'agent-1', headers: {}, steps: [], byeTimeoutMs: 20_000 }));
    const invite = await a.nextRequest('INVITE', 15_000);
    expectThroughKamailioOverWss(invite);
    const d: AgentDialog = a.answer(invite, await freeMediaPort(), 'pcmu');
    await a.nextRequest('ACK', 10_000);
    await new Promise((r) => setTimeout(r, 1000));
    // The agent's BYE goes over wss to Kamailio, which relays it along the Record-Route to the gateway.
    const bye = await a.inDialog(d, 'BYE', []);
    expect(bye.status, bye.raw).toBe(200);
    const res = await caller;
    expect(res.code, res.errors + res.stderr).toBe(0);
    expect(res.successful).toBe(1);
  }, 60_000);

  it('in-dialog requests come back over wss too: the caller hangs up and the gateway\'s BYE reaches the agent through Kamailio', async () => {
    expect(agent, 'the agent did not register').toBeDefined();
    const a = agent!;
    a.clearInbox();
    const caller = callAgent(payHangupScenario({ user: 'agent-1', headers: {}, steps: [{ pauseMs: 2000 }] }));
    const invite = await a.nextRequest('INVITE', 15_000);
    expectThroughKamailioOverWss(invite);
    a.answer(invite, await freeMediaPort(), 'pcmu');
    await a.nextRequest('ACK', 10_000);
    // Kamailio routes the BYE by the agent's Contact `alias` (handle_ruri_alias) to the TLS connection.
    const bye = await a.nextRequest((m) => m.method === 'BYE' && m.callId === invite.callId, 20_000);
    expect(bye.raw).toMatch(/^Via: SIP\/2\.0\/WSS /m);
    a.respond(bye, 200);
    const res = await caller;
    expect(res.code, res.errors + res.stderr).toBe(0);
    expect(res.successful).toBe(1);
    expect(a.open).toBe(true);
  }, 60_000);

  it('TLS 1.1 is refused by openssl s_client\'s handshake (method = TLSv1.2+); TLS 1.2 is served with the test certificate', async () => {
    const old = await sClient(kamailio.wssPort!, ['-tls1_1', '-cipher', 'DEFAULT@SECLEVEL=0']);
    expect(old.connected, old.output).toBe(false);
    expect(old.output).toMatch(/alert protocol version|unsupported protocol|no protocols available|wrong version number/i);
    expect(old.fingerprint).toBeUndefined();
    // Kamailio's side: refused for the protocol version, i.e. by `method = TLSv1.2+`. (With
    // `TLSv1+`, OpenSSL 3's default security level refuses 1.1 too, but as "no suitable signature
    // algorithm"; with `TLSv1+` and SECLEVEL=0 the handshake completes: tried by hand on 5.6.3.)
    expect(kamailio.lines.some((l) => /TLS accept:.*unsupported protocol/.test(l))).toBe(true);
    const ok = await sClient(kamailio.wssPort!, ['-tls1_2', '-CAfile', ca.certFile]);
    expect(ok.connected, ok.output).toBe(true);
    expect(ok.protocol).toBe('TLSv1.2');
    expect(ok.fingerprint).toBe(leaf.fingerprint);
    expect(ok.output).toMatch(/Verify return code: 0 \(ok\)/);
    // No client certificate is asked for (browsers present none).
    expect(ok.output).toMatch(/No client certificate CA names sent/);
  }, 30_000);

  it('a plain ws: connection to the TLS port gets no WebSocket', async () => {
    const outcome = await new Promise<string>((resolve) => {
      const ws = new WebSocket(`ws://127.0.0.1:${kamailio.wssPort}/`, 'sip', { handshakeTimeout: 5000 });
      ws.once('open', () => {
        resolve('open');
        ws.terminate();
      });
      ws.once('unexpected-response', (_req, res) => {
        resolve(`http ${res.statusCode}`);
        ws.terminate();
      });
      ws.once('error', (e) => resolve(`error: ${e.message}`));
    });
    expect(outcome).toMatch(/^error: /);
    // Kamailio's side: a plain HTTP request where a TLS ClientHello was due.
    await new Promise((r) => setTimeout(r, 200));
    expect(kamailio.lines.some((l) => /TLS accept:.*http request/.test(l))).toBe(true);
    // The wss: front still works after the refusal.
    const again = await WsSipAgent.connect(wssUrl(), { user: 'agent-2', password: 'demo', ca: ca.cert });
    await again.close();
  }, 30_000);
});

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Gateway } from '../../src/gateway.js';
import { parseSessionEvent } from '../../src/capture/event-schema.js';
import { startTestGateway } from '../support/gateway.js';
import { payHangupScenario, payHeaders, payScenario } from '../../devtools/sipp/pay-scenario.js';
import { freeMediaPort, freePort } from '../../devtools/ports.js';
import { runSipp, type SippOptions } from '../../devtools/sipp/run.js';
import { refusedScenario, signedHeaders, unackedFloodScenario } from '../support/trust-scenarios.js';

/**
 * Who may start a payment (docs/security.md, "Trust boundary"), with SIPp from two loopback
 * source addresses: 127.0.0.2 is the trusted PBX, 127.0.0.1 anyone else on the network.
 */
const KEY = 'trust-boundary-test-signing-key';
process.env['HANDOFF_HMAC_KEY'] = KEY; // the generic profile's signature.keyEnv (read when the gateway starts)
const OTP = '246810';
const TRUSTED = '127.0.0.2';

let gw: Gateway;
let target: string;

beforeAll(async () => {
  // Production's signature rule (v2 required, REQUIRE_SIGNATURE_V2) on a demo gateway: the rest of
  // production mode (TLS, secrets) is not what these tests are about.
  ({ gw, target } = await startTestGateway({ TRUSTED_PEERS: `${TRUSTED}/32`, DEMO_OTP: OTP, REQUIRE_SIGNATURE_V2: 'true' }));
});
afterAll(async () => {
  await gw?.close();
});

const api = () => `http://127.0.0.1:${gw.httpPort}`;
const ruri = () => `sip:pay@${target}`;
const sipp = async (o: SippOptions) => runSipp({ target, localPort: await freePort(), mediaPort: await freeMediaPort(), timeoutS: 20, ...o }).done;
const health = async (g = gw) => (await (await fetch(`http://127.0.0.1:${g.httpPort}/healthz`)).json()) as { status: string; details: { rtpPorts: { allocated: number }; reasons?: string[] } };
const metric = async (g: Gateway, reason: string) => Number(new RegExp(`tonegate_refusals_total\\{reason="${reason}"\\} (\\d+)`).exec(await (await fetch(`http://127.0.0.1:${g.httpPort}/metrics`)).text())?.[1] ?? 0);
const sms = async () => ((await (await fetch(`${api()}/demo/sms`)).json()) as { messages: unknown[] }).messages;

describe('TRUSTED_PEERS: only listed sources may start a payment', () => {
  it('a signed INVITE sip:pay from outside TRUSTED_PEERS gets 403 and holds no RTP port, no session, no SMS', async () => {
    const callId = `untrusted-${Date.now()}@pbx`;
    const headers = signedHeaders(payHeaders(), { key: KEY, requestUri: ruri(), callId });
    const before = await metric(gw, 'untrusted-peer');
    const r = await sipp({ scenario: refusedScenario({ headers, status: 403, warning: 'TRUSTED_PEERS' }), localIp: '127.0.0.1', extra: ['-cid_str', callId] });
    expect(r.code, r.errors + r.stderr + r.stdout.slice(-1500)).toBe(0);
    expect((await health()).details.rtpPorts.allocated).toBe(0);
    expect(gw.paymentCalls.live.size).toBe(0);
    expect(await gw.store.list()).toEqual([]);
    expect(await sms()).toEqual([]);
    expect(await metric(gw, 'untrusted-peer')).toBe(before + 1);
  });

  it('an unsigned INVITE from the trusted PBX is 403 when signatures are required (production)', async () => {
    const r = await sipp({ scenario: refusedScenario({ headers: payHeaders(), status: 403, warning: 'X-Pay-Signature' }), localIp: TRUSTED });
    expect(r.code, r.errors + r.stderr + r.stdout.slice(-1500)).toBe(0);
    expect(await gw.store.list()).toEqual([]);
  });

  it('a signed INVITE from the trusted PBX is answered; the same signed INVITE replayed is 403', async () => {
    const callId = `replay-${Date.now()}@pbx`;
    const headers = signedHeaders(payHeaders(), { key: KEY, requestUri: ruri(), callId });
    const first = await sipp({ scenario: payHangupScenario({ headers, steps: [{ pauseMs: 800 }] }), localIp: TRUSTED, extra: ['-cid_str', callId] });
    expect(first.code, first.errors + first.stderr).toBe(0);
    expect(await gw.store.list()).toHaveLength(1);
    // The audit trail names the SIP source and transport of the admitted handoff.
    const audit = (await import('node:fs')).readFileSync(gw.config.AUDIT_LOG, 'utf8');
    expect(audit).toContain(`"action":"payment.admitted","target":{"type":"order","id":"${headers['X-Pay-Order-Ref']}"},"outcome":"success","source":"${TRUSTED}","details":{"merchantId":"M-DEMO-01","transport":"UDP"}`);
    const replay = await sipp({ scenario: refusedScenario({ headers, status: 403, warning: 'already used' }), localIp: TRUSTED, extra: ['-cid_str', callId] });
    expect(replay.code, replay.errors + replay.stderr).toBe(0);
    expect(await gw.store.list()).toHaveLength(1);
    // Signed for another Call-ID: a mismatch, also 403.
    const moved = await sipp({ scenario: refusedScenario({ headers: signedHeaders(payHeaders(), { key: KEY, requestUri: ruri(), callId: 'other@pbx' }), status: 403, warning: 'does not match' }), localIp: TRUSTED });
    expect(moved.code, moved.errors + moved.stderr).toBe(0);
  });

  it('a customer mobile outside ALLOWED_MOBILE_PREFIXES (+91 by default) is refused 403 before any SMS', async () => {
    const callId = `mobile-${Date.now()}@pbx`;
    const headers = signedHeaders(payHeaders({ 'X-Pay-Customer-Mobile': '+14155550123' }), { key: KEY, requestUri: ruri(), callId });
    const sessions = (await gw.store.list()).length;
    const r = await sipp({ scenario: refusedScenario({ headers, status: 403, warning: 'country code not allowed' }), localIp: TRUSTED, extra: ['-cid_str', callId] });
    expect(r.code, r.errors + r.stderr + r.stdout.slice(-1500)).toBe(0);
    expect(await sms()).toEqual([]);
    expect(await gw.store.list()).toHaveLength(sessions);
    expect(await metric(gw, 'mobile-country')).toBe(1);
  });
});

describe('per-source INVITE limit: a flood of unacknowledged INVITEs is cut off while another source still pays', () => {
  let flood: Gateway;
  afterAll(async () => {
    await flood?.close();
  });

  it('127.0.0.1 floods 60 payment INVITEs at 30/s and never ACKs; 127.0.0.2 pays meanwhile', async () => {
    let floodTarget: string;
    ({ gw: flood, target: floodTarget } = await startTestGateway({ EDGE_LIMITS: 'invite:5/1s', DEMO_OTP: OTP }));
    const events: unknown[] = [];
    await flood.bus.subscribe((e) => void events.push(e));
    const headers = payHeaders();
    const payer = runSipp({
      target: floodTarget, localIp: TRUSTED, localPort: await freePort(), mediaPort: await freeMediaPort(), timeoutS: 90,
      scenario: payScenario({ headers, steps: [{ pauseMs: 1500 }, { keys: '4111111111111111#' }, { keys: '1230' }, { keys: '123' }, { pauseMs: 9000 }, { keys: OTP }] }),
    }).done;
    await new Promise((r) => setTimeout(r, 300));
    const started = Date.now();
    const attacker = await runSipp({
      target: floodTarget, localIp: '127.0.0.1', localPort: await freePort(), mediaPort: await freeMediaPort(), timeoutS: 30,
      scenario: unackedFloodScenario(payHeaders()), calls: 60, rate: 30, limit: 60,
    }).done;
    const seconds = (Date.now() - started) / 1000;
    const refused = await metric(flood, 'invite-rate');
    // At most the burst (5) plus 5 a second got through; everything else was 503 before any port was taken.
    expect(refused, attacker.stdout.slice(-2000)).toBeGreaterThanOrEqual(60 - (5 + Math.ceil(5 * seconds) + 1));
    expect((await health(flood)).details.rtpPorts.allocated).toBeLessThanOrEqual(5 + Math.ceil(5 * seconds) + 2);
    const paid = await payer;
    expect(paid.code, paid.errors + paid.stderr).toBe(0);
    const s = await flood.store.list({ orderRef: headers['X-Pay-Order-Ref']! });
    expect(s.map((x) => x.outcome)).toEqual(['paid']);
    // Every event a real payment publishes passes the check applied to events read from Redis.
    expect(events.length).toBeGreaterThan(10);
    expect(events.filter((e) => parseSessionEvent(e) === undefined)).toEqual([]);
  });
});

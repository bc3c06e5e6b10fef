import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { SessionEvent } from '../../src/capture/events.js';
import type { Gateway } from '../../src/gateway.js';
import { decodeUlaw, encodeUlaw } from '../../src/media/g711/index.js';
import { concat, dtmfSignal, levelDbm0, silence, toInt16 } from '../../devtools/dsp/generator.js';
import { spandspDetect } from '../../devtools/dsp/spandsp.js';
import { startTestGateway, type LogSink } from '../support/gateway.js';
import { payHeaders, payScenario, type PayStep } from '../../devtools/sipp/pay-scenario.js';
import { freeMediaPort, freePort } from '../../devtools/ports.js';
import { runSipp, type SippResult } from '../../devtools/sipp/run.js';
import { RtpSink, WsSipAgent, type AgentDialog, type SipMessage } from '../support/ws-sip-agent.js';

/**
 * Inline mode end to end (docs/architecture.md "Two ways a payment starts", 1): a SIPp customer calls
 * agent-1 through the gateway; the agent (a WebSocket SIP client, as the widget is) answers and
 * sends an in-dialog REFER with the transaction; the customer keys the card in-band; the agent's
 * RTP is recorded the whole time and checked with spandsp for any DTMF.
 */
const OTP = '135790';
let gw: Gateway;
let logs: LogSink;
let target: string;
let agent: WsSipAgent;
let dir: string;
const events: SessionEvent[] = [];

beforeAll(async () => {
  ({ gw, logs, target } = await startTestGateway({ DEMO_OTP: OTP, RING_TIMEOUT_S: '10', SIP_DIGEST_ALGORITHMS: 'SHA-256,MD5' }));
  await gw.bus.subscribe((e) => void events.push(e));
  agent = await WsSipAgent.connect(`ws://127.0.0.1:${gw.httpPort}/sip`, { user: 'agent-1', password: 'demo' });
  expect((await agent.register({ expires: 600 })).final.status).toBe(200);
  dir = mkdtempSync(join(tmpdir(), 'pay-inline-'));
});
afterEach(() => agent.clearInbox());
afterAll(async () => {
  await agent?.close();
  await gw?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

function ulawFile(name: string, pcm: Int16Array): { ulaw: string; ms: number } {
  const u = new Uint8Array(pcm.length);
  encodeUlaw(pcm, u);
  const file = join(dir, `${name}.ulaw`);
  writeFileSync(file, u);
  return { ulaw: file, ms: Math.ceil(pcm.length / 8) + 200 };
}
const tones = (name: string, digits: string) => ulawFile(name, toInt16(concat(silence(100), dtmfSignal(digits, { lowDbm0: -10, onMs: 80, offMs: 80 }), silence(300))));
function sine(name: string, hz: number, msLen: number) {
  const n = msLen * 8;
  const pcm = new Int16Array(n);
  for (let i = 0; i < n; i++) pcm[i] = Math.round(0.3 * 32767 * Math.sin((2 * Math.PI * hz * i) / 8000));
  return ulawFile(name, pcm);
}

interface Live {
  d: AgentDialog;
  sink: RtpSink;
  caller: Promise<SippResult>;
}

/** The SIPp customer calls agent-1; the agent answers on a fresh RTP sink; the call is up. */
async function establish(steps: PayStep[], ackDelayMs?: number): Promise<Live> {
  const sink = await RtpSink.open();
  const scenario = payScenario({ user: 'agent-1', headers: {}, steps, byeTimeoutMs: 90_000, ackDelayMs });
  const caller = (async () => runSipp({ scenario, target, localPort: await freePort(), mediaPort: await freeMediaPort(), timeoutS: 120 }).done)();
  const invite = await agent.nextRequest('INVITE');
  const d = agent.answer(invite, sink.port, 'pcmu');
  await agent.nextRequest('ACK');
  return { d, sink, caller };
}

const refer = (live: Live, headers: Record<string, string>): Promise<SipMessage> =>
  agent.inDialog(live.d, 'REFER', [['Refer-To', `<sip:pay@${target}>`], ['Referred-By', '<sip:agent-1@tonegate>'], ...Object.entries(headers)]);

/** Answers NOTIFYs 200 until one carries a final sipfrag status; returns every sipfrag start line. */
async function notifiesUntilFinal(timeoutMs: number): Promise<{ lines: string[]; finalAt: number }> {
  const lines: string[] = [];
  for (;;) {
    const n = await agent.nextRequest('NOTIFY', timeoutMs);
    agent.respond(n, 200);
    const line = n.body.split('\r\n')[0]!;
    lines.push(line);
    if (!/^SIP\/2\.0 1\d\d/.test(line)) return { lines, finalAt: performance.now() };
  }
}

const agentPcm = (sink: RtpSink, from = 0, to = Infinity): Int16Array => {
  const pkts = sink.received.filter((p) => p.pt === 0 && p.at >= from && p.at < to);
  const out = new Int16Array(pkts.reduce((n, p) => n + p.payload.length, 0));
  let o = 0;
  for (const p of pkts) {
    decodeUlaw(p.payload, out.subarray(o, o + p.payload.length));
    o += p.payload.length;
  }
  return out;
};

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
const errorsLogged = (): string[] => logs.lines.filter((l) => /"level":50/.test(l));

describe('inline mode: the agent REFERs, the customer keys the card, the agent stays on the line muted', () => {
  it('pays a Visa keyed in-band: 202, NOTIFY 100 then 200; spandsp finds no DTMF in the agent audio; afterwards they talk again', async () => {
    const card = tones('card', '4111111111111111#1230123');
    const otp = tones('otp', OTP);
    const after = sine('talk', 440, 4000);
    const live = await establish([{ pauseMs: 2000 }, card, { pauseMs: 9000 }, otp, { pauseMs: 9000 }, after]);
    const headers = payHeaders({ 'X-Pay-Agent-Id': 'agent-1' });
    const res = await refer(live, headers);
    expect(res.status).toBe(202);
    const { lines, finalAt } = await notifiesUntilFinal(60_000);
    expect(lines[0]).toBe('SIP/2.0 100 Trying');
    expect(lines[lines.length - 1]).toBe('SIP/2.0 200 OK');
    // Customer and agent talk again: the customer's 440 Hz (sent once the outcome prompt is over)
    // reaches the agent after the final NOTIFY.
    const until = performance.now() + 20_000;
    while (performance.now() < until && !(levelDbm0(agentPcm(live.sink, finalAt)) > -25)) await sleep(200);
    expect(levelDbm0(agentPcm(live.sink, finalAt))).toBeGreaterThan(-25);
    // Hang up once the tone is over (SIPp then waits for the BYE), not in the middle of it.
    while (performance.now() < until + 10_000 && !(levelDbm0(agentPcm(live.sink, performance.now() - 300)) < -40)) await sleep(100);
    await sleep(500);
    expect((await agent.inDialog(live.d, 'BYE')).status).toBe(200);
    const r = await live.caller;
    expect(r.code, r.errors + r.stderr + errorsLogged().join('\n')).toBe(0);

    // The session: paid, in-band, agent-1, first 6 / last 4 only; one charge at the provider.
    const orderRef = headers['X-Pay-Order-Ref']!;
    const [session] = (await gw.store.list()).filter((s) => s.orderRef === orderRef);
    expect(session).toMatchObject({ outcome: 'paid', dtmfTransport: 'inband', agentId: 'agent-1', card: { brand: 'visa', first6: '411111', last4: '1111' } });
    expect(gw.payments.demo!.payments().filter((p) => JSON.stringify(p).includes(orderRef))).toHaveLength(1);
    // The agent heard every moment of the call (the stream never stopped) and no tone of it.
    const all = agentPcm(live.sink);
    expect(all.length).toBeGreaterThan(8000 * 20);
    expect(spandspDetect(all).digits).toBe('');
    const leaks = [...logs.lines, JSON.stringify(events), JSON.stringify(await gw.store.list())].join('\n');
    for (const secret of ['4111111111111111', '111111111111', OTP]) expect(leaks).not.toContain(secret);
    expect(errorsLogged()).toEqual([]);
  }, 120_000);

  it('a REFER that overtakes the caller\'s ACK waits for it instead of being answered 491', async () => {
    // The gateway ACKs the agent's 200 at once, so a quick agent can REFER before the caller's ACK
    // has confirmed the call; the caller here ACKs 1.5 s late.
    const live = await establish([], 1500);
    const t0 = performance.now();
    const bad = await refer(live, payHeaders({ 'X-Pay-Amount': '12.345' }));
    expect(bad.status).toBe(400); // handled as a REFER of a confirmed call, not 491
    expect(bad.header('warning')).toMatch(/X-Pay-Amount/);
    expect(performance.now() - t0).toBeGreaterThan(1000);
    expect((await agent.inDialog(live.d, 'BYE')).status).toBe(200);
    const r = await live.caller;
    expect(r.code, r.errors + r.stderr).toBe(0);
  }, 30_000);

  it('refusals leave the call untouched (400 naming the field, 403 for another target, 491 for a second REFER); the agent then hangs up mid-capture and the customer still pays', async () => {
    const live = await establish([{ pauseMs: 2500 }, { keys: '5555555555554444#' }, { keys: '1230' }, { keys: '123' }, { pauseMs: 9000 }, { keys: OTP }]);
    const bad = await refer(live, payHeaders({ 'X-Pay-Amount': '12.345' }));
    expect(bad.status).toBe(400);
    expect(bad.header('warning')).toMatch(/X-Pay-Amount/);
    const other = await agent.inDialog(live.d, 'REFER', [['Refer-To', `<sip:someone-else@${target}>`]]);
    expect(other.status).toBe(403);
    const wrongAgent = await refer(live, payHeaders({ 'X-Pay-Agent-Id': 'agent-2' }));
    expect(wrongAgent.status).toBe(403);
    const headers = payHeaders({ 'X-Pay-Agent-Id': 'agent-1' });
    expect((await refer(live, headers)).status).toBe(202);
    expect((await refer(live, payHeaders())).status).toBe(491);
    // The agent closes the tab: its BYE ends its leg only; the customer is not hung up on.
    expect((await agent.inDialog(live.d, 'BYE')).status).toBe(200);
    const r = await live.caller; // keys the card and the OTP, then gets the gateway's BYE
    expect(r.code, r.errors + r.stderr + errorsLogged().join('\n')).toBe(0);
    const [session] = (await gw.store.list()).filter((x) => x.orderRef === headers['X-Pay-Order-Ref']);
    expect(session).toMatchObject({ outcome: 'paid', agentId: 'agent-1', dtmfTransport: 'rfc4733', card: { brand: 'mastercard', last4: '4444' } });
    expect(gw.calls.calls.size).toBe(0);
    expect(errorsLogged()).toEqual([]);
  }, 120_000);
});

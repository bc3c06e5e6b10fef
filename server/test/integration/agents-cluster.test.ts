import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createClient } from 'redis';
import { GatewayChild } from '../support/gateway-process.js';
import { Kamailio } from '../../devtools/kamailio.js';
import { payScenario, type PayStep } from '../../devtools/sipp/pay-scenario.js';
import { freeMediaPort, freePort } from '../../devtools/ports.js';
import { RedisServer } from '../../devtools/redis-server.js';
import { runSipp, type SippResult } from '../../devtools/sipp/run.js';
import { dumpRedis, findCardData } from '../support/redis-dump.js';
import { WsSipAgent, uriIn, type AgentDialog } from '../support/ws-sip-agent.js';

/**
 * Agents across instances (README, "Redis, metrics, audit"), with real parts: two gateway
 * processes sharing a real redis-server, a real Kamailio 5.6 as the agents' SIP WebSocket front
 * (`-A WITH_WEBSOCKET`: Path on REGISTER, RFC 3327) and dispatcher to the gateways, a WebSocket
 * agent that computes its own digests (server/test/support/ws-sip-agent.ts) and SIPp customers.
 * The agent registers through Kamailio; the gateway that took the REGISTER writes the binding,
 * Path included, to the registration directory; a customer calling the other gateway reaches the
 * agent through Kamailio and pays inline. The gateway that took the REGISTER is SIGKILLed; the
 * agent registers again (Kamailio sends it to the survivor) and the next payment is paid.
 */
const OTP = '271828';
const PAN = '4111111111111111';
const TOKEN = 'agents-cluster-supervisor-token';
const KEYS: PayStep[] = [{ pauseMs: 3000 }, { keys: `${PAN}#` }, { keys: '1230' }, { keys: '123' }, { pauseMs: 5000 }, { keys: OTP }];
const gateways: GatewayChild[] = [];
let kamailio: Kamailio;
let redis: RedisServer;
let agent: WsSipAgent;

async function startGateway(id: string, rtpMin: number): Promise<GatewayChild> {
  const [sip, http, pg] = [await freePort(), await freePort(), await freePort()];
  const g = await GatewayChild.start({
    SIP_PORT: String(sip), HTTP_PORT: String(http), DEMO_PG_PORT: String(pg), INSTANCE_ID: id, DEMO_OTP: OTP, SUPERVISOR_TOKEN: TOKEN,
    RTP_PORT_MIN: String(rtpMin), RTP_PORT_MAX: String(rtpMin + 199), MEDIA_WORKERS: '1', LOG_LEVEL: 'info', REDIS_URL: redis.url,
    SIP_DIGEST_ALGORITHMS: 'SHA-256,MD5', RING_TIMEOUT_S: '15',
  });
  gateways.push(g);
  return g;
}

beforeAll(async () => {
  redis = await RedisServer.start();
  const base = 31000 + 400 * Math.floor(Math.random() * 20);
  const a = await startGateway('gw-a', base);
  const b = await startGateway('gw-b', base + 200);
  kamailio = await Kamailio.start({
    wsPort: 'auto',
    gateways: [a, b].map((g) => ({ host: '127.0.0.1', port: Number(g.env['SIP_PORT']) })),
  });
}, 60_000);

afterAll(async () => {
  if (process.env['AGENTS_CLUSTER_DEBUG']) {
    const { writeFileSync } = await import('node:fs');
    writeFileSync('/tmp/agents-cluster-kamailio.log', kamailio.lines.join('\n'));
    for (const g of gateways) writeFileSync(`/tmp/agents-cluster-${g.env['INSTANCE_ID']}.log`, g.lines.join('\n'));
  }
  await agent?.close().catch(() => undefined);
  await kamailio?.stop();
  for (const g of gateways) await g.stop();
  await redis?.stop();
});

interface DirectoryEntry { uri: string; path: string[]; gateway: string; expiresAt: number }

/** The registration directory's entry for `aor`, read straight from Redis. */
async function directory(aor: string): Promise<DirectoryEntry[]> {
  const c = createClient({ url: redis.url });
  await c.connect();
  try {
    const raw = await c.get(`tonegate:reg:${aor}`);
    return raw ? (JSON.parse(raw) as DirectoryEntry[]) : [];
  } finally {
    await c.quit();
  }
}

async function registerThroughKamailio(): Promise<void> {
  agent = await WsSipAgent.connect(`ws://127.0.0.1:${kamailio.wsPort}/`, { user: 'agent-1', password: 'demo' });
  const r = await agent.register({ expires: 300 });
  expect(r.final.status, r.final.raw).toBe(200);
  // RFC 3327 5.3: the registrar returns the Path it stored; it names Kamailio and the agent's connection.
  expect(r.final.header('path')).toMatch(new RegExp(`^<sip:127\\.0\\.0\\.1:${kamailio.port};lr;received=`));
}

const gatewayById = (id: string): GatewayChild => gateways.find((g) => g.env['INSTANCE_ID'] === id)!;

interface RestSession { outcome: string | null; orderRef: string; instanceId: string; agentId: string | null; card: { brand: string; first6: string; last4: string } | null }

async function sessions(g: GatewayChild, orderRef: string): Promise<RestSession[]> {
  const r = await fetch(`${g.httpUrl}/api/sessions?orderRef=${encodeURIComponent(orderRef)}`, { headers: { authorization: `Bearer ${TOKEN}` } });
  expect(r.status).toBe(200);
  return ((await r.json()) as { sessions: RestSession[] }).sessions;
}

/**
 * A SIPp customer calls agent-1 at gateway `entry`; the agent takes the INVITE (through Kamailio),
 * answers, sends the payment REFER inside the dialog, follows the NOTIFYs to the final one, and
 * hangs up. Returns the final sipfrag and the customer's SIPp result.
 */
async function inlinePayment(entry: GatewayChild, orderRef: string): Promise<{ invite: string; finalFrag: string; caller: SippResult }> {
  const scenario = payScenario({ user: 'agent-1', headers: {}, steps: KEYS, byeTimeoutMs: 90_000 });
  const caller = (async () =>
    runSipp({ scenario, target: `127.0.0.1:${entry.env['SIP_PORT']}`, localPort: await freePort(), mediaPort: await freeMediaPort(), timeoutS: 120 }).done)();
  const invite = await agent.nextRequest('INVITE', 20_000);
  const d: AgentDialog = agent.answer(invite, await freeMediaPort(), 'pcmu');
  await agent.nextRequest('ACK', 10_000);
  const q = new URLSearchParams({ 'X-Pay-Amount': '1499.00', 'X-Pay-Currency': 'INR', 'X-Pay-Merchant-Id': 'M-DEMO-01', 'X-Pay-Order-Ref': orderRef, 'X-Pay-Customer-Mobile': '+919800000001' });
  const referTo = `<sip:pay@127.0.0.1:${entry.env['SIP_PORT']}>`;
  const headers: [string, string][] = [['Refer-To', referTo], ['Referred-By', '<sip:agent-1@tonegate>'], ...[...q].map(([k, v]): [string, string] => [k, v])];
  const res = await agent.inDialog(d, 'REFER', headers);
  expect(res.status, res.raw).toBe(202);
  let finalFrag = '';
  for (;;) {
    const n = await agent.nextRequest('NOTIFY', 60_000);
    agent.respond(n, 200);
    if (!/^SIP\/2\.0 1\d\d/.test(n.body)) {
      finalFrag = n.body.split('\r\n')[0]!;
      break;
    }
  }
  await new Promise((r) => setTimeout(r, 2000));
  expect((await agent.inDialog(d, 'BYE', [])).status).toBe(200);
  return { invite: invite.raw, finalFrag, caller: await caller };
}

describe('agents across instances: Kamailio as the WebSocket front, a Redis registration directory', () => {
  let holder: GatewayChild;
  let other: GatewayChild;

  it('the agent registers through Kamailio; the directory holds its binding with the Path and the gateway that took it', async () => {
    await registerThroughKamailio();
    const [entry] = await directory('agent-1');
    expect(entry, 'no directory entry for agent-1').toBeDefined();
    expect(entry!.uri).toBe(uriIn(agent.contact));
    expect(entry!.path[0]).toMatch(new RegExp(`^<sip:127\\.0\\.0\\.1:${kamailio.port};lr;received=`));
    expect(entry!.expiresAt).toBeGreaterThan(Date.now() + 290_000);
    holder = gatewayById(entry!.gateway);
    other = gateways.find((g) => g !== holder)!;
    expect(holder.lines.some((l) => /REGISTER accepted/.test(l))).toBe(true);
    expect(other.lines.some((l) => /REGISTER accepted/.test(l))).toBe(false);
  }, 30_000);

  it('a customer calling the other gateway reaches the agent through Kamailio, and the inline payment is paid', async () => {
    const orderRef = `ORD-CLUSTER-1-${Date.now()}`;
    const { invite, finalFrag, caller } = await inlinePayment(other, orderRef);
    // The INVITE came from the other gateway through Kamailio (its Via on top, the gateway's below).
    expect(invite).toMatch(new RegExp(`^Via: SIP/2\\.0/WS [^\\r]*\\r\\nVia: SIP/2\\.0/UDP 127\\.0\\.0\\.1:${other.env['SIP_PORT']};`, 'm'));
    expect(kamailio.lines.some((l) => /INVITE sip:agent-1@[^ ]+ -> agent /.test(l))).toBe(true);
    // An agent on SIP over WebSocket gets the outcome as the final status (calls/payment/endings.ts).
    expect(finalFrag).toBe('SIP/2.0 200 OK');
    expect(caller.code, caller.errors + caller.stderr).toBe(0);
    const s = await sessions(holder, orderRef);
    expect(s).toMatchObject([{ outcome: 'paid', orderRef, instanceId: other.env['INSTANCE_ID'], card: { brand: 'visa', first6: '411111', last4: '1111' } }]);
  }, 150_000);

  it('the gateway that took the REGISTER is SIGKILLed; the agent registers again through Kamailio, lands on the survivor, and the next payment is paid', async () => {
    await holder.stop('SIGKILL');
    // Kamailio's probing takes the dead gateway out (2 missed OPTIONS, 2 s apart); a REGISTER sent
    // before that times out at Kamailio (no answer), and the agent tries again, as a softphone does.
    let registered = false;
    for (const end = Date.now() + 30_000; !registered && Date.now() < end; ) {
      const r = await agent.register({ expires: 300 }).catch(() => undefined);
      registered = r?.final.status === 200;
      if (!registered) await new Promise((res) => setTimeout(res, 1000));
    }
    expect(registered).toBe(true);
    const [entry] = await directory('agent-1');
    expect(entry!.gateway).toBe(other.env['INSTANCE_ID']);
    const orderRef = `ORD-CLUSTER-2-${Date.now()}`;
    const { finalFrag, caller } = await inlinePayment(other, orderRef);
    expect(finalFrag).toBe('SIP/2.0 200 OK');
    expect(caller.code, caller.errors + caller.stderr).toBe(0);
    expect(await sessions(other, orderRef)).toMatchObject([{ outcome: 'paid', orderRef }]);
  }, 180_000);

  it('with Redis frozen, REGISTER is refused within the command deadline: 503 with a Warning from the gateway (500 through Kamailio, RFC 3261 16.7), logged', async () => {
    const survivor = other;
    const direct = await WsSipAgent.connect(`ws://127.0.0.1:${survivor.env['HTTP_PORT']}/sip`, { user: 'agent-2', password: 'demo' });
    redis.pause();
    try {
      let started = Date.now();
      const r = await direct.register({ expires: 300 });
      expect(r.final.status, r.final.raw).toBe(503);
      expect(r.final.header('warning')).toMatch(/registration directory unavailable/);
      expect(r.final.header('retry-after')).toBe('5');
      expect(Date.now() - started).toBeLessThan(3_000);
      // A proxy turns a 503 into 500 (RFC 3261 16.7 step 6): the agent behind Kamailio gets a 500, not a hang.
      started = Date.now();
      const k = await agent.register({ expires: 300 });
      expect(k.final.status, k.final.raw).toBe(500);
      expect(Date.now() - started).toBeLessThan(3_900); // below Kamailio's fr_timer: the gateway answered
    } finally {
      redis.resume();
      await direct.close();
    }
    expect(survivor.lines.some((l) => /REGISTER refused: the registration directory \(Redis\) is unavailable/.test(l))).toBe(true);
    // Redis answers again: the agent registers.
    await new Promise((r) => setTimeout(r, 1000));
    expect((await agent.register({ expires: 300 })).final.status).toBe(200);
  }, 30_000);

  it('no card data reached Redis or the gateways\' logs', async () => {
    const dump = await dumpRedis(redis.url);
    expect(findCardData(dump.text, { pan: PAN, cvv: '123', expiry: '1230', otp: OTP })).toEqual([]);
    for (const g of gateways) expect(findCardData(g.lines.join('\n'), { pan: PAN, cvv: '123', expiry: '1230', otp: OTP })).toEqual([]);
  });
});

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EventsClient, type Frame } from '../support/events-client.js';
import { GatewayChild } from '../support/gateway-process.js';
import { Kamailio } from '../../devtools/kamailio.js';
import { payHeaders, payScenario, type PayStep } from '../../devtools/sipp/pay-scenario.js';
import { freeMediaPort, freePort } from '../../devtools/ports.js';
import { RedisServer } from '../../devtools/redis-server.js';
import { runSipp, type SippResult } from '../../devtools/sipp/run.js';

/**
 * Scale-out with real parts: two gateway processes (`npm start`'s code) sharing a
 * real redis-server, behind a real Kamailio using its dispatcher module
 * (sip-profiles/kamailio/kamailio.cfg). SIPp pays through Kamailio; calls spread over both
 * gateways and one supervisor connection sees every session. A gateway killed with SIGKILL in the
 * middle of a capture: the survivor marks that session failed once the dead one's heartbeat has
 * expired (the agent is told), and Kamailio's OPTIONS probing takes it out of rotation, so the
 * payments that follow all land on the survivor.
 */
const OTP = '314159';
const TOKEN = 'scale-out-supervisor-token';
const gateways: GatewayChild[] = [];
const sockets: EventsClient[] = [];
let kamailio: Kamailio;
let redis: RedisServer;

async function startGateway(id: string, rtpMin: number): Promise<GatewayChild> {
  const [sip, http, pg] = [await freePort(), await freePort(), await freePort()];
  const g = await GatewayChild.start({
    SIP_PORT: String(sip), HTTP_PORT: String(http), DEMO_PG_PORT: String(pg), INSTANCE_ID: id, DEMO_OTP: OTP, SUPERVISOR_TOKEN: TOKEN,
    RTP_PORT_MIN: String(rtpMin), RTP_PORT_MAX: String(rtpMin + 199), MEDIA_WORKERS: '1', LOG_LEVEL: 'info', REDIS_URL: redis.url,
  });
  gateways.push(g);
  return g;
}

/** A /events socket on gateway `g`, as the supervisor or (with a login) as agent-1. */
async function socket(g: GatewayChild, as: 'supervisor' | 'agent-1'): Promise<EventsClient> {
  let token = TOKEN;
  if (as === 'agent-1') {
    const r = await fetch(`${g.httpUrl}/api/agents/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ agentId: 'agent-1', password: 'demo' }) });
    token = ((await r.json()) as { token: string }).token;
  }
  const c = new EventsClient(`${g.httpUrl.replace('http', 'ws')}/events`);
  sockets.push(c);
  await c.auth(token);
  return c;
}

beforeAll(async () => {
  redis = await RedisServer.start();
  const base = 30000 + 400 * Math.floor(Math.random() * 24);
  const a = await startGateway('gw-a', base);
  const b = await startGateway('gw-b', base + 200);
  kamailio = await Kamailio.start({
    gateways: [a, b].map((g) => ({ host: '127.0.0.1', port: Number(g.env['SIP_PORT']) })),
  });
}, 60_000);

afterAll(async () => {
  for (const s of sockets) s.close();
  await kamailio?.stop();
  for (const g of gateways) await g.stop();
  await redis?.stop();
});

interface Session { id: string; orderRef: string; outcome: string | null; instanceId: string; failureReason?: string }

async function sessionsVia(g: GatewayChild): Promise<Session[]> {
  const r = await fetch(`${g.httpUrl}/api/sessions`, { headers: { authorization: `Bearer ${TOKEN}` } });
  return ((await r.json()) as { sessions: Session[] }).sessions;
}

const CARD: PayStep[] = [{ pauseMs: 1500 }, { keys: '4111111111111111#' }, { keys: '1230' }, { keys: '123' }, { pauseMs: 9000 }, { keys: OTP }];

/** One transfer-mode payment through Kamailio, keyed by RFC 2833. */
async function pay(steps = CARD, byeTimeoutMs = 60_000): Promise<{ orderRef: string; r: SippResult }> {
  const headers = payHeaders();
  const scenario = payScenario({ headers, steps, byeTimeoutMs });
  const r = await runSipp({ scenario, target: `127.0.0.1:${kamailio.port}`, localPort: await freePort(), mediaPort: await freeMediaPort(), timeoutS: 90 }).done;
  return { orderRef: headers['X-Pay-Order-Ref']!, r };
}

const started = (c: EventsClient, orderRef: string): Promise<Frame> => c.next((f) => f.type === 'session.started' && f.orderRef === orderRef, `session.started ${orderRef}`, 60_000);

describe('two gateways behind Kamailio (dispatcher) sharing Redis', () => {
  it('payments spread over both gateways, every one is paid, and one supervisor connection sees them all', async () => {
    const watcher = await socket(gateways[0]!, 'supervisor');
    const runs = [];
    for (let i = 0; i < 4; i++) {
      runs.push(pay());
      await new Promise((r) => setTimeout(r, 300));
    }
    const done = await Promise.all(runs);
    for (const { r } of done) expect(r.code, r.errors + r.stderr).toBe(0);
    const mine = (await sessionsVia(gateways[1]!)).filter((s) => done.some((d) => d.orderRef === s.orderRef));
    // One shared store: either gateway lists all four, paid, and each instance ran some of them.
    expect(mine.map((s) => s.orderRef).sort()).toEqual(done.map((d) => d.orderRef).sort());
    expect(mine.every((s) => s.outcome === 'paid')).toBe(true);
    expect(new Set(mine.map((s) => s.instanceId))).toEqual(new Set(['gw-a', 'gw-b']));
    // The supervisor on gw-a saw every session start and end, those run by gw-b too.
    for (const s of mine) {
      await started(watcher, s.orderRef);
      await watcher.next((f) => f.type === 'session.ended' && f.sessionId === s.id && f.outcome === 'paid', `session.ended ${s.id}`);
    }
  }, 180_000);

  it('a gateway SIGKILLed mid-capture: the survivor fails its session (the agent is told), and Kamailio sends the next payments to the survivor only', async () => {
    const watchers = await Promise.all(gateways.map((g) => socket(g, 'agent-1')));
    // A customer who keys part of the card and then waits (the gateway will die meanwhile).
    const inFlight = pay([{ pauseMs: 1500 }, { keys: '41111111' }, { pauseMs: 30_000 }], 40_000);
    const startedEvent = await Promise.race(watchers.map((w) => w.next((f) => f.type === 'session.started', 'the in-flight session', 30_000)));
    const session = (await sessionsVia(gateways[0]!)).find((s) => s.id === startedEvent.sessionId)!;
    const victim = gateways.find((g) => g.env['INSTANCE_ID'] === session.instanceId)!;
    const survivor = gateways.find((g) => g !== victim)!;
    const agentOnSurvivor = watchers[gateways.indexOf(survivor)]!;
    await agentOnSurvivor.next((f) => f.type === 'digit.entered' && f.sessionId === session.id, 'a digit of the in-flight session', 30_000);
    await victim.stop('SIGKILL');

    // Heartbeat TTL 15 s, takeover sweep every 5 s: the survivor ends it and tells the agent.
    const ended = await agentOnSurvivor.next((f) => f.type === 'session.ended' && f.sessionId === session.id, 'session.ended of the dead instance', 40_000);
    expect(ended).toMatchObject({ outcome: 'failed', reason: 'gateway-lost' });
    expect((await sessionsVia(survivor)).find((s) => s.id === session.id)).toMatchObject({ outcome: 'failed', failureReason: 'gateway-lost' });
    expect(survivor.lines.some((l) => l.includes('gateway instance lost'))).toBe(true);
    await inFlight; // its gateway is gone: SIPp gives up; nothing more is asserted of it

    const mark = kamailio.lines.length;
    const done = await Promise.all([pay(), pay()]);
    for (const { r } of done) expect(r.code, r.errors + r.stderr + kamailio.lines.slice(-10).join('\n')).toBe(0);
    const after = await sessionsVia(survivor);
    for (const d of done) expect(after.find((s) => s.orderRef === d.orderRef)).toMatchObject({ outcome: 'paid', instanceId: survivor.env['INSTANCE_ID'] });
    // Out of rotation, not merely failed over: no INVITE was even tried on the dead gateway.
    const tried = kamailio.lines.slice(mark).filter((l) => /INVITE .* -> sip:/.test(l));
    expect(tried).toHaveLength(2);
    for (const l of tried) expect(l).toContain(`-> sip:127.0.0.1:${survivor.env['SIP_PORT']}`);
  }, 240_000);
});

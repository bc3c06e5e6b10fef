import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GatewayChild } from '../support/gateway-process.js';
import { Kamailio } from '../support/kamailio.js';
import { payHeaders, payScenario } from '../support/pay-scenario.js';
import { freeMediaPort, freePort } from '../support/ports.js';
import { runSipp, type SippResult } from '../support/sipp.js';

/**
 * Scale-out with real parts (issue 6 part 6): two gateway processes (`npm start`'s code) behind a
 * real Kamailio using its dispatcher module (sip-profiles/kamailio/kamailio.cfg). SIPp pays through
 * Kamailio; calls spread over both gateways; a gateway killed with SIGKILL is taken out of
 * rotation by Kamailio's OPTIONS probing and the payments that follow all land on the survivor.
 */
const OTP = '314159';
const TOKEN = 'scale-out-supervisor-token';
const gateways: GatewayChild[] = [];
let kamailio: Kamailio;

async function startGateway(id: string, rtpMin: number): Promise<GatewayChild> {
  const [sip, http, pg] = [await freePort(), await freePort(), await freePort()];
  const g = await GatewayChild.start({
    SIP_PORT: String(sip), HTTP_PORT: String(http), DEMO_PG_PORT: String(pg), INSTANCE_ID: id, DEMO_OTP: OTP, SUPERVISOR_TOKEN: TOKEN,
    RTP_PORT_MIN: String(rtpMin), RTP_PORT_MAX: String(rtpMin + 199), MEDIA_WORKERS: '1', LOG_LEVEL: 'info',
  });
  gateways.push(g);
  return g;
}

beforeAll(async () => {
  const base = 30000 + 400 * Math.floor(Math.random() * 24);
  const a = await startGateway('gw-a', base);
  const b = await startGateway('gw-b', base + 200);
  kamailio = await Kamailio.start({
    port: await freePort(),
    gateways: [a, b].map((g) => ({ host: '127.0.0.1', port: Number(g.env['SIP_PORT']) })),
  });
}, 60_000);

afterAll(async () => {
  await kamailio?.stop();
  for (const g of gateways) await g.stop();
});

async function sessionsOf(g: GatewayChild): Promise<{ orderRef: string; outcome: string | null }[]> {
  const r = await fetch(`${g.httpUrl}/api/sessions`, { headers: { authorization: `Bearer ${TOKEN}` } });
  return ((await r.json()) as { sessions: { orderRef: string; outcome: string | null }[] }).sessions;
}

/** One transfer-mode payment through Kamailio, keyed by RFC 2833. */
async function pay(): Promise<{ orderRef: string; r: SippResult }> {
  const headers = payHeaders();
  const scenario = payScenario({ headers, steps: [{ pauseMs: 1500 }, { keys: '4111111111111111#' }, { keys: '1230' }, { keys: '123' }, { pauseMs: 9000 }, { keys: OTP }], byeTimeoutMs: 60_000 });
  const r = await runSipp({ scenario, target: `127.0.0.1:${kamailio.port}`, localPort: await freePort(), mediaPort: await freeMediaPort(), timeoutS: 90 }).done;
  return { orderRef: headers['X-Pay-Order-Ref']!, r };
}

describe('two gateways behind Kamailio (dispatcher)', () => {
  it('payments through Kamailio spread over both gateways, and every one is paid', async () => {
    const runs = [];
    for (let i = 0; i < 4; i++) {
      runs.push(pay());
      await new Promise((r) => setTimeout(r, 300));
    }
    const done = await Promise.all(runs);
    for (const { r } of done) expect(r.code, r.errors + r.stderr).toBe(0);
    const [a, b] = [await sessionsOf(gateways[0]!), await sessionsOf(gateways[1]!)];
    // Round-robin over the two: each took some, together exactly these four, all paid.
    expect(a.length).toBeGreaterThan(0);
    expect(b.length).toBeGreaterThan(0);
    expect([...a, ...b].map((s) => s.orderRef).sort()).toEqual(done.map((d) => d.orderRef).sort());
    expect([...a, ...b].every((s) => s.outcome === 'paid')).toBe(true);
    expect(kamailio.dispatched().length).toBeGreaterThanOrEqual(4);
  }, 180_000);

  it('a gateway killed with SIGKILL is taken out of rotation: the next payments all land on the survivor', async () => {
    const [survivor, victim] = gateways as [GatewayChild, GatewayChild];
    await victim.stop('SIGKILL');
    // Kamailio probes every 2 s and needs 2 failed probes (ds_probing_threshold): give it 3 rounds.
    await new Promise((r) => setTimeout(r, 7000));
    const mark = kamailio.lines.length;
    const before = (await sessionsOf(survivor)).length;
    const done = await Promise.all([pay(), pay()]);
    for (const { r } of done) expect(r.code, r.errors + r.stderr + kamailio.lines.slice(-10).join('\n')).toBe(0);
    const after = await sessionsOf(survivor);
    expect(after.length).toBe(before + 2);
    for (const d of done) expect(after.find((s) => s.orderRef === d.orderRef)?.outcome).toBe('paid');
    // Out of rotation, not merely failed over: no INVITE was even tried on the dead gateway.
    const tried = kamailio.lines.slice(mark).filter((l) => /INVITE .* -> sip:/.test(l));
    expect(tried).toHaveLength(2);
    for (const l of tried) expect(l).toContain(`-> sip:127.0.0.1:${survivor.env['SIP_PORT']}`);
  }, 180_000);
});

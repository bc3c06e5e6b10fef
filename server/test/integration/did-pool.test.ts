import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, readFileSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Gateway } from '../../src/gateway.js';
import { startTestGateway, type LogSink } from '../support/gateway.js';
import { payRefusedScenario, payScenario, type PayStep } from '../../devtools/sipp/pay-scenario.js';
import { freeMediaPort, freePort } from '../../devtools/ports.js';
import { dumpRedis, findCardData } from '../support/redis-dump.js';
import { RedisServer } from '../../devtools/redis-server.js';
import { runSipp, type SippResult } from '../../devtools/sipp/run.js';
import { WsSipAgent } from '../support/ws-sip-agent.js';

/**
 * DID-pool handoffs and numeric codes across two gateways sharing a real redis-server (README,
 * "Routing"; handoff/redis-did-pool.ts, redis-codes.ts). Gateway 1 runs the embedded demo provider;
 * gateway 2 pays through it over HTTP (PAYMENT_API_URL), so every charge is counted in one place.
 * A handoff issued by `POST /api/handoffs` on one gateway is redeemed by a real SIPp customer's
 * INVITE on the other, with no X-Pay-* header at all, and pays; the spent DID or code is then
 * refused on both, with the status and Warning on the wire. Plus the README example: demo mode out
 * of the box, no Redis.
 */
const OTP = '271828';
const CARD = { pan: '4111111111111111', expiry: '1230', cvv: '123', otp: OTP };
const KEYS: PayStep[] = [{ pauseMs: 1500 }, { keys: `${CARD.pan}#` }, { keys: CARD.expiry }, { keys: CARD.cvv }, { pauseMs: 4000 }, { keys: OTP }];

interface Gw {
  gw: Gateway;
  logs: LogSink;
  target: string;
}
let redis: RedisServer;
let g1: Gw;
let g2: Gw;

beforeAll(async () => {
  redis = await RedisServer.start();
  g1 = await startTestGateway({ DEMO_OTP: OTP, REDIS_URL: redis.url, INSTANCE_ID: 'gw-pool-1' });
  g2 = await startTestGateway({ DEMO_OTP: OTP, REDIS_URL: redis.url, INSTANCE_ID: 'gw-pool-2', PAYMENT_API_URL: g1.gw.payments.demo!.url });
}, 60_000);
afterAll(async () => {
  await g2?.gw.close();
  await g1?.gw.close();
  await redis?.stop();
});

async function handoff(g: Gw, orderRef: string, extra: Record<string, string>): Promise<Record<string, string>> {
  const res = await fetch(`http://127.0.0.1:${g.gw.httpPort}/api/handoffs`, {
    method: 'POST',
    headers: { authorization: `Bearer ${g.gw.handoffApiKey}`, 'content-type': 'application/json' },
    body: JSON.stringify({ amount: '1499.00', currency: 'INR', merchantId: 'M-DEMO-01', orderRef, customerMobile: '+919800000001', ...extra }),
  });
  const body = (await res.json()) as Record<string, string>;
  expect(res.status, JSON.stringify(body)).toBe(201);
  return body;
}

/** A customer transferred to `user` on gateway `g` with no X-Pay-* header, keying the Visa test card. */
async function pay(g: Gw, user: string): Promise<SippResult> {
  return runSipp({ scenario: payScenario({ user, headers: {}, steps: KEYS }), target: g.target, localPort: await freePort(), mediaPort: await freeMediaPort(), timeoutS: 90 }).done;
}

/** The same transfer refused before any answer: the status, and the Warning as SIPp received it. */
async function refused(g: Gw, user: string, status: number): Promise<string> {
  const dir = mkdtempSync(join(tmpdir(), 'did-pool-'));
  const r = await runSipp({
    scenario: payRefusedScenario({ user, headers: {}, status }), target: g.target, localPort: await freePort(), mediaPort: await freeMediaPort(), timeoutS: 20,
    extra: ['-trace_logs', '-log_file', join(dir, 'log.txt')],
  }).done;
  expect(r.code, r.errors + r.stderr).toBe(0);
  const log = readdirSync(dir).map((f) => readFileSync(join(dir, f), 'utf8')).join('\n');
  return /Warning=(.*)/.exec(log)?.[1]?.trim() ?? ''; // the scenario logs "Warning=[$warning]": SIPp substitutes the brackets too
}

async function sessions(g: Gw, orderRef: string): Promise<{ outcome: string | null; instanceId: string; card: unknown }[]> {
  const res = await fetch(`http://127.0.0.1:${g.gw.httpPort}/api/sessions?orderRef=${encodeURIComponent(orderRef)}`, { headers: { authorization: `Bearer ${g.gw.supervisorToken}` } });
  return ((await res.json()) as { sessions: { outcome: string | null; instanceId: string; card: unknown }[] }).sessions;
}

const warnings = (): string => [g1, g2].flatMap((g) => g.logs.lines.filter((l) => /"level":(40|50)/.test(l))).join('\n');

/** Paid once, on `on`, one approved charge at the demo provider. */
async function expectPaidOnce(r: SippResult, orderRef: string, on: string): Promise<void> {
  expect(r.code, r.errors + r.stderr + warnings()).toBe(0);
  for (const g of [g1, g2]) {
    expect(await sessions(g, orderRef)).toMatchObject([{ outcome: 'paid', instanceId: on, card: { brand: 'visa', first6: '411111', last4: '1111' } }]);
  }
  const charges = g1.gw.payments.demo!.payments().filter((p) => p.orderRef === orderRef);
  expect(charges).toMatchObject([{ status: 'approved', amount: '1499.00', last4: '1111' }]);
}

describe('two gateways + Redis: a handoff issued on one is redeemed on the other, once', () => {
  it('DID pool: reserved by POST on gateway 1, the INVITE to that DID on gateway 2 (no X-Pay-* header) pays; the DID is then refused on both', async () => {
    const orderRef = `ORD-POOL-${Date.now()}`;
    const h = await handoff(g1, orderRef, { via: 'did' });
    expect(h['did']).toMatch(/^\+91224000010\d$/);
    expect(h['sipUri']).toBe(`sip:${h['did']}@${g1.target}`);
    expect(h['code']).toBeUndefined();
    expect(await dumpRedis(redis.url).then((d) => d.text)).toContain(`tonegate:did:${h['did']}`);
    await expectPaidOnce(await pay(g2, h['did']!), orderRef, 'gw-pool-2');
    const warning = `399 tonegate "Request-URI: no pending handoff on ${h['did']} (unreserved, used or expired)"`;
    expect(await refused(g1, h['did']!, 404)).toBe(warning);
    expect(await refused(g2, h['did']!, 404)).toBe(warning);
    // in national form it is the same DID, and just as spent
    expect(await refused(g2, `0${h['did']!.slice(3)}`, 404)).toBe(warning);
    expect(await sessions(g1, orderRef)).toHaveLength(1);
    expect(g1.gw.payments.demo!.payments().filter((p) => p.orderRef === orderRef)).toHaveLength(1);
  }, 150_000);

  it('numeric code: issued on gateway 2 ("format": "numeric"), sip:pay-<16 digits>@ gateway 1 pays; the code is then refused on both', async () => {
    const orderRef = `ORD-NUM-${Date.now()}`;
    const h = await handoff(g2, orderRef, { format: 'numeric' });
    expect(h['code']).toMatch(/^\d{16}$/);
    expect(h['sipUri']).toBe(`sip:pay-${h['code']}@${g2.target}`);
    await expectPaidOnce(await pay(g1, `pay-${h['code']}`), orderRef, 'gw-pool-1');
    const warning = '399 tonegate "Request-URI: unknown, used or expired code"';
    expect(await refused(g1, `pay-${h['code']}`, 400)).toBe(warning);
    expect(await refused(g2, `pay-${h['code']}`, 400)).toBe(warning);
    expect(g1.gw.payments.demo!.payments().filter((p) => p.orderRef === orderRef)).toHaveLength(1);
  }, 150_000);

  it('inline: the agent on gateway 1 REFERs the customer to a DID reserved on gateway 2; the customer pays; a second REFER to it is refused 404', async () => {
    const agent = await WsSipAgent.connect(`ws://127.0.0.1:${g1.gw.httpPort}/sip`, { user: 'agent-1', password: 'demo' });
    try {
      expect((await agent.register({ expires: 600, algorithm: 'MD5' })).final.status).toBe(200);
      const orderRef = `ORD-POOLR-${Date.now()}`;
      const { did } = await handoff(g2, orderRef, { via: 'did' });
      // The customer calls support on gateway 1; the one registered agent answers.
      const scenario = payScenario({ user: 'support', headers: {}, steps: [{ pauseMs: 3000 }, ...KEYS.slice(1)], byeTimeoutMs: 90_000 });
      const caller = (async () => runSipp({ scenario, target: g1.target, localPort: await freePort(), mediaPort: await freeMediaPort(), timeoutS: 120 }).done)();
      const invite = await agent.nextRequest('INVITE');
      const d = agent.answer(invite, await freeMediaPort(), 'pcmu');
      await agent.nextRequest('ACK');
      expect((await agent.inDialog(d, 'REFER', [['Refer-To', `<sip:${did!}@${g1.target}>`], ['Referred-By', '<sip:agent-1@tonegate>']])).status).toBe(202);
      for (;;) {
        const n = await agent.nextRequest('NOTIFY', 60_000);
        agent.respond(n, 200);
        if (!/^SIP\/2\.0 1\d\d/.test(n.body)) break;
      }
      expect(await sessions(g2, orderRef)).toMatchObject([{ outcome: 'paid', instanceId: 'gw-pool-1', card: { brand: 'visa', first6: '411111', last4: '1111' } }]);
      expect(g1.gw.payments.demo!.payments().filter((p) => p.orderRef === orderRef)).toHaveLength(1);
      await new Promise((r) => setTimeout(r, 3000));
      const again = await agent.inDialog(d, 'REFER', [['Refer-To', `<sip:${did!}@${g1.target}>`], ['Referred-By', '<sip:agent-1@tonegate>']]);
      expect(again.status).toBe(404);
      expect(again.header('Warning')).toBe(`399 tonegate "Request-URI: no pending handoff on ${did!} (unreserved, used or expired)"`);
      expect((await agent.inDialog(d, 'BYE', [])).status).toBe(200);
      const c = await caller;
      expect(c.code, c.errors + c.stderr).toBe(0);
    } finally {
      await agent.close();
    }
  }, 150_000);

  it('a pool DID never reserved is refused 404 on either gateway before anything is answered', async () => {
    const dump = await dumpRedis(redis.url);
    const free = Array.from({ length: 10 }, (_, i) => `+91224000010${i}`).find((d) => !dump.text.includes(`tonegate:did:${d}`))!;
    expect(await refused(g2, free, 404)).toBe(`399 tonegate "Request-URI: no pending handoff on ${free} (unreserved, used or expired)"`);
  });

  it('afterwards: no handoff key is left in Redis, and neither Redis nor either log holds the card number, CVV, expiry or OTP', async () => {
    const dump = await dumpRedis(redis.url);
    expect(dump.text).not.toMatch(/tonegate:(did|handoff):/);
    expect(findCardData(dump.text, CARD)).toEqual([]);
    for (const g of [g1, g2]) {
      const log = g.logs.lines.join('\n');
      for (const secret of [CARD.pan, CARD.pan.slice(6, 12), OTP]) expect(log).not.toContain(secret);
    }
  });
});

describe('the README example: demo mode out of the box (no Redis)', () => {
  let demo: Gw;
  beforeAll(async () => {
    demo = await startTestGateway({ DEMO_OTP: '246810' });
  });
  afterAll(async () => {
    await demo?.gw.close();
  });

  it('POST /api/handoffs "via": "did", then e2e/sipp/transfer-pay-caller.xml (no X-Pay-* header) to the DID ends paid; again: 404', async () => {
    const orderRef = `ORD-README-${Date.now()}`;
    const h = await handoff(demo, orderRef, { via: 'did' });
    const r = await runSipp({ scenario: 'transfer-pay-caller.xml', service: h['did']!, target: demo.target, localPort: await freePort(), mediaPort: await freeMediaPort(), timeoutS: 90 }).done;
    expect(r.code, r.errors + r.stderr).toBe(0);
    expect(await sessions(demo, orderRef)).toMatchObject([{ outcome: 'paid', card: { brand: 'visa', first6: '411111', last4: '1111' } }]);
    expect(await refused(demo, h['did']!, 404)).toMatch(/no pending handoff/);
    expect(demo.logs.lines.join('\n')).not.toContain(CARD.pan);
  }, 120_000);
});

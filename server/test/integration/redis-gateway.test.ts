import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { createClient } from 'redis';
import type { SessionEvent } from '../../src/capture/events.js';
import type { Gateway } from '../../src/gateway.js';
import { silentLogger } from '../../src/observability/logger.js';
import { RedisEventBus, RedisKeys, RedisLink } from '../../src/store/index.js';
import { startTestGateway, type LogSink } from '../support/gateway.js';
import { payHeaders, payScenario, type PayStep } from '../../devtools/sipp/pay-scenario.js';
import { freeMediaPort, freePort } from '../../devtools/ports.js';
import { dumpRedis, findCardData } from '../support/redis-dump.js';
import { RedisServer } from '../../devtools/redis-server.js';
import { runSipp } from '../../devtools/sipp/run.js';

// A Redis-backed gateway (REDIS_URL) taking real SIPp payments (RFC 2833 keys), with a real
// redis-server that the outage test kills and restarts on the same port.
const OTP = '582914';
const VISA = { pan: '4539148803436467', expiry: '1230', cvv: '947', otp: OTP };
const MC = { pan: '5425233430109903', expiry: '0629', cvv: '858', otp: OTP };
let redis: RedisServer;
let gw: Gateway;
let logs: LogSink;
let target: string;
const local: SessionEvent[] = [];

beforeAll(async () => {
  redis = await RedisServer.start();
  ({ gw, logs, target } = await startTestGateway({ DEMO_OTP: OTP, REDIS_URL: redis.url, INSTANCE_ID: 'gw-redis-1' }));
  await gw.bus.subscribe((e) => void local.push(e));
});
afterAll(async () => {
  await gw?.close();
  await redis?.stop();
});

const steps = (c: typeof VISA): PayStep[] => [{ pauseMs: 1500 }, { keys: `${c.pan}#` }, { keys: c.expiry }, { keys: c.cvv }, { pauseMs: 9000 }, { keys: c.otp }];
async function pay(headers: Record<string, string>, s: PayStep[]) {
  return runSipp({ scenario: payScenario({ headers, steps: s }), target, localPort: await freePort(), mediaPort: await freeMediaPort(), timeoutS: 90 });
}
const warnings = () => logs.lines.filter((l) => /"level":(40|50)/.test(l)).join('\n');
async function health(): Promise<{ code: number; body: { status: string; details: { redis?: Record<string, unknown> } } }> {
  const res = await fetch(`http://127.0.0.1:${gw.httpPort}/healthz`);
  return { code: res.status, body: (await res.json()) as never };
}
async function sessionsByOrder(orderRef: string): Promise<{ id: string; outcome: string; card: unknown }[]> {
  const res = await fetch(`http://127.0.0.1:${gw.httpPort}/api/sessions?orderRef=${orderRef}`, { headers: { authorization: `Bearer ${gw.supervisorToken}` } });
  return ((await res.json()) as { sessions: { id: string; outcome: string; card: unknown }[] }).sessions;
}

describe('Redis-backed gateway: only masked data goes into Redis', () => {
  it('after a Visa and a Mastercard payment, no key of any type holds a PAN, CVV, expiry or OTP; /metrics and the audit trail moved', async () => {
    const orders: string[] = [];
    for (const card of [VISA, MC]) {
      const headers = payHeaders();
      orders.push(headers['X-Pay-Order-Ref']!);
      const r = await (await pay(headers, steps(card))).done;
      expect(r.code, r.errors + r.stderr + warnings()).toBe(0);
    }
    expect(gw.backend.kind).toBe('redis');
    const [visa, mc] = await Promise.all(orders.map(sessionsByOrder));
    expect(visa).toMatchObject([{ outcome: 'paid', card: { brand: 'visa', first6: '453914', last4: '6467' } }]);
    expect(mc).toMatchObject([{ outcome: 'paid', card: { brand: 'mastercard', first6: '542523', last4: '9903' } }]);
    const dump = await dumpRedis(redis.url);
    // the records, indexes, seq counters, event streams and the heartbeat are there ...
    for (const k of ['hash tonegate:session:', 'zset tonegate:order:', 'stream tonegate:events:', 'string tonegate:seq:', 'string tonegate:instance:gw-redis-1']) {
      expect(dump.text).toContain(k);
    }
    expect(dump.text).toContain('card.identified');
    // ... and none of the card data
    expect(findCardData(dump.text, VISA)).toEqual([]);
    expect(findCardData(dump.text, MC)).toEqual([]);
    // /metrics moved with the payments (scraped, as Prometheus would) ...
    const scrape = await (await fetch(`http://127.0.0.1:${gw.httpPort}/metrics`)).text();
    const value = (re: RegExp) => Number(re.exec(scrape)?.[1] ?? NaN);
    expect(value(/^tonegate_capture_outcomes_total\{outcome="paid"\} (\d+)/m)).toBe(2);
    expect(value(/^tonegate_capture_digits_total\{transport="rfc4733"\} (\d+)/m)).toBe(2 * (16 + 4 + 3 + 6));
    expect(value(/^tonegate_rtp_packets_total\{direction="in"\} (\d+)/m)).toBeGreaterThan(100);
    expect(value(/^tonegate_rtp_packets_total\{direction="out"\} (\d+)/m)).toBeGreaterThan(100);
    expect(value(/^tonegate_provider_request_duration_seconds_count\{provider="payment",op="POST \/v1\/payments",status="\d+"\} (\d+)/m)).toBeGreaterThanOrEqual(2);
    expect(scrape).toMatch(/^tonegate_provider_breaker_state\{provider="payment"\} 0$/m);
    expect(scrape).toMatch(/^tonegate_redis_up 1$/m);
    expect(scrape).toMatch(/^tonegate_active_captures 0$/m);
    expect(scrape).toMatch(/^tonegate_nodejs_eventloop_lag_seconds /m);
    expect(findCardData(scrape, VISA)).toEqual([]);
    // ... and the audit trail holds both sessions and the REST reads, with an intact chain.
    const { readFileSync } = await import('node:fs');
    const { verifyAuditText } = await import('../../src/observability/audit.js');
    const trail = readFileSync(gw.config.AUDIT_LOG, 'utf8');
    expect(verifyAuditText(trail)).toMatchObject({ ok: true });
    const entries = trail.trimEnd().split('\n').map((l) => JSON.parse(l) as { action: string; outcome: string; actor: { kind: string } });
    expect(entries.filter((e) => e.action === 'session.start')).toHaveLength(2);
    expect(entries.filter((e) => e.action === 'session.end' && e.outcome === 'success')).toHaveLength(2);
    expect(entries.filter((e) => e.action === 'api.sessions.read' && e.actor.kind === 'supervisor')).toHaveLength(2);
    expect(findCardData(trail, VISA)).toEqual([]);
    expect(findCardData(trail, MC)).toEqual([]);
    // the scan itself finds card data where there is some
    expect(findCardData(`x ${VISA.pan} ${VISA.cvv} "${VISA.expiry}" otp:${OTP}`, VISA)).toEqual(['pan', 'pan middle digits', 'cvv', 'expiry', 'otp']);
  });
});

describe('Redis outage in the middle of a capture', () => {
  it('the payment completes from memory, /healthz is degraded, and after the restart the buffered events arrive in order with their seq', async () => {
    // Another gateway instance, listening on the same Redis.
    const otherLink = await RedisLink.open({ url: redis.url, logger: silentLogger });
    const other = new RedisEventBus<SessionEvent>({ link: otherLink, logger: silentLogger, instanceId: 'gw-other', keys: new RedisKeys() });
    await other.start();
    const seen: SessionEvent[] = [];
    await other.subscribe((e) => void seen.push(e));

    const headers = payHeaders();
    const orderRef = headers['X-Pay-Order-Ref']!;
    const mine = () => {
      const sid = local.find((e) => e.type === 'session.started' && e.orderRef === orderRef)?.sessionId;
      return sid ? local.filter((e) => e.sessionId === sid) : [];
    };
    const call = await pay(headers, steps(VISA));
    await vi.waitFor(() => expect(mine().some((e) => e.type === 'field.started' && e.field === 'expiry')).toBe(true), { timeout: 30_000, interval: 50 });
    await redis.stop(true); // SIGKILL: Redis crashes mid-capture (and, without persistence, loses its data)
    await vi.waitFor(async () => expect((await health()).code).toBe(503), { timeout: 10_000, interval: 100 });
    const down = await health();
    expect(down.body.status).toBe('degraded');
    expect(down.body.details.redis).toMatchObject({ state: 'down' });
    expect(String(down.body.details.redis!.reason)).not.toBe('');

    const r = await call.done;
    expect(r.code, r.errors + r.stderr + warnings()).toBe(0);
    await vi.waitFor(() => expect(mine().find((e) => e.type === 'session.ended')).toMatchObject({ outcome: 'paid' }), { timeout: 10_000 });
    expect(mine().map((e) => e.seq)).toEqual(mine().map((_, i) => i + 1));
    const during = (await health()).body.details.redis!;
    expect(during.bufferedEvents as number).toBeGreaterThan(0);
    expect(during.pendingWrites as number).toBeGreaterThan(0);
    expect(during.droppedEvents).toBe(0);
    // While Redis is down the REST API answers from this instance's memory.
    expect(await sessionsByOrder(orderRef)).toMatchObject([{ outcome: 'paid' }]);

    await redis.start(); // same port, empty
    await vi.waitFor(async () => expect((await health()).code).toBe(200), { timeout: 15_000, interval: 100 });
    await vi.waitFor(() => expect((gw.backend.redis()!.bufferedEvents)).toBe(0), { timeout: 10_000, interval: 50 });
    expect(gw.backend.redis()!.pendingWrites).toBe(0);

    // The other instance got every event of the session exactly once, in seq order.
    const events = mine();
    const sid = events[0]!.sessionId;
    await vi.waitFor(() => expect(seen.filter((e) => e.sessionId === sid).map((e) => e.seq)).toEqual(events.map((e) => e.seq)), { timeout: 10_000, interval: 50 });
    expect(seen.filter((e) => e.sessionId === sid)).toEqual(events);
    // Redis holds them again (history and record rewritten after the restart).
    expect((await other.replay(sid, 0)).events).toEqual(events);
    const c = createClient({ url: redis.url });
    await c.connect();
    expect(JSON.parse((await c.hGet(`tonegate:session:${sid}`, 'outcome'))!)).toBe('paid');
    await c.close();
    expect(await sessionsByOrder(orderRef)).toMatchObject([{ outcome: 'paid', card: { first6: '453914', last4: '6467' } }]);

    const msgs = logs.messages();
    expect(msgs.filter((m) => m.startsWith('redis down')), msgs.join('\n')).toHaveLength(1);
    expect(msgs.filter((m) => m.startsWith('redis back'))).toHaveLength(1);
    expect(msgs.some((m) => /^redis: published \d+ events buffered during the outage/.test(m))).toBe(true);
    expect(findCardData((await dumpRedis(redis.url)).text, VISA)).toEqual([]);
    await other.close();
    await otherLink.close();
  });
});

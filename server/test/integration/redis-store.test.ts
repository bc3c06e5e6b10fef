import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { createLogger, silentLogger } from '../../src/observability/logger.js';
import { LogSink } from '../support/gateway.js';
import { InstanceHeartbeat, RedisEventBus, RedisKeys, RedisLink, RedisSessionStore } from '../../src/store/index.js';
import { RedisServer } from '../../devtools/redis-server.js';
import { ev, eventBusContract, rec, sessionStoreContract, type Ev } from '../support/store-contract.js';

// The SessionStore and EventBus contracts (also run against memory in server/test/unit/store/)
// against a real redis-server; each instance gets its own key prefix, so tests never see each other.
let redis: RedisServer;
const links: RedisLink[] = [];
const prefix = () => `t${randomBytes(4).toString('hex')}:`;
async function link(): Promise<RedisLink> {
  const l = await RedisLink.open({ url: redis.url, logger: silentLogger });
  links.push(l);
  return l;
}

beforeAll(async () => {
  redis = await RedisServer.start();
});
afterAll(async () => {
  await Promise.all(links.map((l) => l.close()));
  await redis?.stop();
});

sessionStoreContract('RedisSessionStore', async () => new RedisSessionStore({ link: await link(), logger: silentLogger, keys: new RedisKeys(prefix()) }));

eventBusContract('RedisEventBus', async (o = {}) => {
  const bus = new RedisEventBus<Ev>({ link: await link(), logger: silentLogger, instanceId: 'gw-1', keys: new RedisKeys(prefix()), ...o });
  await bus.start();
  return bus;
});

describe('Redis: what a second gateway instance sees', () => {
  it('a session written by one instance is read, listed and updated by another; hashes carry a TTL', async () => {
    const keys = new RedisKeys(prefix());
    const a = new RedisSessionStore({ link: await link(), logger: silentLogger, keys, liveTtlMs: 60_000, endedTtlMs: 600_000 });
    const b = new RedisSessionStore({ link: await link(), logger: silentLogger, keys, liveTtlMs: 60_000, endedTtlMs: 600_000 });
    await a.create(rec('1', { orderRef: 'ORD-X' }));
    await expect(b.create(rec('1'))).rejects.toMatchObject({ code: 'exists' });
    expect((await b.list({ orderRef: 'ORD-X' })).map((r) => r.id)).toEqual(['1']);
    await b.update('1', { outcome: 'failed', endedAt: '2025-01-01T10:09:00.000Z', failureReason: 'instance-lost' });
    expect(await a.get('1')).toMatchObject({ outcome: 'failed', failureReason: 'instance-lost' });
    const ttl = await links[links.length - 1]!.client.pTTL(keys.session('1'));
    expect(ttl).toBeGreaterThan(60_000);
    expect(ttl).toBeLessThanOrEqual(600_000);
  });

  it('an expired session hash disappears from get and list (and from its index)', async () => {
    const keys = new RedisKeys(prefix());
    const l = await link();
    const s = new RedisSessionStore({ link: l, logger: silentLogger, keys, liveTtlMs: 200 });
    const other = new RedisSessionStore({ link: l, logger: silentLogger, keys });
    await s.create(rec('1'));
    await vi.waitFor(async () => expect(await l.client.exists(keys.session('1'))).toBe(0), { timeout: 5_000, interval: 50 });
    expect(await other.get('1')).toBeUndefined();
    expect(await other.list()).toEqual([]);
    expect(await l.client.zCard(keys.sessions())).toBe(0);
  });

  it('two buses on one Redis: seqs are shared, events published on one arrive on the other in order, localOnly sees its own', async () => {
    const keys = new RedisKeys(prefix());
    const a = new RedisEventBus<Ev>({ link: await link(), logger: silentLogger, instanceId: 'gw-a', keys });
    const b = new RedisEventBus<Ev>({ link: await link(), logger: silentLogger, instanceId: 'gw-b', keys });
    await Promise.all([a.start(), b.start()]);
    const onB: string[] = [];
    const localOnB: string[] = [];
    await b.subscribe((e) => onB.push(`${e.sessionId}${e.seq}`));
    await b.subscribe((e) => localOnB.push(`${e.sessionId}${e.seq}`), { localOnly: true });
    for (let i = 1; i <= 3; i++) await a.publish(ev('s', i));
    await b.publish(ev('t', 1));
    // seq atomicity across instances: both publish to one session at once
    const both = await Promise.all([a.publish(ev('u', 1)), b.publish(ev('u', 2)), a.publish(ev('u', 3)), b.publish(ev('u', 4))]);
    expect(both.map((e) => e.seq).sort()).toEqual([1, 2, 3, 4]);
    await vi.waitFor(() => expect(onB.filter((x) => x.startsWith('s'))).toEqual(['s1', 's2', 's3']), { timeout: 5_000 });
    expect(localOnB.filter((x) => !x.startsWith('u'))).toEqual(['t1']);
    expect((await b.replay('s', 1)).events.map((e) => e.n)).toEqual([2, 3]);
    await Promise.all([a.close(), b.close()]);
  });
});

describe('Redis: instance heartbeats', () => {
  it('a live instance is listed; one that stops refreshing expires and exactly one survivor claims it', async () => {
    const keys = new RedisKeys(prefix());
    const l = await link();
    const dying = new InstanceHeartbeat({ link: l, instanceId: 'gw-dying', logger: silentLogger, keys, ttlMs: 300, intervalMs: 100_000 });
    const survivor = new InstanceHeartbeat({ link: l, instanceId: 'gw-ok', logger: silentLogger, keys, ttlMs: 60_000 });
    expect(await dying.beat()).toBe(true);
    expect(await survivor.beat()).toBe(true);
    expect((await survivor.live()).map((i) => i.instanceId).sort()).toEqual(['gw-dying', 'gw-ok']);
    expect(await survivor.claimExpired('gw-dying')).toBe(false);
    await vi.waitFor(async () => expect(await survivor.expired()).toEqual(['gw-dying']), { timeout: 5_000, interval: 50 });
    const claims = await Promise.all([survivor.claimExpired('gw-dying'), survivor.claimExpired('gw-dying')]);
    expect(claims.sort()).toEqual([false, true]);
    expect(await survivor.expired()).toEqual([]);
    await survivor.stop();
    expect(await survivor.live()).toEqual([]);
  });
});

// Last in this file: it stops and restarts the shared redis-server.
describe('Redis outage: the event buffer is bounded', () => {
  it('beyond the bound the oldest buffered events are dropped, logged once, counted; the rest arrive in order', async () => {
    const sink = new LogSink();
    const logger = createLogger('debug', sink);
    const keys = new RedisKeys(prefix());
    const l = await RedisLink.open({ url: redis.url, logger });
    links.push(l);
    const bus = new RedisEventBus<Ev>({ link: l, logger, instanceId: 'gw-1', keys, outageBuffer: 5 });
    await bus.start();
    const observer = new RedisEventBus<Ev>({ link: await link(), logger: silentLogger, instanceId: 'gw-2', keys });
    await observer.start();
    const seen: number[] = [];
    await observer.subscribe((e) => seen.push(e.seq));
    const local: number[] = [];
    await bus.subscribe((e) => local.push(e.seq));
    await bus.publish(ev('a', 1));
    await vi.waitFor(() => expect(seen).toEqual([1]));
    await redis.stop();
    await vi.waitFor(() => expect(l.state).toBe('down'));
    for (let i = 2; i <= 9; i++) await bus.publish(ev('a', i));
    expect(local).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9]); // local subscribers miss nothing
    expect(bus.buffered).toBe(5);
    expect(bus.droppedTotal).toBe(3);
    await redis.start();
    await vi.waitFor(() => expect(bus.buffered).toBe(0), { timeout: 10_000, interval: 50 });
    // Redis restarted empty: this instance wrote back its recent history, so nothing within the bound is lost.
    await vi.waitFor(() => expect(seen).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9]), { timeout: 10_000, interval: 50 });
    expect((await observer.replay('a', 0)).events.map((e) => e.n)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9]);
    const msgs = sink.messages();
    expect(msgs.filter((m) => m.startsWith('redis down'))).toHaveLength(1);
    expect(msgs.filter((m) => m.startsWith('redis back'))).toHaveLength(1);
    expect(msgs.filter((m) => m.startsWith('redis outage: event buffer full (5 events)'))).toHaveLength(1);
    expect(msgs.filter((m) => m.startsWith('redis outage: 3 events were dropped (buffer bound 5)'))).toHaveLength(1);
    await bus.close();
    await observer.close();
  });
});

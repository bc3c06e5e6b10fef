import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createClient } from 'redis';
import { DidPoolError, HandoffCodeError, RedisDidPool, RedisHandoffCodeStore, type Transaction } from '../../src/handoff/index.js';
import { RedisKeys } from '../../src/store/index.js';
import { RedisServer } from '../../devtools/redis-server.js';

/**
 * The Redis handoff stores (handoff/redis-codes.ts, redis-did-pool.ts) against a real
 * redis-server: two "instances" (two connections, as two gateways have) race to reserve and to
 * redeem, and exactly one wins each time; reservations and codes lapse with their TTL.
 */
type Client = ReturnType<typeof createClient>;
let redis: RedisServer;
const clients: Client[] = [];
const txn = (orderRef: string): Transaction => ({ amount: '1499.00', currency: 'INR', merchantId: 'M-DEMO-01', orderRef, customerMobile: '+919800000001' });
const DIDS = ['+912240000100', '+912240000101', '+912240000102'];
let n = 0;

async function client(): Promise<Client> {
  const c = createClient({ url: redis.url });
  await c.connect();
  clients.push(c);
  return c;
}
/** Two instances' views of one Redis, under a key prefix of their own per test. */
async function two(): Promise<{ keys: RedisKeys; a: Client; b: Client }> {
  return { keys: new RedisKeys(`t${++n}:`), a: await client(), b: await client() };
}
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

beforeAll(async () => {
  redis = await RedisServer.start();
});
afterAll(async () => {
  for (const c of clients) await c.quit();
  await redis?.stop();
});

describe('RedisDidPool', () => {
  it('ten concurrent reservations from two instances on a pool of three: three distinct DIDs, seven exhausted with Retry-After', async () => {
    const { keys, a, b } = await two();
    const pools = [new RedisDidPool(DIDS, { client: a, keys, ttlMs: 60_000 }), new RedisDidPool(DIDS, { client: b, keys, ttlMs: 60_000 })];
    const results = await Promise.allSettled(Array.from({ length: 10 }, (_, i) => pools[i % 2]!.reserve(txn(`ORD-${i}`))));
    const won = results.flatMap((r) => (r.status === 'fulfilled' ? [r.value.did] : []));
    const lost = results.flatMap((r) => (r.status === 'rejected' ? [r.reason as unknown] : []));
    expect(new Set(won)).toEqual(new Set(DIDS));
    expect(won).toHaveLength(3);
    expect(lost).toHaveLength(7);
    for (const e of lost) {
      expect(e).toBeInstanceOf(DidPoolError);
      expect((e as DidPoolError).retryAfterS).toBeGreaterThanOrEqual(59);
      expect((e as DidPoolError).retryAfterS).toBeLessThanOrEqual(60);
    }
  });

  it('a reservation made on one instance is redeemed on the other exactly once, even when both race for it', async () => {
    const { keys, a, b } = await two();
    const [pa, pb] = [new RedisDidPool(DIDS, { client: a, keys }), new RedisDidPool(DIDS, { client: b, keys })];
    for (let round = 0; round < 20; round++) {
      const { did } = await pa.reserve(txn(`ORD-R${round}`));
      const got = await Promise.all([pa.redeem(did), pb.redeem(did), pb.redeem(did), pa.redeem(did)]);
      expect(got.filter(Boolean)).toEqual([txn(`ORD-R${round}`)]);
      expect(await pb.redeem(did)).toBeUndefined();
    }
    // every DID is free again
    for (let i = 0; i < 3; i++) await pb.reserve(txn(`ORD-F${i}`));
    await expect(pa.reserve(txn('ORD-X'))).rejects.toBeInstanceOf(DidPoolError);
  });

  it('a reservation lapses after its TTL: nothing to redeem, and the DID is reserved anew', async () => {
    const { keys, a, b } = await two();
    const pool = new RedisDidPool(['+912240000100'], { client: a, keys, ttlMs: 300 });
    const other = new RedisDidPool(['+912240000100'], { client: b, keys, ttlMs: 300 });
    const { did } = await pool.reserve(txn('OLD'));
    await expect(other.reserve(txn('NEW'))).rejects.toBeInstanceOf(DidPoolError);
    await sleep(450);
    expect(await other.redeem(did)).toBeUndefined();
    await other.reserve(txn('NEW'));
    expect(await pool.redeem(did)).toEqual(txn('NEW'));
  });

  it('a DID outside the pool is never looked up; a corrupt stored value is a HandoffCodeError naming the problem, not the value', async () => {
    const { keys, a } = await two();
    const pool = new RedisDidPool(DIDS, { client: a, keys });
    await a.set(keys.did('+912240000999'), JSON.stringify(txn('OUTSIDE')));
    expect(await pool.redeem('+912240000999')).toBeUndefined();
    await a.set(keys.did(DIDS[0]!), '{"amount":"1.00","pan":"4111111111111111"}');
    const err = await pool.redeem(DIDS[0]!).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(HandoffCodeError);
    expect((err as Error).message).toMatch(/unknown field pan/);
    expect((err as Error).message).not.toContain('4111');
    expect(await a.exists(keys.did(DIDS[0]!))).toBe(0); // taken all the same: a bad value is not retried forever
  });
});

describe('RedisHandoffCodeStore', () => {
  it('a numeric code issued on one instance is redeemed on the other exactly once, whatever the race', async () => {
    const { keys, a, b } = await two();
    const [sa, sb] = [new RedisHandoffCodeStore({ client: a, keys, format: 'numeric' }), new RedisHandoffCodeStore({ client: b, keys })];
    for (let round = 0; round < 20; round++) {
      const { code } = await sa.issue(txn(`ORD-C${round}`));
      expect(code).toMatch(/^\d{16}$/);
      const got = await Promise.all([sb.redeem(code), sa.redeem(code), sb.redeem(code)]);
      expect(got.filter(Boolean)).toEqual([txn(`ORD-C${round}`)]);
    }
    expect(await a.zCard(keys.handoffs())).toBe(0); // the index dropped every redeemed code
  });

  it('issues the format asked (alnum by default) and keeps only the transaction JSON in Redis', async () => {
    const { keys, a } = await two();
    const s = new RedisHandoffCodeStore({ client: a, keys });
    const { code } = await s.issue(txn('ORD-J'));
    expect(code).toMatch(/^[0-9a-hjkmnp-tv-z]{12}$/);
    expect(JSON.parse((await a.get(keys.handoff(code)))!)).toEqual(txn('ORD-J'));
    expect(await a.pTTL(keys.handoff(code))).toBeGreaterThan(290_000);
    expect(await s.redeem(code.toUpperCase())).toEqual(txn('ORD-J'));
  });

  it('codes lapse with their TTL, and a full store refuses more until one lapses', async () => {
    const { keys, a, b } = await two();
    const sa = new RedisHandoffCodeStore({ client: a, keys, ttlMs: 300, maxOutstanding: 2 });
    const sb = new RedisHandoffCodeStore({ client: b, keys, ttlMs: 300, maxOutstanding: 2 });
    const first = await sa.issue(txn('ORD-1'));
    await sb.issue(txn('ORD-2'));
    await expect(sa.issue(txn('ORD-3'))).rejects.toMatchObject({ code: 'full' });
    await sleep(450);
    expect(await sb.redeem(first.code)).toBeUndefined();
    await sb.issue(txn('ORD-4'));
  });
});

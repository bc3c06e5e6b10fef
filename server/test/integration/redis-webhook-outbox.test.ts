import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RedisOutbox } from '../../src/outcomes/index.js';
import { RedisServer } from '../support/redis-server.js';

const entry = (id: string, at = 1) => ({ id, body: JSON.stringify({ id }), createdAt: at });

describe('RedisOutbox (real redis-server)', () => {
  let redis: RedisServer;
  beforeAll(async () => {
    redis = await RedisServer.start();
  });
  afterAll(async () => {
    await redis?.stop();
  });

  it('shares waiting entries between instances, enqueues an outcome once, and lets one instance at a time claim it', async () => {
    const a = await RedisOutbox.open(redis.url);
    const b = await RedisOutbox.open(redis.url);
    expect(await a.append(entry('s1:paid', 1))).toBe(true);
    expect(await b.append(entry('s1:paid', 1))).toBe(false); // the other instance saw the same event
    expect((await b.pending()).map((e) => e.id)).toEqual(['s1:paid']);
    expect(await a.claim('s1:paid', 'gw-a', 5_000)).toBe(true);
    expect(await b.claim('s1:paid', 'gw-b', 5_000)).toBe(false);
    await a.settle('s1:paid', 'delivered');
    expect(await b.pending()).toEqual([]);
    expect(await b.append(entry('s1:paid', 1))).toBe(false); // delivered: never again
    await Promise.all([a.close(), b.close()]);
  });
});

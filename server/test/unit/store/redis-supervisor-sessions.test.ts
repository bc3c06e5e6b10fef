import { describe, expect, it } from 'vitest';
import type { SharedRedis } from '../../../src/store/backend.js';
import { RedisKeys } from '../../../src/store/redis-keys.js';
import { RedisSupervisorSessions } from '../../../src/store/redis-supervisor-sessions.js';

/** A SharedRedis whose scripts answer `reply` (or reject with it), recording what was asked. */
function fakeRedis(reply: unknown | Error) {
  const calls: { keys: string[]; args: string[] | undefined; what: string | undefined }[] = [];
  const redis: SharedRedis = {
    keys: new RedisKeys('tg:'),
    timeoutMs: 100,
    eval: async (_script, opts, what) => {
      calls.push({ keys: opts.keys, args: opts.arguments, what });
      if (reply instanceof Error) throw reply;
      return reply;
    },
  };
  return { redis, calls };
}

describe('RedisSupervisorSessions: what Redis answers is checked like any outside input', () => {
  it.each([
    ['a valid name', 'asha', 'asha'],
    ['nothing (ended or never opened)', null, undefined],
    ['a number', 42, undefined],
    ['an empty string', '', undefined],
    ['a name with a space', 'asha admin', undefined],
    ['a JSON object', '{"n":"asha"}', undefined],
    ['a name longer than 64 characters', 'a'.repeat(65), undefined],
    ['control characters', 'asha\r\nX: y', undefined],
  ])('touch with %s answers %s', async (_what, reply, expected) => {
    const { redis, calls } = fakeRedis(reply);
    expect(await new RedisSupervisorSessions(redis).touch('k1', 900_000)).toBe(expected);
    expect(calls).toEqual([{ keys: ['tg:supervisor-session:k1'], args: ['900000'], what: 'supervisor session read' }]);
  });

  it('put stores the name under the token hash with the idle timeout (at least 1 ms) as TTL', async () => {
    const { redis, calls } = fakeRedis(1);
    const s = new RedisSupervisorSessions(redis);
    await s.put('k2', 'asha', 900_000);
    await s.put('k3', 'asha', 0);
    expect(calls.map((c) => [c.keys[0], c.args])).toEqual([['tg:supervisor-session:k2', ['asha', '900000']], ['tg:supervisor-session:k3', ['asha', '1']]]);
  });

  it('Redis down or late: every method rejects (the caller reports it and goes on from memory)', async () => {
    const { redis } = fakeRedis(new Error('Redis not answering within 100 ms'));
    const s = new RedisSupervisorSessions(redis);
    await expect(s.touch('k', 1000)).rejects.toThrow(/not answering/);
    await expect(s.put('k', 'asha', 1000)).rejects.toThrow(/not answering/);
    await expect(s.drop('k')).rejects.toThrow(/not answering/);
  });
});

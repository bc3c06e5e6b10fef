import { describe, expect, it } from 'vitest';
import { MemorySessionStore } from '../../../src/store/index.js';
import { FakeClock } from '../../support/fake-clock.js';
import { rec, sessionStoreContract } from '../../support/store-contract.js';

// The behaviour shared with the Redis store (server/test/integration/redis-store.test.ts).
sessionStoreContract('MemorySessionStore', async () => new MemorySessionStore());

describe('MemorySessionStore', () => {
  it('ended sessions expire after endedTtlMs and live ones after liveTtlMs without updates', async () => {
    const clock = new FakeClock();
    const s = new MemorySessionStore({ clock, endedTtlMs: 1_000, liveTtlMs: 5_000 });
    await s.create(rec('1'));
    await s.create(rec('2'));
    await s.update('2', { outcome: 'paid', endedAt: '2025-01-01T10:05:00.000Z' });
    clock.advance(1_000);
    expect(await s.get('2')).toBeUndefined();
    expect(await s.get('1')).toBeDefined();
    clock.advance(4_000);
    expect(await s.list()).toEqual([]);
  });

  it('when full, evicts the oldest ended session before any live one', async () => {
    const s = new MemorySessionStore({ maxSessions: 2 });
    await s.create(rec('1'));
    await s.create(rec('2', { outcome: 'declined', endedAt: '2025-01-01T10:05:00.000Z' }));
    await s.create(rec('3'));
    expect((await s.list()).map((r) => r.id).sort()).toEqual(['1', '3']);
    await s.create(rec('4'));
    expect((await s.list()).map((r) => r.id).sort()).toEqual(['3', '4']);
    expect(s.size).toBe(2);
  });
});

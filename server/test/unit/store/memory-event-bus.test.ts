import { describe, expect, it } from 'vitest';
import { MemoryEventBus } from '../../../src/store/index.js';
import { FakeClock } from '../../support/fake-clock.js';
import { ev, eventBusContract, type Ev } from '../../support/store-contract.js';

// The behaviour shared with the Redis bus (server/test/integration/redis-store.test.ts).
eventBusContract('MemoryEventBus', async (o = {}) => new MemoryEventBus<Ev>(o));

describe('MemoryEventBus', () => {
  it('history of the least recently active sessions is dropped beyond maxSessions and after the TTL', async () => {
    const clock = new FakeClock();
    const bus = new MemoryEventBus<Ev>({ maxSessions: 2, historyTtlMs: 1_000, clock });
    await bus.publish(ev('a', 1));
    await bus.publish(ev('b', 1));
    await bus.publish(ev('c', 1));
    expect((await bus.replay('a', 0)).events).toEqual([]);
    expect((await bus.replay('c', 0)).events).toHaveLength(1);
    clock.advance(1_000);
    expect(await bus.replay('c', 1)).toMatchObject({ events: [], truncated: true, lastSeq: 0 });
  });
});

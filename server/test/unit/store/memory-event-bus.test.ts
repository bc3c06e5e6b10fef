import { describe, expect, it } from 'vitest';
import { MemoryEventBus } from '../../../src/store/index.js';
import { FakeClock } from '../../support/fake-clock.js';
import { ev, eventBusContract, type Ev } from '../../support/store-contract.js';

// The behaviour shared with the Redis bus (server/test/integration/redis-store.test.ts).
eventBusContract('MemoryEventBus', async (o = {}) => new MemoryEventBus<Ev>(o));
// The same contract with every history packed as soon as it is published to (packAfterMs 0): every
// replay and every later publish goes through packing and unpacking.
eventBusContract('MemoryEventBus, histories packed at once', async (o = {}) => new MemoryEventBus<Ev>({ ...o, packAfterMs: 0 }));

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

  it('packs a history quiet for packAfterMs, replays it unchanged, and unpacks it when published to again', async () => {
    const clock = new FakeClock();
    const bus = new MemoryEventBus<Ev>({ packAfterMs: 30_000, clock });
    const a = [];
    for (let n = 1; n <= 40; n++) {
      const e = { ...ev('a', n), detail: { masked: '•••• 1111', n } }; // nested data survives packing too
      a.push(await bus.publish(e));
    }
    clock.advance(29_999);
    await bus.publish(ev('b', 1));
    expect(bus.retained).toMatchObject({ sessions: 2, packed: 0 });
    clock.advance(1);
    await bus.publish(ev('b', 2)); // packing happens on a publish
    expect(bus.retained).toMatchObject({ sessions: 2, packed: 1 });
    expect(bus.retained.packedBytes).toBeGreaterThan(0);
    expect(bus.retained.packedBytes).toBeLessThan(JSON.stringify(a).length / 4); // 40 near-alike events deflate well
    expect(await bus.replay('a', 0)).toEqual({ events: a, truncated: false, lastSeq: 40 });
    expect(await bus.replay('a', 38)).toEqual({ events: a.slice(38), truncated: false, lastSeq: 40 });
    expect(await bus.replay('a', 40)).toEqual({ events: [], truncated: false, lastSeq: 40 });

    const got: Ev[] = [];
    await bus.subscribe((e) => got.push(e), { resume: { a: 39 } });
    expect(got).toEqual([a[39]]);
    expect((await bus.publish(ev('a', 41))).seq).toBe(41); // the sequence goes on from the packed history
    expect(bus.retained).toMatchObject({ sessions: 2, packed: 0 });
    expect((await bus.replay('a', 0)).events.map((e) => e.seq)).toEqual(Array.from({ length: 41 }, (_, i) => i + 1));
    expect(got.map((e) => e.seq)).toEqual([40, 41]);
  });

  it('evicts packed histories before hot ones, and a history published to again is the most recent', async () => {
    const clock = new FakeClock();
    const bus = new MemoryEventBus<Ev>({ maxSessions: 3, packAfterMs: 10, clock });
    await bus.publish(ev('a', 1));
    await bus.publish(ev('b', 1));
    clock.advance(10);
    await bus.publish(ev('c', 1)); // packs a and b
    expect(bus.retained).toMatchObject({ sessions: 3, packed: 2 });
    await bus.publish(ev('a', 2)); // a unpacked: now the most recent; b is the least recent
    await bus.publish(ev('d', 1)); // one over the cap: b goes
    expect((await bus.replay('b', 0)).events).toEqual([]);
    expect((await bus.replay('a', 0)).events.map((e) => e.seq)).toEqual([1, 2]);
    expect(bus.retained.sessions).toBe(3);
    await bus.publish(ev('e', 1)); // c, hot but now the least recent, goes next
    expect((await bus.replay('c', 0)).events).toEqual([]);
    expect((await bus.replay('a', 0)).events).toHaveLength(2);
  });

  it('drops a packed history after the TTL like a hot one', async () => {
    const clock = new FakeClock();
    const bus = new MemoryEventBus<Ev>({ historyTtlMs: 1_000, packAfterMs: 100, clock });
    await bus.publish(ev('a', 1));
    clock.advance(100);
    await bus.publish(ev('b', 1));
    expect(bus.retained.packed).toBe(1);
    expect((await bus.replay('a', 0)).events).toHaveLength(1);
    clock.advance(900);
    expect(await bus.replay('a', 0)).toEqual({ events: [], truncated: false, lastSeq: 0 });
    await bus.publish(ev('b', 2)); // trims the expired one
    expect(bus.retained).toMatchObject({ sessions: 1, packed: 0 });
    expect((await bus.publish(ev('a', 2))).seq).toBe(1); // an expired history starts over
  });
});

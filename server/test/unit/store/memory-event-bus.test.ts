import { describe, expect, it } from 'vitest';
import { MemoryEventBus, type HistoryCodec } from '../../../src/store/index.js';
import { packHistory, PackedHistoryError, unpackHistory } from '../../../src/store/packed-history.js';
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

describe('MemoryEventBus, a packed history that cannot be unpacked', () => {
  // The bytes never leave the process, so only a defect can make them unreadable; the bus must then
  // neither throw on the session's next publish or replay nor restart its sequence.
  // Packs made while `corrupting` is on come back truncated (an unreadable deflate stream).
  let corrupting = true;
  function brokenBus(clock: FakeClock, errors: Array<[unknown, string]>): MemoryEventBus<Ev> {
    corrupting = true;
    const broken = new WeakSet<Uint8Array>();
    const codec: HistoryCodec = {
      pack: (h) => {
        const p = packHistory(h);
        if (corrupting) broken.add(p.bytes);
        return p;
      },
      unpack: (p) => unpackHistory(broken.has(p.bytes) ? { ...p, bytes: p.bytes.slice(0, 3) } : p),
    };
    return new MemoryEventBus<Ev>({ packAfterMs: 10, clock, codec, onHistoryError: (err, sid) => errors.push([err, sid]) });
  }

  it('a publish reports it, keeps the sequence going, and replay says what is lost', async () => {
    const clock = new FakeClock();
    const errors: Array<[unknown, string]> = [];
    const bus = brokenBus(clock, errors);
    for (let n = 1; n <= 3; n++) await bus.publish(ev('a', n));
    clock.advance(10);
    await bus.publish(ev('b', 1)); // packs a
    expect(bus.retained).toMatchObject({ packed: 1 });
    const got: Ev[] = [];
    await bus.subscribe((e) => got.push(e), { sessionId: 'a' });
    const fourth = await bus.publish(ev('a', 4));
    expect(fourth.seq).toBe(4);
    expect(got).toEqual([fourth]);
    expect(errors).toHaveLength(1);
    expect(errors[0]![0]).toBeInstanceOf(PackedHistoryError);
    expect(errors[0]![1]).toBe('a');
    expect(await bus.replay('a', 0)).toEqual({ events: [fourth], truncated: true, lastSeq: 4 });
    expect(await bus.replay('a', 3)).toEqual({ events: [fourth], truncated: false, lastSeq: 4 });
  });

  it('a replay or a resuming subscriber reports it once, gets nothing marked truncated, and later publishes go on', async () => {
    const clock = new FakeClock();
    const errors: Array<[unknown, string]> = [];
    const bus = brokenBus(clock, errors);
    await bus.publish(ev('a', 1));
    await bus.publish(ev('a', 2));
    clock.advance(10);
    await bus.publish(ev('b', 1)); // packs a
    corrupting = false; // only that pack is bad
    expect(await bus.replay('a', 0)).toEqual({ events: [], truncated: true, lastSeq: 2 });
    expect(errors.map(([, sid]) => sid)).toEqual(['a']);
    expect(await bus.replay('a', 2)).toEqual({ events: [], truncated: false, lastSeq: 2 });
    const got: Ev[] = [];
    const sub = await bus.subscribe((e) => got.push(e), { resume: { a: 1 } });
    expect(sub.truncated).toEqual(['a']);
    expect(got).toEqual([]);
    expect(errors).toHaveLength(1); // the unreadable bytes were replaced by an empty history, not met again
    expect((await bus.publish(ev('a', 3))).seq).toBe(3);
    expect(bus.retained).toMatchObject({ sessions: 2 });
  });

  it('a reporter that throws does not break the publish', async () => {
    const clock = new FakeClock();
    const bus = new MemoryEventBus<Ev>({
      packAfterMs: 0, clock,
      codec: { pack: packHistory, unpack: () => { throw new PackedHistoryError('unreadable'); } },
      onHistoryError: () => { throw new Error('reporter down'); },
    });
    await bus.publish(ev('a', 1));
    expect((await bus.publish(ev('a', 2))).seq).toBe(2);
  });
});

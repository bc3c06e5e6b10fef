import { describe, expect, it } from 'vitest';
import { EventBusClosedError, MemoryEventBus, type BusEvent } from '../../../src/store/index.js';
import { FakeClock } from '../../support/fake-clock.js';

interface Ev extends BusEvent {
  readonly type: 'ping';
  readonly n: number;
}
const ev = (sessionId: string, n: number) => ({ type: 'ping' as const, sessionId, at: '2025-01-01T00:00:00.000Z', n });

describe('MemoryEventBus', () => {
  it('numbers events per session from 1 without gaps', async () => {
    const bus = new MemoryEventBus<Ev>();
    expect((await bus.publish(ev('a', 1))).seq).toBe(1);
    expect((await bus.publish(ev('b', 1))).seq).toBe(1);
    expect((await bus.publish(ev('a', 2))).seq).toBe(2);
  });

  it('delivers to all-session and per-session subscribers', async () => {
    const bus = new MemoryEventBus<Ev>();
    const all: string[] = [];
    const onlyA: number[] = [];
    await bus.subscribe((e) => all.push(`${e.sessionId}${e.seq}`));
    const sub = await bus.subscribe((e) => onlyA.push(e.n), { sessionId: 'a' });
    await bus.publish(ev('a', 1));
    await bus.publish(ev('b', 7));
    await sub.unsubscribe();
    await bus.publish(ev('a', 2));
    expect(all).toEqual(['a1', 'b1', 'a2']);
    expect(onlyA).toEqual([1]);
  });

  it("a subscriber's exception neither reaches the publisher nor stops other subscribers", async () => {
    const errors: unknown[] = [];
    const bus = new MemoryEventBus<Ev>({ onListenerError: (e) => errors.push(e) });
    const got: number[] = [];
    await bus.subscribe(() => {
      throw new Error('bad listener');
    });
    await bus.subscribe((e) => got.push(e.n));
    await expect(bus.publish(ev('a', 1))).resolves.toMatchObject({ seq: 1 });
    expect(got).toEqual([1]);
    expect(errors).toHaveLength(1);
  });

  it('a reconnecting subscriber resumes after its last seq: nothing lost, nothing twice', async () => {
    const bus = new MemoryEventBus<Ev>();
    for (let i = 1; i <= 5; i++) await bus.publish(ev('a', i));
    const got: number[] = [];
    const sub = await bus.subscribe((e) => got.push(e.seq), { sessionId: 'a', resume: { a: 3 } });
    await bus.publish(ev('a', 6));
    expect(got).toEqual([4, 5, 6]);
    expect(sub.truncated).toEqual([]);
  });

  it('history is bounded per session and a resume point older than it is reported truncated', async () => {
    const bus = new MemoryEventBus<Ev>({ historyPerSession: 3 });
    for (let i = 1; i <= 6; i++) await bus.publish(ev('a', i));
    const r = await bus.replay('a', 1);
    expect(r.events.map((e) => e.seq)).toEqual([4, 5, 6]);
    expect(r).toMatchObject({ truncated: true, lastSeq: 6 });
    expect((await bus.replay('a', 3)).truncated).toBe(false);
    const sub = await bus.subscribe(() => {}, { resume: { a: 0 } });
    expect(sub.truncated).toEqual(['a']);
  });

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

  it('close() is idempotent and later publishes reject', async () => {
    const bus = new MemoryEventBus<Ev>();
    await bus.close();
    await bus.close();
    await expect(bus.publish(ev('a', 1))).rejects.toBeInstanceOf(EventBusClosedError);
  });
});

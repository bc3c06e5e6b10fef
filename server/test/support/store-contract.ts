import { describe, expect, it } from 'vitest';
import { EventBusClosedError, SessionStoreError, type BusEvent, type EventBus, type SessionRecord, type SessionStore } from '../../src/store/index.js';

/**
 * Behaviour every SessionStore and EventBus must have, memory or Redis: the same suites
 * run in server/test/unit/store/ against memory and in server/test/integration/redis-store.test.ts
 * against a real redis-server. A factory returns a fresh, empty instance.
 */
export const rec = (id: string, o: Partial<SessionRecord> = {}): SessionRecord => ({
  id,
  state: 'pan',
  field: 'pan',
  outcome: null,
  orderRef: 'ORD-1',
  amount: '1499.00',
  currency: 'INR',
  merchantId: 'M-1',
  agentId: 'agent-1',
  dtmfTransport: null,
  card: null,
  startedAt: `2025-01-01T10:00:${id.padStart(2, '0').slice(-2)}.000Z`,
  endedAt: null,
  instanceId: 'gw-1',
  ...o,
});

export function sessionStoreContract(name: string, make: () => Promise<SessionStore>): void {
  describe(`${name}: SessionStore contract`, () => {
    it('creates, gets, updates and lists a session, returning copies', async () => {
      const s = await make();
      await s.create(rec('1'));
      const got = await s.get('1');
      expect(got).toEqual(rec('1'));
      got!.state = 'mutated';
      expect((await s.get('1'))!.state).toBe('pan');
      const u = await s.update('1', { state: 'expiry', card: { brand: 'visa', first6: '411111', last4: '1111' } });
      expect(u.card).toEqual({ brand: 'visa', first6: '411111', last4: '1111' });
      expect(await s.get('1')).toEqual(u);
      expect(await s.list()).toHaveLength(1);
      await s.close();
    });

    it('pages newest first with limit and a (startedAt, id) cursor: every session exactly once, ties by id', async () => {
      const s = await make();
      const same = '2025-01-01T10:00:30.000Z';
      for (const id of ['1', '2', '3']) await s.create(rec(id));
      for (const id of ['a', 'b', 'c']) await s.create(rec(id, { startedAt: same })); // started in the same instant
      const seen: string[] = [];
      let before: { startedAt: string; id: string } | undefined;
      for (let i = 0; i < 10; i++) {
        const page = await s.list({ limit: 2, ...(before ? { before } : {}) });
        seen.push(...page.map((r) => r.id));
        if (page.length < 2) break;
        const last = page[page.length - 1]!;
        before = { startedAt: last.startedAt, id: last.id };
      }
      expect(seen).toEqual(['c', 'b', 'a', '3', '2', '1']);
      // A card of a short PAN carries the last 4 only.
      await s.update('1', { card: { brand: 'diners', first6: null, last4: '1667' } });
      expect((await s.get('1'))!.card).toEqual({ brand: 'diners', first6: null, last4: '1667' });
      await s.close();
    });

    it('a second create with the same id is refused', async () => {
      const s = await make();
      await s.create(rec('1'));
      await expect(s.create(rec('1'))).rejects.toMatchObject({ code: 'exists' });
      await s.close();
    });

    it('updating an unknown session is refused with not-found', async () => {
      const s = await make();
      await expect(s.update('x', { state: 'done' })).rejects.toMatchObject({ code: 'not-found' });
      expect(await s.get('x')).toBeUndefined();
      await s.close();
    });

    it('a record with a key outside the contract (a stray pan) is refused and the message holds no value', async () => {
      const s = await make();
      const bad = { ...rec('1'), pan: '4111111111111111' } as unknown as SessionRecord;
      const err = await s.create(bad).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(SessionStoreError);
      expect((err as Error).message).not.toContain('4111111111111111');
      expect(await s.get('1')).toBeUndefined();
      await s.close();
    });

    it('a card with more than first 6 / last 4 is refused', async () => {
      const s = await make();
      await s.create(rec('1'));
      await expect(s.update('1', { card: { brand: 'visa', first6: '4111111111', last4: '1111' } })).rejects.toMatchObject({ code: 'invalid' });
      await expect(s.update('1', { card: { brand: 'visa', first6: '411111', last4: '1111', pan: '4111111111111111' } as never })).rejects.toMatchObject({
        code: 'invalid',
      });
      expect((await s.get('1'))!.card).toBeNull();
      await s.close();
    });

    it('id, instanceId and startedAt cannot be changed by an update', async () => {
      const s = await make();
      await s.create(rec('1'));
      await expect(s.update('1', { id: '2' } as never)).rejects.toMatchObject({ code: 'invalid' });
      await expect(s.update('1', { instanceId: 'gw-2' } as never)).rejects.toMatchObject({ code: 'invalid' });
      await s.close();
    });

    it('an optional key set to undefined by an update is removed', async () => {
      const s = await make();
      await s.create(rec('1', { failureReason: 'x' }));
      await s.update('1', { failureReason: undefined });
      expect(await s.get('1')).not.toHaveProperty('failureReason');
      await s.close();
    });

    it('lists by orderRef, agentId, instanceId and status, newest first, with a limit', async () => {
      const s = await make();
      await s.create(rec('1', { orderRef: 'A', agentId: 'agent-1' }));
      await s.create(rec('2', { orderRef: 'B', agentId: 'agent-2', outcome: 'paid', endedAt: '2025-01-01T10:05:00.000Z', instanceId: 'gw-2' }));
      await s.create(rec('3', { orderRef: 'A', agentId: 'agent-2' }));
      await s.create(rec('4', { orderRef: 'C', agentId: null }));
      expect((await s.list({ orderRef: 'A' })).map((r) => r.id)).toEqual(['3', '1']);
      expect((await s.list({ agentId: 'agent-2' })).map((r) => r.id)).toEqual(['3', '2']);
      expect((await s.list({ instanceId: 'gw-2' })).map((r) => r.id)).toEqual(['2']);
      expect((await s.list({ status: 'ended' })).map((r) => r.id)).toEqual(['2']);
      expect((await s.list({ status: 'live', limit: 1 })).map((r) => r.id)).toEqual(['4']);
      expect((await s.list()).map((r) => r.id)).toEqual(['4', '3', '2', '1']);
      expect(await s.list({ orderRef: 'none' })).toEqual([]);
      await s.close();
    });

    it('close() is idempotent and later calls reject', async () => {
      const s = await make();
      await s.close();
      await s.close();
      await expect(s.get('1')).rejects.toMatchObject({ code: 'closed' });
      await expect(s.create(rec('1'))).rejects.toMatchObject({ code: 'closed' });
    });
  });
}

export interface Ev extends BusEvent {
  readonly type: 'ping';
  readonly n: number;
  readonly tags?: readonly string[];
}
export const ev = (sessionId: string, n: number) => ({ type: 'ping' as const, sessionId, at: '2025-01-01T00:00:00.000Z', n });

export interface BusFactoryOptions {
  readonly historyPerSession?: number;
  readonly onListenerError?: (err: unknown) => void;
}

export function eventBusContract(name: string, make: (o?: BusFactoryOptions) => Promise<EventBus<Ev>>): void {
  describe(`${name}: EventBus contract`, () => {
    it('numbers events per session from 1 without gaps', async () => {
      const bus = await make();
      expect((await bus.publish(ev('a', 1))).seq).toBe(1);
      expect((await bus.publish(ev('b', 1))).seq).toBe(1);
      expect((await bus.publish(ev('a', 2))).seq).toBe(2);
      await bus.close();
    });

    it('concurrent publishes for one session get distinct consecutive seqs, delivered in seq order', async () => {
      const bus = await make();
      const got: number[] = [];
      await bus.subscribe((e) => got.push(e.seq));
      const stamped = await Promise.all(Array.from({ length: 20 }, (_, i) => bus.publish(ev('a', i))));
      expect(stamped.map((e) => e.seq).sort((x, y) => x - y)).toEqual(Array.from({ length: 20 }, (_, i) => i + 1));
      expect(got).toEqual(Array.from({ length: 20 }, (_, i) => i + 1));
      await bus.close();
    });

    it('an event keeps its fields, arrays included, through the bus and its history', async () => {
      const bus = await make();
      const e = { ...ev('a', 1), tags: [] as string[] };
      const got: Ev[] = [];
      await bus.subscribe((x) => got.push(x));
      await bus.publish(e);
      expect(got).toEqual([{ ...e, seq: 1 }]);
      expect((await bus.replay('a', 0)).events).toEqual([{ ...e, seq: 1 }]);
      await bus.close();
    });

    it('delivers to all-session and per-session subscribers', async () => {
      const bus = await make();
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
      await bus.close();
    });

    it("a subscriber's exception neither reaches the publisher nor stops other subscribers", async () => {
      const errors: unknown[] = [];
      const bus = await make({ onListenerError: (e) => errors.push(e) });
      const got: number[] = [];
      await bus.subscribe(() => {
        throw new Error('bad listener');
      });
      await bus.subscribe((e) => got.push(e.n));
      await expect(bus.publish(ev('a', 1))).resolves.toMatchObject({ seq: 1 });
      expect(got).toEqual([1]);
      expect(errors).toHaveLength(1);
      await bus.close();
    });

    it('a reconnecting subscriber resumes after its last seq: nothing lost, nothing twice', async () => {
      const bus = await make();
      for (let i = 1; i <= 5; i++) await bus.publish(ev('a', i));
      const got: number[] = [];
      const sub = await bus.subscribe((e) => got.push(e.seq), { sessionId: 'a', resume: { a: 3 } });
      await bus.publish(ev('a', 6));
      expect(got).toEqual([4, 5, 6]);
      expect(sub.truncated).toEqual([]);
      await bus.close();
    });

    it('history is bounded per session and a resume point older than it is reported truncated', async () => {
      const bus = await make({ historyPerSession: 3 });
      for (let i = 1; i <= 6; i++) await bus.publish(ev('a', i));
      const r = await bus.replay('a', 1);
      expect(r.events.map((e) => e.seq)).toEqual([4, 5, 6]);
      expect(r).toMatchObject({ truncated: true, lastSeq: 6 });
      expect((await bus.replay('a', 3)).truncated).toBe(false);
      expect(await bus.replay('never', 0)).toMatchObject({ events: [], truncated: false, lastSeq: 0 });
      const sub = await bus.subscribe(() => {}, { resume: { a: 0 } });
      expect(sub.truncated).toEqual(['a']);
      await bus.close();
    });

    it('close() is idempotent and later publishes reject', async () => {
      const bus = await make();
      await bus.close();
      await bus.close();
      await expect(bus.publish(ev('a', 1))).rejects.toBeInstanceOf(EventBusClosedError);
      await expect(bus.subscribe(() => {})).rejects.toBeInstanceOf(EventBusClosedError);
    });
  });
}

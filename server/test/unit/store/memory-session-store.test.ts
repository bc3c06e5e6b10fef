import { describe, expect, it } from 'vitest';
import { MemorySessionStore, SessionStoreError, type SessionRecord } from '../../../src/store/index.js';
import { FakeClock } from '../../support/fake-clock.js';

const rec = (id: string, o: Partial<SessionRecord> = {}): SessionRecord => ({
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

describe('MemorySessionStore', () => {
  it('creates, gets, updates and lists a session, returning copies', async () => {
    const s = new MemorySessionStore();
    await s.create(rec('1'));
    const got = await s.get('1');
    expect(got).toEqual(rec('1'));
    got!.state = 'mutated';
    expect((await s.get('1'))!.state).toBe('pan');
    const u = await s.update('1', { state: 'expiry', card: { brand: 'visa', first6: '411111', last4: '1111' } });
    expect(u.card).toEqual({ brand: 'visa', first6: '411111', last4: '1111' });
    expect(await s.list()).toHaveLength(1);
  });

  it('a second create with the same id is refused', async () => {
    const s = new MemorySessionStore();
    await s.create(rec('1'));
    await expect(s.create(rec('1'))).rejects.toMatchObject({ code: 'exists' });
  });

  it('updating an unknown session is refused with not-found', async () => {
    await expect(new MemorySessionStore().update('x', { state: 'done' })).rejects.toMatchObject({ code: 'not-found' });
  });

  it('a record with a key outside the contract (a stray pan) is refused and the message holds no value', async () => {
    const s = new MemorySessionStore();
    const bad = { ...rec('1'), pan: '4111111111111111' } as unknown as SessionRecord;
    const err = await s.create(bad).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(SessionStoreError);
    expect((err as Error).message).not.toContain('4111111111111111');
  });

  it('a card with more than first 6 / last 4 is refused', async () => {
    const s = new MemorySessionStore();
    await s.create(rec('1'));
    await expect(s.update('1', { card: { brand: 'visa', first6: '4111111111', last4: '1111' } })).rejects.toMatchObject({ code: 'invalid' });
    await expect(s.update('1', { card: { brand: 'visa', first6: '411111', last4: '1111', pan: '4111111111111111' } as never })).rejects.toMatchObject({
      code: 'invalid',
    });
  });

  it('id, instanceId and startedAt cannot be changed by an update', async () => {
    const s = new MemorySessionStore();
    await s.create(rec('1'));
    await expect(s.update('1', { id: '2' } as never)).rejects.toMatchObject({ code: 'invalid' });
  });

  it('lists by orderRef, agentId and status, newest first, with a limit', async () => {
    const s = new MemorySessionStore();
    await s.create(rec('1', { orderRef: 'A', agentId: 'agent-1' }));
    await s.create(rec('2', { orderRef: 'B', agentId: 'agent-2', outcome: 'paid', endedAt: '2025-01-01T10:05:00.000Z' }));
    await s.create(rec('3', { orderRef: 'A', agentId: 'agent-2' }));
    expect((await s.list({ orderRef: 'A' })).map((r) => r.id)).toEqual(['3', '1']);
    expect((await s.list({ agentId: 'agent-2' })).map((r) => r.id)).toEqual(['3', '2']);
    expect((await s.list({ status: 'ended' })).map((r) => r.id)).toEqual(['2']);
    expect((await s.list({ status: 'live', limit: 1 })).map((r) => r.id)).toEqual(['3']);
  });

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

  it('close() is idempotent and later calls reject', async () => {
    const s = new MemorySessionStore();
    await s.close();
    await s.close();
    await expect(s.get('1')).rejects.toMatchObject({ code: 'closed' });
  });
});

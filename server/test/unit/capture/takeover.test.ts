import { describe, expect, it } from 'vitest';
import type { SessionEvent } from '../../../src/capture/events.js';
import { InstanceTakeover, type InstanceLiveness } from '../../../src/capture/takeover.js';
import { silentLogger } from '../../../src/observability/logger.js';
import { MemoryEventBus, MemorySessionStore, type SessionRecord } from '../../../src/store/index.js';

const record = (id: string, instanceId: string, state: string, outcome: SessionRecord['outcome'] = null): SessionRecord => ({
  id, state, field: null, outcome, orderRef: `ORD-${id}`, amount: '10.00', currency: 'INR', merchantId: 'M', agentId: 'agent-1',
  dtmfTransport: null, card: null, startedAt: new Date().toISOString(), endedAt: outcome ? new Date().toISOString() : null, instanceId,
});

/** Heartbeats as Redis would answer: `dead` expired; each claimable once. */
function liveness(dead: string[]): InstanceLiveness & { claims: string[] } {
  const unclaimed = new Set(dead);
  const claims: string[] = [];
  return {
    claims,
    expired: async () => [...unclaimed],
    claimExpired: async (id) => {
      claims.push(id);
      return unclaimed.delete(id);
    },
  };
}

async function setup(dead: string[]) {
  const store = new MemorySessionStore();
  const bus = new MemoryEventBus<SessionEvent>();
  const events: SessionEvent[] = [];
  await bus.subscribe((e) => void events.push(e));
  await store.create(record('a1', 'gw-a', 'pan'));
  await store.create(record('a2', 'gw-a', 'paying'));
  await store.create(record('a3', 'gw-a', 'done', 'paid'));
  await store.create(record('b1', 'gw-b', 'cvv'));
  const live = liveness(dead);
  const t = new InstanceTakeover({ self: 'gw-b', liveness: live, store, bus, logger: silentLogger });
  return { store, events, live, t };
}

describe('InstanceTakeover', () => {
  it("a dead instance's live sessions end failed (gateway-lost) and the agents are told; ended ones and other instances' stay as they are", async () => {
    const { store, events, t } = await setup(['gw-a']);
    await t.sweep();
    expect(await store.get('a1')).toMatchObject({ outcome: 'failed', failureReason: 'gateway-lost', state: 'done' });
    expect((await store.get('a1'))!.needsReconciliation).toBeUndefined();
    // died while the provider was asked to pay: nobody knows whether the card was charged
    expect(await store.get('a2')).toMatchObject({ outcome: 'failed', needsReconciliation: true });
    expect(await store.get('a3')).toMatchObject({ outcome: 'paid' });
    expect(await store.get('b1')).toMatchObject({ outcome: null, state: 'cvv' });
    expect(events.map((e) => [e.type, e.sessionId, 'reason' in e ? e.reason : '']).sort()).toEqual([
      ['session.ended', 'a1', 'gateway-lost'],
      ['session.ended', 'a2', 'gateway-lost'],
    ]);
  });

  it('an instance is taken over once (the claim), and never its own', async () => {
    const { events, live, t } = await setup(['gw-a', 'gw-b']);
    await t.sweep();
    await t.sweep();
    expect(events).toHaveLength(2);
    expect(live.claims).toEqual(['gw-a']); // gw-b is self: not even claimed
  });

  it('nothing expired: nothing changes', async () => {
    const { store, events, t } = await setup([]);
    await t.sweep();
    expect(events).toEqual([]);
    expect((await store.list({ status: 'live' })).length).toBe(3);
  });
});

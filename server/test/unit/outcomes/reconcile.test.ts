import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import type { SessionEvent } from '../../../src/capture/events.js';
import { AuditLog } from '../../../src/observability/audit.js';
import { createLogger } from '../../../src/observability/logger.js';
import { Reconciler } from '../../../src/outcomes/index.js';
import { ProviderError, type PaymentStatus } from '../../../src/providers/index.js';
import { MemoryEventBus, MemorySessionStore, type SessionRecord } from '../../../src/store/index.js';
import { LogSink } from '../../support/gateway.js';

const base = (id: string, over: Partial<SessionRecord> = {}): SessionRecord => ({
  id, state: 'done', field: null, outcome: 'failed', orderRef: `ORD-${id}`, amount: '10.00', currency: 'INR', merchantId: 'M-1', agentId: 'agent-1',
  dtmfTransport: 'rfc4733', card: null, startedAt: '2026-01-01T00:00:00.000Z', endedAt: '2026-01-01T00:01:00.000Z', instanceId: 'gw-1',
  failureReason: 'timeout', needsReconciliation: true, idempotencyKey: `key-${id}`, ...over,
});

async function setup(statuses: Record<string, PaymentStatus | Error>, confirmFails = false) {
  const store = new MemorySessionStore();
  const bus = new MemoryEventBus<SessionEvent>();
  const events: SessionEvent[] = [];
  await bus.subscribe((e) => void events.push(e));
  const auditPath = join(mkdtempSync(join(tmpdir(), 'tg-rec-')), 'audit.jsonl');
  const audit = new AuditLog(auditPath, 'gw-1');
  const confirmed: string[] = [];
  const provider = {
    paymentStatus: async (key: string) => {
      const s = statuses[key];
      if (!s || s instanceof Error) throw s ?? new Error('unknown key');
      return s;
    },
    confirm: async (id: string) => {
      if (confirmFails) throw new ProviderError('server-error', true);
      confirmed.push(id);
      return { paymentId: id, status: 'confirmed' };
    },
  };
  const registry = new Registry();
  const r = new Reconciler({ store, bus, audit, provider, logger: createLogger('silent', new LogSink()), intervalMs: 0, nowMs: () => Date.parse('2026-01-01T01:00:00Z'), registry });
  return { store, events, r, confirmed, registry, audit: () => readFileSync(auditPath, 'utf8').trim().split('\n').filter(Boolean).map((l) => JSON.parse(l) as Record<string, unknown>) };
}

describe('reconciliation worker', () => {
  it('approved: confirms, makes the session paid, audits and publishes session.reconciled', async () => {
    const t = await setup({ 'key-a': { status: 'approved', paymentId: 'pay_a' } });
    await t.store.create(base('a'));
    expect(await t.r.sweep()).toEqual([{ sessionId: 'a', result: 'settled', outcome: 'paid', providerStatus: 'approved' }]);
    expect(t.confirmed).toEqual(['pay_a']);
    expect(await t.registry.metrics()).toMatch(/tonegate_reconciliations_total\{result="approved"\} 1\b/);
    const s = await t.store.get('a');
    expect(s).toMatchObject({ outcome: 'paid', paymentId: 'pay_a', needsReconciliation: false, reconciledAt: '2026-01-01T01:00:00.000Z' });
    expect(s!.failureReason).toBeUndefined();
    expect(t.events).toMatchObject([{ type: 'session.reconciled', sessionId: 'a', seq: 1, outcome: 'paid', previousOutcome: 'failed', providerStatus: 'approved', paymentId: 'pay_a' }]);
    expect(t.audit()).toMatchObject([{ action: 'session.reconcile', target: { type: 'session', id: 'a' }, outcome: 'success', details: { previousOutcome: 'failed', outcome: 'paid', providerStatus: 'approved', paymentId: 'pay_a' } }]);
  });

  it('declined: the session becomes declined with the provider reason', async () => {
    const t = await setup({ 'key-d': { status: 'declined', paymentId: 'pay_d', declineReason: 'do-not-honour' } });
    await t.store.create(base('d'));
    await t.r.sweep();
    expect(await t.store.get('d')).toMatchObject({ outcome: 'declined', failureReason: 'do-not-honour', paymentId: 'pay_d', needsReconciliation: false });
    expect(t.confirmed).toEqual([]);
  });

  it('not-found: never charged, the failure stands but is no longer flagged', async () => {
    const t = await setup({ 'key-n': { status: 'not-found' } });
    await t.store.create(base('n'));
    await t.r.sweep();
    expect(await t.store.get('n')).toMatchObject({ outcome: 'failed', failureReason: 'timeout', needsReconciliation: false });
    expect(t.events).toMatchObject([{ type: 'session.reconciled', outcome: 'failed', previousOutcome: 'failed', providerStatus: 'not-found' }]);
  });

  it('pending, an unanswered status query or a failed confirm leave the session flagged for the next sweep, with nothing published', async () => {
    const t = await setup({ 'key-p': { status: 'pending' }, 'key-e': new ProviderError('timeout', true), 'key-c': { status: 'approved', paymentId: 'pay_c' } }, true);
    for (const id of ['p', 'e', 'c']) await t.store.create(base(id));
    const out = await t.r.sweep();
    expect(out.map((o) => [o.sessionId, o.result, o.result === 'unresolved' ? o.why : ''])).toEqual(
      expect.arrayContaining([['p', 'unresolved', 'pending'], ['e', 'unresolved', 'status-timeout'], ['c', 'unresolved', 'confirm-server-error']]),
    );
    for (const id of ['p', 'e', 'c']) expect(await t.store.get(id)).toMatchObject({ outcome: 'failed', needsReconciliation: true });
    expect(t.events).toEqual([]);
    expect(t.audit()).toEqual([]);
    expect(await t.registry.metrics()).toMatch(/tonegate_reconciliations_total\{result="unresolved"\} 3\b/);
  });

  it('leaves sessions without the flag alone', async () => {
    const t = await setup({});
    await t.store.create(base('ok', { outcome: 'paid', needsReconciliation: undefined, failureReason: undefined }));
    expect(await t.r.sweep()).toEqual([]);
  });
});

describe('reconciliation with named providers', () => {
  it('asks the provider that served the session (its record\'s provider), the default one otherwise', async () => {
    const store = new MemorySessionStore();
    const bus = new MemoryEventBus<SessionEvent>();
    const audit = new AuditLog(join(mkdtempSync(join(tmpdir(), 'tg-rec-')), 'audit.jsonl'), 'gw-1');
    const asked: string[] = [];
    const provider = (name: string) => ({
      paymentStatus: async (key: string): Promise<PaymentStatus> => (asked.push(`${name}:${key}`), { status: 'not-found' }),
      confirm: async () => ({}),
    });
    const named = new Map([['beta', provider('beta')]]);
    const r = new Reconciler({ store, bus, audit, provider: provider('default'), providerFor: (n) => (n ? named.get(n) : undefined), logger: createLogger('silent', new LogSink()), intervalMs: 0 });
    await store.create(base('b', { provider: 'beta' }));
    await store.create(base('c'));
    await store.create(base('g', { provider: 'gamma' })); // no longer configured: never asked elsewhere
    const done = await r.sweep();
    expect(asked.sort()).toEqual(['beta:key-b', 'default:key-c']);
    expect(done.find((x) => x.sessionId === 'g')).toEqual({ sessionId: 'g', result: 'unresolved', why: 'unknown-provider' });
    expect(await store.get('g')).toMatchObject({ needsReconciliation: true });
  });
});

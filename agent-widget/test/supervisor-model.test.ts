import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { emptyDashboard, reduce, type DashboardAction, type DashboardState } from '../src/supervisor/model.js';
import type { CaptureEvent, SessionRecord } from '../src/progress/types.js';

const recorded = (name: string): CaptureEvent[] =>
  JSON.parse(readFileSync(new URL(`./fixtures/${name}.json`, import.meta.url), 'utf8')) as CaptureEvent[];
const events = (es: readonly CaptureEvent[]): DashboardAction[] => es.map((event) => ({ kind: 'event', event }));
const run = (actions: readonly DashboardAction[], from: DashboardState = emptyDashboard): DashboardState => actions.reduce(reduce, from);

const record = (over: Partial<SessionRecord> & { instanceId?: string } = {}): SessionRecord => ({
  id: 's-rec',
  state: 'cvv',
  field: 'cvv',
  outcome: null,
  orderRef: 'ORD-7',
  amount: '250.00',
  currency: 'INR',
  merchantId: 'M-DEMO-01',
  agentId: 'agent-2',
  dtmfTransport: 'rfc4733',
  card: { brand: 'mastercard', first6: '555555', last4: '4444' },
  startedAt: '2025-06-15T09:00:00.000Z',
  endedAt: null,
  instanceId: 'gw-b',
  ...over,
} as SessionRecord);

describe('supervisor dashboard reducer', () => {
  it('a paid Visa from its events: order, amount, agent, brand with first 6 / last 4, outcome and capture time', () => {
    const es = recorded('paid');
    const s = run(events(es));
    const row = s.rows['s-paid']!;
    expect(row).toMatchObject({
      orderRef: 'ORD-1001', amount: '1499.00', currency: 'INR', agentId: 'agent-1',
      outcome: 'paid', reason: 'approved', state: 'done', field: null,
      card: { brand: 'visa', first6: '411111', last4: '1111' }, lastSeq: es[es.length - 1]!.seq,
    });
    expect(row.endedAt! - row.startedAt).toBe(Date.parse(es[es.length - 1]!.at) - Date.parse(es[0]!.at));
  });

  it('follows the state and the current field while the customer keys', () => {
    const es = recorded('paid');
    const upTo = (pred: (e: CaptureEvent) => boolean) => run(events(es.slice(0, es.findIndex(pred) + 1))).rows['s-paid']!;
    expect(upTo((e) => e.type === 'session.started')).toMatchObject({ state: 'greeting', field: null, outcome: null });
    expect(upTo((e) => e.type === 'field.started' && e.field === 'expiry')).toMatchObject({ state: 'expiry', field: 'expiry' });
    expect(upTo((e) => e.type === 'otp.sent')).toMatchObject({ state: 'otp-sms', field: null });
    expect(upTo((e) => e.type === 'payment.processing' && e.stage === 'payment')).toMatchObject({ state: 'paying', field: null });
    // Brand only while the PAN is incomplete: no digits of the card before it is complete and Luhn-valid.
    expect(upTo((e) => e.type === 'card.identified' && !e.complete).card).toEqual({ brand: 'visa', first6: null, last4: null });
  });

  it('a declined card ends declined with the provider reason', () => {
    const row = run(events(recorded('declined'))).rows['s-declined']!;
    expect(row).toMatchObject({ outcome: 'declined', state: 'done' });
    expect(row.reason).not.toBe('approved');
    expect(row.reason).toBeTruthy();
  });

  it('a failed payment ends failed, and a later record fills the DTMF transport and instance without undoing the outcome', () => {
    const started = recorded('paid').slice(0, 3).map((e) => ({ ...e, sessionId: 's-f' }) as CaptureEvent);
    const ended: CaptureEvent = { type: 'session.ended', sessionId: 's-f', agentId: 'agent-1', seq: 4, at: '2025-06-15T10:01:00.000Z', outcome: 'failed', reason: 'server-error' };
    let s = run(events([...started, ended]));
    expect(s.rows['s-f']).toMatchObject({ outcome: 'failed', reason: 'server-error', dtmfTransport: null, instanceId: null });
    // A record read before the end (still live) arrives late.
    s = reduce(s, { kind: 'record', record: record({ id: 's-f', outcome: null, state: 'pan', instanceId: 'gw-a' }) });
    expect(s.rows['s-f']).toMatchObject({ outcome: 'failed', state: 'done', dtmfTransport: 'rfc4733', instanceId: 'gw-a', orderRef: 'ORD-1001' });
  });

  it('events out of order or replayed on resume are ignored', () => {
    const es = recorded('paid');
    const done = run(events(es));
    const early = es.find((e) => e.type === 'field.started' && e.field === 'pan')!;
    expect(reduce(done, { kind: 'event', event: early })).toBe(done);
    expect(reduce(done, { kind: 'event', event: es[es.length - 1]! })).toBe(done);
    // A late field.started with an older seq than one applied does not move the row back.
    const twoAhead = run(events(es.slice(0, 6)));
    expect(reduce(twoAhead, { kind: 'event', event: es[3]! })).toBe(twoAhead);
  });

  it('a session the page never saw start comes from the ready records, and later events continue it', () => {
    let s = run([{ kind: 'ready', sessions: [record()] }]);
    expect(s.rows['s-rec']).toMatchObject({
      orderRef: 'ORD-7', state: 'cvv', field: 'cvv', agentId: 'agent-2', instanceId: 'gw-b', dtmfTransport: 'rfc4733',
      card: { brand: 'mastercard', first6: '555555', last4: '4444' }, lastSeq: 0,
    });
    s = reduce(s, { kind: 'event', event: { type: 'session.ended', sessionId: 's-rec', agentId: 'agent-2', seq: 30, at: '2025-06-15T09:02:00.000Z', outcome: 'declined', reason: 'do-not-honour' } });
    expect(s.rows['s-rec']).toMatchObject({ outcome: 'declined', reason: 'do-not-honour', endedAt: Date.parse('2025-06-15T09:02:00.000Z'), orderRef: 'ORD-7' });
    // A reconnect's ready carries the record as it was before: the row stays ended.
    s = reduce(s, { kind: 'ready', sessions: [record()] });
    expect(s.rows['s-rec']!.outcome).toBe('declined');
  });

  it('an event for a session it knows nothing of makes a partial row that a record completes', () => {
    let s = reduce(emptyDashboard, { kind: 'event', event: { type: 'digit.entered', sessionId: 's-rec', agentId: 'agent-2', seq: 9, at: '2025-06-15T09:00:05.000Z', field: 'cvv', count: 1 } });
    expect(s.rows['s-rec']).toMatchObject({ partial: true, lastSeq: 9, agentId: 'agent-2' });
    s = reduce(s, { kind: 'record', record: record() });
    expect(s.rows['s-rec']).toMatchObject({ partial: false, orderRef: 'ORD-7', lastSeq: 9, state: 'cvv' });
  });

  it('resync replaces the row with the record (events were lost), and null drops it', () => {
    const live = run(events(recorded('paid').slice(0, 5).map((e) => ({ ...e, sessionId: 's-rec' }) as CaptureEvent)));
    expect(live.rows['s-rec']!.outcome).toBeNull();
    const lost = record({ outcome: 'paid', state: 'done', field: null, endedAt: '2025-06-15T09:03:00.000Z', paymentId: 'pay_9' });
    const s = reduce(live, { kind: 'resync', sessionId: 's-rec', record: lost });
    expect(s.rows['s-rec']).toMatchObject({ outcome: 'paid', reason: 'approved', paymentId: 'pay_9', orderRef: 'ORD-7', lastSeq: 5 });
    // Replays of what was already seen stay ignored after the resync.
    expect(reduce(s, { kind: 'event', event: { ...recorded('paid')[4]!, sessionId: 's-rec' } as CaptureEvent })).toBe(s);
    expect(reduce(s, { kind: 'resync', sessionId: 's-rec', record: null }).rows['s-rec']).toBeUndefined();
  });

  it('never keeps more of the card than first 6 / last 4, whatever a record holds', () => {
    const bad = record({ card: { brand: 'visa', first6: '4111111111111111', last4: '1111', pan: '4111111111111111' } as unknown as SessionRecord['card'] });
    const s = reduce(emptyDashboard, { kind: 'ready', sessions: [bad] });
    expect(s.rows['s-rec']!.card).toEqual({ brand: 'visa', first6: null, last4: '1111' });
    expect(JSON.stringify(s)).not.toContain('4111111111111111');
  });

  it('a PAN cleared for re-entry drops the card shown', () => {
    const es = recorded('paid');
    const withCard = run(events(es.slice(0, es.findIndex((e) => e.type === 'card.identified' && e.complete) + 1)));
    const seq = withCard.rows['s-paid']!.lastSeq + 1;
    const s = reduce(withCard, { kind: 'event', event: { type: 'field.cleared', sessionId: 's-paid', agentId: 'agent-1', seq, at: '2025-06-15T10:05:00.000Z', field: 'pan', by: 'gateway' } });
    expect(s.rows['s-paid']!.card).toBeNull();
  });
});

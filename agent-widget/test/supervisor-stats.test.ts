import { describe, expect, it } from 'vitest';
import { cardText, duration, money, outcomeAnnouncement, shortDuration } from '../src/supervisor/format.js';
import type { DashboardState, SessionRow } from '../src/supervisor/model.js';
import { agentsOf, matches, noFilters, percentile, timeline, totals, visibleRows } from '../src/supervisor/stats.js';
import type { Outcome } from '../src/progress/types.js';

const T0 = Date.parse('2025-06-15T10:00:00.000Z');
let n = 0;
function row(outcome: Outcome | null, durationS: number | null, over: Partial<SessionRow> = {}): SessionRow {
  n++;
  return {
    id: `s${n}`, instanceId: null, state: outcome ? 'done' : 'pan', field: null, outcome, reason: null,
    orderRef: `ORD-${n}`, amount: '100.00', currency: 'INR', merchantId: null, agentId: 'agent-1',
    dtmfTransport: 'rfc4733', card: null, paymentId: null, startedAt: T0 + n * 1000,
    endedAt: durationS === null ? null : T0 + n * 1000 + durationS * 1000, lastSeq: 1, partial: false, ...over,
  };
}
const stateOf = (rows: SessionRow[]): DashboardState => ({ rows: Object.fromEntries(rows.map((r) => [r.id, r])) });

describe('percentile (nearest rank)', () => {
  it('is null for no values and the value itself for one', () => {
    expect(percentile([], 50)).toBeNull();
    expect(percentile([7], 50)).toBe(7);
    expect(percentile([7], 95)).toBe(7);
  });
  it('p50 and p95 of 1..100 are 50 and 95, whatever the input order', () => {
    const xs = Array.from({ length: 100 }, (_, i) => 100 - i);
    expect(percentile(xs, 50)).toBe(50);
    expect(percentile(xs, 95)).toBe(95);
    expect(percentile(xs, 100)).toBe(100);
  });
  it('of four values: p50 is the second, p95 the fourth', () => {
    expect(percentile([40, 10, 30, 20], 50)).toBe(20);
    expect(percentile([40, 10, 30, 20], 95)).toBe(40);
  });
});

describe('totals', () => {
  it('counts outcomes, live sessions and the success rate (paid of ended), with capture-time percentiles of ended ones', () => {
    const t = totals([row('paid', 30), row('paid', 50), row('declined', 40), row('failed', 20), row(null, null)]);
    expect(t).toMatchObject({ total: 5, live: 1, ended: 4, byOutcome: { paid: 2, declined: 1, failed: 1, abandoned: 0, cancelled: 0 } });
    expect(t.successRate).toBe(0.5);
    expect(t.p50Ms).toBe(30_000);
    expect(t.p95Ms).toBe(50_000);
  });
  it('sums paid amounts per currency in hundredths (0.10 + 0.20 is 0.30), largest first', () => {
    const t = totals([row('paid', 1, { amount: '0.10' }), row('paid', 1, { amount: '0.20' }), row('paid', 1, { amount: '5.00', currency: 'USD' }), row('declined', 1, { amount: '999.00' })]);
    expect(t.paidByCurrency).toEqual([{ currency: 'USD', cents: 500 }, { currency: 'INR', cents: 30 }]);
  });
  it('has no rate or percentiles before anything ended', () => {
    expect(totals([row(null, null)])).toMatchObject({ successRate: null, p50Ms: null, p95Ms: null, live: 1 });
  });
});

describe('filters and order', () => {
  const rows = [
    row('paid', 10, { agentId: 'agent-1', orderRef: 'ORD-AAA-1' }),
    row('declined', 10, { agentId: 'agent-2', orderRef: 'ORD-BBB-2' }),
    row(null, null, { agentId: 'agent-2', orderRef: 'ord-aaa-3' }),
    row('abandoned', 5, { agentId: null, orderRef: 'X-9' }),
  ];
  it('by status (live or one outcome), agent (or none) and order-ref text, case-insensitive', () => {
    expect(rows.filter((r) => matches(r, { ...noFilters, status: 'live' })).map((r) => r.orderRef)).toEqual(['ord-aaa-3']);
    expect(rows.filter((r) => matches(r, { ...noFilters, status: 'declined' })).map((r) => r.orderRef)).toEqual(['ORD-BBB-2']);
    expect(rows.filter((r) => matches(r, { ...noFilters, agent: 'agent-2' }))).toHaveLength(2);
    expect(rows.filter((r) => matches(r, { ...noFilters, agent: '-' })).map((r) => r.orderRef)).toEqual(['X-9']);
    expect(rows.filter((r) => matches(r, { ...noFilters, text: ' aaa ' })).map((r) => r.orderRef)).toEqual(['ORD-AAA-1', 'ord-aaa-3']);
  });
  it('lists live sessions first, then the newest', () => {
    expect(visibleRows(stateOf(rows), noFilters).map((r) => r.orderRef)).toEqual(['ord-aaa-3', 'X-9', 'ORD-BBB-2', 'ORD-AAA-1']);
  });
  it('offers each agent once, sorted', () => {
    expect(agentsOf(stateOf(rows))).toEqual(['agent-1', 'agent-2']);
  });
});

describe('timeline', () => {
  it('puts each outcome in the minute it ended, with the newest bucket holding now', () => {
    const now = T0 + 10 * 60_000 + 5_000;
    const at = (startS: number, endS: number | null) => ({ startedAt: T0 + startS * 1000, endedAt: endS === null ? null : T0 + endS * 1000 });
    const rows = [row('paid', 0, at(1, 31)), row('declined', 0, at(2, 67)), row(null, null, at(3, null)), row('paid', 0, at(4, 604))];
    const t = timeline(rows, now, 30);
    expect(t.bucketMs).toBe(60_000);
    expect(t.buckets).toHaveLength(30);
    expect(t.buckets[29]!.from).toBe(T0 + 10 * 60_000);
    const sum = (o: Outcome) => t.buckets.reduce((s, b) => s + b.counts[o], 0);
    expect([sum('paid'), sum('declined')]).toEqual([2, 1]);
    expect(t.buckets[29]!.counts.paid).toBe(1); // ended at 10:10:04
    expect(t.buckets[19]!.counts.paid).toBe(1); // ended at 10:00:31 (bucket 0 is 09:41)
    expect(t.buckets[20]!.counts.declined).toBe(1); // ended at 10:01:07
  });
  it('widens the buckets when the history is longer than 30 of them', () => {
    const now = T0 + 3 * 3600_000;
    expect(timeline([row('paid', 10)], now, 30).bucketMs).toBe(15 * 60_000);
  });
});

describe('format', () => {
  it('shows brand with first 6 / last 4 at most', () => {
    expect(cardText({ brand: 'visa', first6: '411111', last4: '1111' })).toBe('Visa 411111••1111');
    expect(cardText({ brand: 'rupay', first6: null, last4: null })).toBe('RuPay');
    expect(cardText(null)).toBe('—');
  });
  it('durations and money', () => {
    expect(duration(65_400)).toBe('1:05');
    expect(duration(3_723_000)).toBe('1:02:03');
    expect(shortDuration(42_400)).toBe('42 s');
    expect(shortDuration(125_000)).toBe('2 min 5 s');
    expect(money('1499', 'INR', 'en-US')).toBe('1,499.00 INR');
  });
  it('announces an outcome with the order, amount, agent and, for a failure, the reason', () => {
    expect(outcomeAnnouncement(row('declined', 5, { orderRef: 'ORD-9', reason: 'do-not-honour', amount: '1499.00' }))).toMatch(/^Order ORD-9: declined \(do not honour\), 1.499.00 INR, agent agent-1\.$/);
    expect(outcomeAnnouncement(row(null, null))).toBe('');
  });
});

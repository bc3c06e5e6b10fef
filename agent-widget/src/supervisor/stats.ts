import type { Outcome } from '../progress/types.js';
import type { DashboardState, SessionRow } from './model.js';

/** Pure views of the dashboard state: filtering, ordering, totals, percentiles, chart buckets. */

export const OUTCOMES: readonly Outcome[] = ['paid', 'declined', 'failed', 'abandoned', 'cancelled'];

/** `all`, `live` (no outcome yet), or one outcome. */
export type StatusFilter = 'all' | 'live' | Outcome;

export interface Filters {
  readonly status: StatusFilter;
  /** `''`: every agent; `'-'`: sessions with no agent. */
  readonly agent: string;
  /** Case-insensitive substring of the order reference. */
  readonly text: string;
}

export const noFilters: Filters = { status: 'all', agent: '', text: '' };

export function matches(row: SessionRow, f: Filters): boolean {
  if (f.status === 'live' && row.outcome !== null) return false;
  if (f.status !== 'all' && f.status !== 'live' && row.outcome !== f.status) return false;
  if (f.agent === '-' ? row.agentId !== null : f.agent !== '' && row.agentId !== f.agent) return false;
  const q = f.text.trim().toLowerCase();
  return q === '' || row.orderRef.toLowerCase().includes(q);
}

/** Live sessions first, then ended ones; newest start first within each; id breaks ties. */
export function compareRows(a: SessionRow, b: SessionRow): number {
  const live = Number(b.outcome === null) - Number(a.outcome === null);
  if (live !== 0) return live;
  return b.startedAt - a.startedAt || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);
}

export function visibleRows(state: DashboardState, f: Filters): SessionRow[] {
  return Object.values(state.rows).filter((r) => matches(r, f)).sort(compareRows);
}

/** Agents seen, sorted (for the agent filter). */
export function agentsOf(state: DashboardState): string[] {
  const ids = new Set<string>();
  for (const r of Object.values(state.rows)) if (r.agentId) ids.add(r.agentId);
  return [...ids].sort();
}

/** True when some row names its gateway instance (the Instance column is shown then). */
export function hasInstances(state: DashboardState): boolean {
  return Object.values(state.rows).some((r) => r.instanceId !== null);
}

/**
 * The p-th percentile (0 < p <= 100) by the nearest-rank method: the smallest value with at least
 * p% of the values at or below it. `null` for no values.
 */
export function percentile(values: readonly number[], p: number): number | null {
  if (values.length === 0) return null;
  const sorted = [...values].sort((x, y) => x - y);
  const rank = Math.max(1, Math.ceil((p / 100) * sorted.length));
  return sorted[Math.min(rank, sorted.length) - 1] ?? null;
}

export interface Totals {
  readonly total: number;
  readonly live: number;
  readonly ended: number;
  readonly byOutcome: Readonly<Record<Outcome, number>>;
  /** paid / ended, 0..1; null before anything ended. */
  readonly successRate: number | null;
  /** Capture duration (start to outcome) of ended sessions, ms. */
  readonly p50Ms: number | null;
  readonly p95Ms: number | null;
  /** Sum of paid amounts per currency, in hundredths (no float drift), largest first. */
  readonly paidByCurrency: readonly { readonly currency: string; readonly cents: number }[];
}

export function totals(rows: readonly SessionRow[]): Totals {
  const byOutcome: Record<Outcome, number> = { paid: 0, declined: 0, failed: 0, abandoned: 0, cancelled: 0 };
  const durations: number[] = [];
  const paid = new Map<string, number>();
  let live = 0;
  for (const r of rows) {
    if (r.outcome === null) {
      live++;
      continue;
    }
    byOutcome[r.outcome]++;
    const cents = Math.round(Number(r.amount) * 100);
    if (r.outcome === 'paid' && Number.isFinite(cents)) paid.set(r.currency, (paid.get(r.currency) ?? 0) + cents);
    if (r.endedAt !== null && r.endedAt >= r.startedAt) durations.push(r.endedAt - r.startedAt);
  }
  const ended = rows.length - live;
  return {
    total: rows.length,
    live,
    ended,
    byOutcome,
    successRate: ended ? byOutcome.paid / ended : null,
    p50Ms: percentile(durations, 50),
    p95Ms: percentile(durations, 95),
    paidByCurrency: [...paid].map(([currency, cents]) => ({ currency, cents })).sort((a, b) => b.cents - a.cents),
  };
}

export interface Bucket {
  /** Start of the bucket, epoch ms. */
  readonly from: number;
  readonly counts: Readonly<Record<Outcome, number>>;
}

export interface Timeline {
  readonly bucketMs: number;
  readonly buckets: readonly Bucket[];
}

const MINUTE = 60_000;
/** Bucket widths to choose from: the smallest that fits the history in `maxBuckets`. */
const WIDTHS = [1, 5, 15, 60, 360, 1440].map((m) => m * MINUTE);

/**
 * Outcomes over time by when sessions ended: `maxBuckets` buckets ending with the one holding
 * `now`, each as wide as the smallest of 1 min, 5 min, 15 min, 1 h, 6 h, 1 day that reaches back
 * to the oldest outcome (older ones fall off at the 1-day width).
 */
export function timeline(rows: readonly SessionRow[], now: number, maxBuckets = 30): Timeline {
  const ends = rows.filter((r) => r.outcome !== null && r.endedAt !== null).map((r) => r.endedAt as number);
  const oldest = ends.length ? Math.min(...ends) : now;
  const bucketMs = WIDTHS.find((w) => Math.floor(now / w) - Math.floor(oldest / w) < maxBuckets) ?? (WIDTHS[WIDTHS.length - 1] as number);
  const last = Math.floor(now / bucketMs) * bucketMs;
  const first = last - (maxBuckets - 1) * bucketMs;
  const buckets = Array.from({ length: maxBuckets }, (_, i) => ({
    from: first + i * bucketMs,
    counts: { paid: 0, declined: 0, failed: 0, abandoned: 0, cancelled: 0 } as Record<Outcome, number>,
  }));
  for (const r of rows) {
    if (r.outcome === null || r.endedAt === null || r.endedAt < first) continue;
    const i = Math.min(maxBuckets - 1, Math.floor((r.endedAt - first) / bucketMs));
    const b = buckets[i];
    if (b) b.counts[r.outcome]++;
  }
  return { bucketMs, buckets };
}

/**
 * bench:faults figures: aggregation of payment results, `/metrics` scraping (breaker state,
 * provider latency histogram) and the charge audit against the demo provider's records.
 */
import type { DemoPaymentRecord } from '../../src/demo/payments.js';
import { FIELDS, type FaultPaymentResult, type Field, type FieldTally } from './faults-run.js';
import { pct } from './report.js';

const r1 = (x: number): number => Math.round(x * 10) / 10;

export interface TransportRow {
  transport: string;
  n: number;
  paid: number;
  fields: Record<Field, FieldTally>;
  digits: { n: number; p50: number; p99: number; max: number };
  rtp: { sent: number; dropped: number; reordered: number };
  rx: { packets: number; lost: number; jitterMsMean: number; jitterMsMax: number };
  failures: string[];
}

export function transportRow(transport: string, rs: FaultPaymentResult[]): TransportRow {
  const fields = Object.fromEntries(
    FIELDS.map((f) => [f, rs.reduce<FieldTally>((a, r) => ({
      expected: a.expected + r.fields[f].expected,
      entered: a.entered + r.fields[f].entered,
      lost: a.lost + r.fields[f].lost,
      extra: a.extra + r.fields[f].extra,
      reprompts: a.reprompts + r.fields[f].reprompts,
    }), { expected: 0, entered: 0, lost: 0, extra: 0, reprompts: 0 })]),
  ) as Record<Field, FieldTally>;
  const d = rs.flatMap((r) => r.digitMs);
  const jit = rs.map((r) => r.rx.jitterMs);
  return {
    transport,
    n: rs.length,
    paid: rs.filter((r) => r.outcome === 'paid').length,
    fields,
    digits: { n: d.length, p50: r1(pct(d, 50)), p99: r1(pct(d, 99)), max: r1(d.length ? Math.max(...d) : NaN) },
    rtp: {
      sent: rs.reduce((a, r) => a + (r.proxy?.received ?? 0), 0),
      dropped: rs.reduce((a, r) => a + (r.proxy?.dropped ?? 0), 0),
      reordered: rs.reduce((a, r) => a + (r.proxy?.reordered ?? 0), 0),
    },
    rx: {
      packets: rs.reduce((a, r) => a + r.rx.packets, 0),
      lost: rs.reduce((a, r) => a + r.rx.lost, 0),
      jitterMsMean: r1(jit.reduce((a, b) => a + b, 0) / Math.max(1, jit.length)),
      jitterMsMax: r1(Math.max(0, ...jit)),
    },
    failures: rs.filter((r) => r.outcome !== 'paid').map((r) => r.error ?? `${r.outcome}/${r.reason}${r.fieldFailures.length ? ` (${r.fieldFailures.join(',')})` : ''}${r.issues.length ? ` [${r.issues.join(',')}]` : ''}`),
  };
}

/** One `/metrics` scrape: breaker gauges and the provider latency histogram series. */
export interface Scrape {
  breaker: Record<string, number>;
  /** key `provider|op|status` -> cumulative buckets (le -> count), count, sum. */
  hist: Map<string, { buckets: Map<number, number>; count: number; sum: number }>;
}

const labelsOf = (s: string): Record<string, string> => Object.fromEntries([...s.matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)].map((m) => [m[1]!, m[2]!]));

export async function scrape(httpPort: number): Promise<Scrape> {
  const text = await (await fetch(`http://127.0.0.1:${httpPort}/metrics`, { signal: AbortSignal.timeout(3000) })).text();
  const out: Scrape = { breaker: {}, hist: new Map() };
  for (const line of text.split('\n')) {
    const m = /^(tonegate_provider_\w+)\{([^}]*)\} (\S+)$/.exec(line);
    if (!m) continue;
    const [, name, ls, v] = m;
    const l = labelsOf(ls!);
    if (name === 'tonegate_provider_breaker_state') out.breaker[l.provider!] = Number(v);
    if (!name!.startsWith('tonegate_provider_request_duration_seconds')) continue;
    const k = `${l.provider}|${l.op}|${l.status}`;
    let h = out.hist.get(k);
    if (!h) out.hist.set(k, (h = { buckets: new Map(), count: 0, sum: 0 }));
    if (name!.endsWith('_bucket')) h.buckets.set(l.le === '+Inf' ? Infinity : Number(l.le), Number(v));
    else if (name!.endsWith('_count')) h.count = Number(v);
    else if (name!.endsWith('_sum')) h.sum = Number(v);
  }
  return out;
}

export interface OpLatency { op: string; status: string; count: number; meanMs: number; p50: string; p99: string }

/** Latency per provider op and status between two scrapes (quantiles as the histogram's bucket bound). */
export function latencyDelta(a: Scrape, b: Scrape): OpLatency[] {
  const rows: OpLatency[] = [];
  for (const [k, hb] of b.hist) {
    const ha = a.hist.get(k);
    const count = hb.count - (ha?.count ?? 0);
    if (count <= 0) continue;
    const [provider, op, status] = k.split('|') as [string, string, string];
    const q = (p: number): string => {
      const les = [...hb.buckets.keys()].sort((x, y) => x - y);
      for (const le of les) if ((hb.buckets.get(le)! - (ha?.buckets.get(le) ?? 0)) >= p * count) return le === Infinity ? '>30 s' : `≤ ${le * 1000} ms`;
      return '?';
    };
    rows.push({ op: `${provider} ${op}`, status, count, meanMs: Math.round(((hb.sum - (ha?.sum ?? 0)) / count) * 1000), p50: q(0.5), p99: q(0.99) });
  }
  return rows.sort((x, y) => x.op.localeCompare(y.op) || x.status.localeCompare(y.status));
}

export interface ChargeAudit {
  orders: number;
  /** Orders with more than one approved charge at the provider: must be 0. */
  doubleCharged: number;
  maxChargesPerOrder: number;
  paidAndCharged: number;
  /** Told paid, no charge at the provider: must be 0. */
  paidNotCharged: number;
  /** Charged, the session ended otherwise, and flagged needsReconciliation: explained. */
  chargedFlagged: number;
  /** Charged, the session ended otherwise, not flagged: must be 0. */
  chargedUnflagged: number;
  /** Not charged and not paid: by `outcome/reason`. */
  notCharged: Record<string, number>;
  /** Flagged needsReconciliation but the provider has no charge: a safe false alarm. */
  flaggedNotCharged: number;
  approvedUnconfirmed: number;
  records: number;
}

export function auditCharges(rs: FaultPaymentResult[], records: readonly DemoPaymentRecord[]): ChargeAudit {
  const byOrder = new Map<string, DemoPaymentRecord[]>();
  for (const p of records) byOrder.set(p.orderRef, [...(byOrder.get(p.orderRef) ?? []), p]);
  const a: ChargeAudit = {
    orders: rs.length, doubleCharged: 0, maxChargesPerOrder: 0, paidAndCharged: 0, paidNotCharged: 0, chargedFlagged: 0, chargedUnflagged: 0,
    notCharged: {}, flaggedNotCharged: 0, approvedUnconfirmed: 0, records: 0,
  };
  for (const r of rs) {
    const recs = byOrder.get(r.orderRef) ?? [];
    a.records += recs.length;
    const charges = recs.filter((p) => p.status === 'approved');
    a.maxChargesPerOrder = Math.max(a.maxChargesPerOrder, charges.length);
    if (charges.length > 1) a.doubleCharged++;
    a.approvedUnconfirmed += charges.filter((p) => !p.confirmed).length;
    if (r.outcome === 'paid') {
      if (charges.length > 0) a.paidAndCharged++;
      else a.paidNotCharged++;
    } else if (charges.length > 0) {
      if (r.needsReconciliation) a.chargedFlagged++;
      else a.chargedUnflagged++;
    } else {
      if (r.needsReconciliation) a.flaggedNotCharged++;
      const k = r.error ? `harness: ${r.error.slice(0, 60)}` : `${r.outcome}/${r.reason}${r.needsReconciliation ? ' (flagged)' : ''}`;
      a.notCharged[k] = (a.notCharged[k] ?? 0) + 1;
    }
  }
  return a;
}

export const outcomeCounts = (rs: FaultPaymentResult[]): Record<string, number> => {
  const o: Record<string, number> = {};
  for (const r of rs) {
    const k = r.error ? 'no outcome (harness)' : `${r.outcome}/${r.reason}${r.needsReconciliation ? ' +reconcile' : ''}`;
    o[k] = (o[k] ?? 0) + 1;
  }
  return o;
};

export const issueCounts = (rs: FaultPaymentResult[]): Record<string, number> => {
  const o: Record<string, number> = {};
  for (const r of rs) for (const i of r.issues) o[i] = (o[i] ?? 0) + 1;
  return o;
};

export const fmtCounts = (c: Record<string, number>): string =>
  Object.entries(c).sort((x, y) => y[1] - x[1]).map(([k, v]) => `${k} ${v}`).join(', ') || '-';

import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { DemoPaymentRecord, DemoProvider } from '../../src/demo/index.js';
import { fmtCounts, issueCounts, outcomeCounts, type ChargeAudit } from './faults-report.js';
import type { FaultPaymentResult } from './faults-run.js';

/**
 * The failover run of bench:faults (docs/operations.md, "Several payment providers"): the gateway
 * is started with a configuration FILE naming two providers, `one` (the fault proxy in front of the
 * bench's demo provider: the primary, for every merchant) and `two` (a second demo provider,
 * direct), `one` failing over to `two`. The charge audit counts both providers' records per order.
 */
export function failoverConfig(primaryUrl: string, secondUrl: string, runDir: string): Record<string, string> {
  const file = join(runDir, 'failover.yaml');
  writeFileSync(
    file,
    [
      'providers:',
      `  - { name: one, url: "${primaryUrl}" }`,
      `  - { name: two, url: "${secondUrl}" }`,
      'providerRouting:',
      '  default: one',
      '  failover: [two]',
      '',
    ].join('\n'),
  );
  return { TONEGATE_CONFIG: file };
}

export interface FailoverSplit {
  /** Approved charges at each provider. */
  chargedAtOne: number;
  chargedAtTwo: number;
  /** Orders with a payment record at both providers: must be 0. */
  atBoth: number;
  /** `payment provider unavailable before any charge: failing over` lines, by the op that failed. */
  failovers: Record<string, number>;
}

export function failoverSplit(one: readonly DemoPaymentRecord[], two: readonly DemoPaymentRecord[], warningsFile: string | undefined): FailoverSplit {
  const refsOne = new Set(one.map((p) => p.orderRef));
  const failovers: Record<string, number> = {};
  if (warningsFile && existsSync(warningsFile)) {
    for (const line of readFileSync(warningsFile, 'utf8').split('\n')) {
      if (!line.includes('failing over')) continue;
      const op = /"op":"([a-z.-]+)"/.exec(line)?.[1] ?? '?';
      const code = /"code":"([a-z-]+)"/.exec(line)?.[1] ?? '?';
      failovers[`${op}:${code}`] = (failovers[`${op}:${code}`] ?? 0) + 1;
    }
  }
  return {
    chargedAtOne: one.filter((p) => p.status === 'approved').length,
    chargedAtTwo: two.filter((p) => p.status === 'approved').length,
    atBoth: new Set(two.map((p) => p.orderRef).filter((r) => refsOne.has(r))).size,
    failovers,
  };
}

export const FAILOVER_START = '<!-- bench:faults-failover -->';
export const FAILOVER_END = '<!-- /bench:faults-failover -->';

export function failoverSection(
  r: { label: string; results: FaultPaymentResult[]; audit: ChargeAudit; transitions: string[]; wallS: number; gatewayAlive: boolean; warnings: number },
  split: FailoverSplit, header: string,
): string {
  const a = r.audit;
  const paid = r.results.filter((x) => x.outcome === 'paid').length;
  return [
    FAILOVER_START,
    '## Provider failover under faults (`npm run bench:faults -- --only provider --kinds failover`)',
    '',
    header,
    '',
    `Method: the gateway runs as its own process, started with a configuration file (\`TONEGATE_CONFIG\`) naming two providers: \`one\`, the fault-injecting proxy in front of the bench's demo provider, the provider of every merchant; \`two\`, a second demo provider in the bench process, reached directly; \`providerRouting.failover: [two]\`. Fault: ${r.label}. Customers key RFC 4733, no RTP faults. The charge audit counts both demo providers' payment records per order (approved = charged); a record at both providers for one order would be a failover after a charge.`,
    '',
    '| paid | outcomes | max charges per order (both providers) | double-charged | orders with a record at both providers | paid, not charged | charged, not paid: flagged / unflagged | charged at one / at two | failovers (op:code) | breaker transitions |',
    '|---:|---|---:|---:|---:|---:|---:|---:|---|---|',
    `| ${paid}/${r.results.length} | ${fmtCounts(outcomeCounts(r.results))} | ${a.maxChargesPerOrder} | ${a.doubleCharged} | ${split.atBoth} | ${a.paidNotCharged} | ${a.chargedFlagged} / ${a.chargedUnflagged} | ${split.chargedAtOne} / ${split.chargedAtTwo} | ${fmtCounts(split.failovers) || 'none'} | ${r.transitions.join('; ') || 'none'} |`,
    '',
    `Provider issues seen by sessions: ${fmtCounts(issueCounts(r.results))}. Not charged: ${fmtCounts(a.notCharged)}. ${r.wallS.toFixed(0)} s; gateway ${r.gatewayAlive ? 'stayed up' : 'DIED'}; ${r.warnings} warn+ log lines (each failover is one).`,
    FAILOVER_END,
  ].join('\n');
}

export type { DemoProvider };

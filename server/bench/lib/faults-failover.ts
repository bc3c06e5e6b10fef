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

interface Run {
  label: string;
  results: FaultPaymentResult[];
  audit: ChargeAudit;
  transitions: string[];
  wallS: number;
  gatewayAlive: boolean;
  warnings: number;
  duplicateSms: number;
  split?: FailoverSplit;
}

export function failoverSection(runs: readonly Run[], header: string): string {
  return [
    FAILOVER_START,
    '## Provider failover under faults (`npm run bench:faults -- --only provider --kinds failover,failover-after`)',
    '',
    header,
    '',
    'Method: the gateway runs as its own process, started with a configuration file (`TONEGATE_CONFIG`) naming two providers: `one`, the fault-injecting proxy (server/bench/lib/fault-http.ts) in front of the bench\'s demo provider, the provider of every merchant; `two`, a second demo provider in the bench process, reached directly; `providerRouting.failover: [two]`; default timeouts, retries and breaker. Customers key RFC 4733, no RTP faults. The charge audit counts both demo providers\' payment records per order (approved = charged); an order with a record at both providers would be a failover after a charge was sent. Failovers are the gateway\'s `failing over` warn lines, by the op and code that caused them (`breaker`: the primary\'s breaker was open when the payment started).',
    '',
    '| fault | paid | outcomes | max charges per order (both providers) | double-charged | orders with a record at both providers | paid, not charged | charged, not paid: flagged / unflagged | charged at one / at two | failovers (op:code) | breaker transitions |',
    '|---|---:|---|---:|---:|---:|---:|---:|---:|---|---|',
    ...runs.map((r) => {
      const a = r.audit;
      const s = r.split!;
      return `| ${r.label} | ${r.results.filter((x) => x.outcome === 'paid').length}/${r.results.length} | ${fmtCounts(outcomeCounts(r.results))} | ${a.maxChargesPerOrder} | ${a.doubleCharged} | ${s.atBoth} | ${a.paidNotCharged} | ${a.chargedFlagged} / ${a.chargedUnflagged} | ${s.chargedAtOne} / ${s.chargedAtTwo} | ${fmtCounts(s.failovers) || 'none'} | ${r.transitions.join('; ') || 'none'} |`;
    }),
    '',
    ...runs.map((r) => `**${r.label}**: provider issues seen by sessions: ${fmtCounts(issueCounts(r.results))}. Not charged: ${fmtCounts(r.audit.notCharged)}. Orders whose customer got more than one OTP SMS: ${r.duplicateSms}. ${r.wallS.toFixed(0)} s; gateway ${r.gatewayAlive ? 'stayed up' : 'DIED'}; ${r.warnings} warn+ log lines.`),
    '{{NOTES}}',
    FAILOVER_END,
  ].join('\n').replace('{{NOTES}}', FAILOVER_NOTES);
}

/** Hand-written reading of the figures (kept in the code so a re-run keeps it). */
const FAILOVER_NOTES = [
  '',
  '### Reading',
  '',
  '- **No order was charged twice, and none was charged at both providers** (max 1 charge per order across both; 0 orders with a record at both), in either run.',
  '- **Primary down, then flaky** (first run): the 8 s outage made the first OTP requests at `one` fail (500 before forwarding, retried 3 times each) and opened its breaker at 16.5 s; the payments that started after that skipped `one` (`breaker:breaker-open`, 23) or moved when their OTP request met the open breaker (2) or a third 500 (1), and were paid at `two` (26).',
  '- **What failover does not save**: 11 sessions had their OTP from `one` before its breaker opened; their validation then met the open breaker and they ended `failed/otp-validation-unavailable`, 2 more `failed/breaker-open` at the charge: the OTP the customer keyed is `one`\'s, so the order stays with `one` (docs/operations.md, "Several payment providers"); nothing was charged for them. 3 were charged at `one` whose confirmation then met the open breaker: `failed` with `needsReconciliation` (charged, flagged), never sent to `two`.',
  '- **Answers lost after the charge** (second run): 10 of `one`\'s 40 payment answers were lost after it charged; each was settled at `one` by the status query (5 of 15 status queries also lost and retried) and paid there. No failover: 40 paid, 40 charged at `one`, 0 at `two`. OTP requests whose answers were lost were retried at `one` (the read policy), never moved, since a retry succeeded each time.',
  '- **Duplicate OTP SMS** (11 and 7 orders): the SMS routes are the providers\' URLs (`primary` = `one`, then `two`); an SMS whose answer was lost after `one` accepted it is sent again by `two`, so the customer gets the same OTP twice. The same as with two SMS routes before; not a charge.',
].join('\n');

export type { DemoProvider };

/**
 * `npm run bench:load -- --overload <rate>`: one step of payment calls at twice `rate` (the rate the
 * operator says the machine takes), to see load admission at work (docs/operations.md, "Overload"):
 * how many calls were refused with 503 and for which limit, and whether the calls admitted were all
 * paid without digit errors. `--max-calls N` / `--max-captures N` set the count limits (otherwise only
 * the measured ones apply); `--step-s` the step's length. Prints one line; writes nothing.
 */
import { runLoadStep, type LoadEnv, type LoadStep } from './load-run.js';

export interface OverloadResult {
  rate: number;
  step: LoadStep;
  /** 503s for load during the step, by reason (tonegate_load_refusals_total; the step's jitter-probe call included). */
  refused: Record<string, number>;
  /** SIPp calls that got a session: admitted (a refused call never gets one). */
  admitted: number;
  /** Admitted calls that were not paid. */
  admittedNotPaid: number;
}

async function refusals(httpPort: number): Promise<Record<string, number>> {
  const text = await (await fetch(`http://127.0.0.1:${httpPort}/metrics`, { signal: AbortSignal.timeout(5000) })).text();
  const out: Record<string, number> = {};
  for (const m of text.matchAll(/^tonegate_load_refusals_total\{reason="([^"]+)"\} (\d+)/gm)) out[m[1]!] = Number(m[2]);
  return out;
}

export async function overloadStep(env: LoadEnv, o: { rate: number; stepS: number }): Promise<OverloadResult> {
  const before = await refusals(env.gw.httpPort);
  const rate = 2 * o.rate;
  const step = await runLoadStep(env, { transport: 'rfc4733', rate, calls: Math.max(1, Math.round(rate * o.stepS)), label: `overload rfc4733 ${rate}/s (2 x ${o.rate})` });
  const after = await refusals(env.gw.httpPort);
  const refused = Object.fromEntries(Object.entries(after).map(([k, v]) => [k, v - (before[k] ?? 0)]).filter(([, v]) => (v as number) > 0)) as Record<string, number>;
  const admitted = step.calls - (step.notPaid['no session'] ?? 0);
  return { rate, step, refused, admitted, admittedNotPaid: admitted - step.paid };
}

export const overloadLine = (r: OverloadResult): string =>
  `overload ${r.rate} calls/s: ${r.step.calls} calls, admitted ${r.admitted} (the rest refused: 503s counted by the gateway ${JSON.stringify(r.refused)}, its jitter probe's included), paid ${r.step.paid}, admitted not paid ${r.admittedNotPaid}, ` +
  `admitted calls' digits lost ${r.step.digitsLost - r.step.digitsLostUnstarted} extra ${r.step.digitsExtra} (calls never started: ${r.step.digitsLostUnstarted} digits), field errors ${r.step.fieldErrors}; held max ${r.step.maxCalls}; loop lag p99 ${r.step.eld.p99Ms} ms; gw CPU ${r.step.gwCpuPct} %; machine ${r.step.machineBusyPct} % of ${200}`;

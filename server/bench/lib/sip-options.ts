/** The options of `npm run bench:sip` (server/bench/sip.ts describes them), its constants and its log. */
import { join, resolve } from 'node:path';

export const REPO = resolve(import.meta.dirname, '../../..');
export const SCENARIOS = join(REPO, 'e2e/sipp');
export const RESULTS = join(REPO, 'server/bench/RESULTS.md');
export const HOST = '127.0.0.1';
export const FAIL_LIMIT = 0.001; // RFC 7502 search criterion used here: < 0.1% failed calls
export const TARGET = { cps: 300, p99Ms: 50 };

const argv = process.argv.slice(2);
export const flag = (n: string): boolean => argv.includes(`--${n}`);
export const opt = (n: string): string | undefined => {
  const i = argv.indexOf(`--${n}`);
  return i >= 0 ? argv[i + 1] : undefined;
};
export const quick = flag('quick');
export const O = {
  quick,
  budgetS: Number(opt('budget-s') ?? (quick ? 90 : 600)),
  stepS: Number(opt('step-s') ?? (quick ? 5 : 12)),
  holdMs: Number(opt('hold-ms') ?? 1000),
  rates: (opt('rates') ?? (quick ? '100,300' : '25,50,100,150,200,300,400,500,600,800,1000,1200,1500')).split(',').map(Number),
  agents: Number(opt('agents') ?? (quick ? 1500 : 4000)),
  holdCalls: Number(opt('hold-calls') ?? (quick ? 200 : 1000)),
  /** The memory phase also measures after the INVITE transactions' 32 s linger (full run only). */
  steadyMemory: !quick && !flag('no-steady'),
  write: flag('write') || (!quick && !flag('no-write') && !opt('what-if')),
  keep: flag('keep'),
  resolution: Number(opt('resolution') ?? 25),
  /** Opt-in what-if experiments applied inside the gateway by the probe (see lib/probe.ts). */
  whatIf: opt('what-if'),
};

export type SipOptions = typeof O;

const t0 = Date.now();
export const log = (s: string): void => void process.stdout.write(`[${((Date.now() - t0) / 1000).toFixed(0).padStart(3)}s] ${s}\n`);

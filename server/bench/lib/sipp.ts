/**
 * SIPp (Debian package sip-tester) for the benchmarks: one process per run, in its own directory,
 * so its statistics (-trace_stat), per-call response times (-trace_rtt) and errors (-trace_err)
 * can be read back afterwards.
 */
import { execFileSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { spawnTracked } from './procs.js';

export interface SippRun {
  child: ChildProcess;
  pid: number;
  dir: string;
  /** Resolves with the exit code when SIPp ends (0: every call succeeded, 1: some failed). */
  exited: Promise<number | null>;
  output: () => string;
}

export function sippVersion(): string {
  try {
    return execFileSync('sipp', ['-v'], { encoding: 'utf8' }).match(/SIPp v[^\s,]+/)?.[0]?.replace(/\.$/, '') ?? 'unknown';
  } catch (err) {
    // sipp -v exits 1 after printing its version.
    const out = String((err as { stdout?: string }).stdout ?? '');
    const v = out.match(/SIPp v[^\s,]+/)?.[0]?.replace(/\.$/, '');
    if (v) return v;
    throw new Error('sipp not found: install the Debian package sip-tester (apt-get install -y sip-tester)');
  }
}

/** Starts SIPp with `args` (scenario, ports, ...) plus tracing into `dir`. */
export function startSipp(dir: string, args: string[]): SippRun {
  mkdirSync(dir, { recursive: true });
  const full = [
    ...args,
    '-nostdin',
    '-trace_stat', '-stf', join(dir, 'stat.csv'), '-fd', '1',
    '-trace_err', '-error_file', join(dir, 'errors.log'),
  ];
  const child = spawnTracked('sipp', full, { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  const keep = (d: Buffer): void => {
    out += d.toString();
    if (out.length > 200_000) out = out.slice(-100_000);
  };
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  const exited = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
  return { child, pid: child.pid ?? -1, dir, exited, output: () => out };
}

/** The last row of a SIPp -trace_stat file as name -> value (numbers where they are numbers). */
export function lastStats(dir: string): Record<string, string> {
  const file = join(dir, 'stat.csv');
  if (!existsSync(file)) return {};
  const lines = readFileSync(file, 'utf8').trim().split('\n');
  if (lines.length < 2) return {};
  const head = lines[0]!.split(';');
  const last = lines[lines.length - 1]!.split(';');
  return Object.fromEntries(head.map((h, i) => [h, last[i] ?? '']));
}

export const num = (s: Record<string, string>, k: string): number => Number(s[k] ?? 0) || 0;

/** Per-call response times (ms) of response-time `rtd` from the -trace_rtt file. */
export function rttSamples(dir: string, rtd = '1'): number[] {
  const f = readdirSync(dir).find((n) => n.endsWith('_rtt.csv'));
  if (!f) return [];
  const out: number[] = [];
  for (const line of readFileSync(join(dir, f), 'utf8').split('\n').slice(1)) {
    const [, ms, no] = line.split(';');
    if (ms !== undefined && no?.trim() === rtd) out.push(Number(ms));
  }
  return out;
}

/** The most frequent kinds of error in SIPp's -trace_err log (for the report). */
export function errorSummary(dir: string, max = 3): string[] {
  const file = join(dir, 'errors.log');
  if (!existsSync(file)) return [];
  const kinds = new Map<string, number>();
  // Entries run together: each starts "date<TAB>time<TAB>epoch: " and may carry a whole message.
  for (const entry of readFileSync(file, 'utf8').split(/\d{4}-\d\d-\d\d\t[\d:.]+\t\d+\.\d+: /).slice(1)) {
    if (entry.startsWith('Dead call')) continue; // late retransmissions for calls already over
    const [what, got] = entry.split(/, received '/);
    const firstLine = (got ?? '').split(/\r?\n/)[0]!.replace(/^(SIP\/2\.0 \d+).*|^([A-Z]+) .*/, '$1$2');
    const k = (what!.split('\n')[0]! + (firstLine ? `, got ${firstLine}` : ''))
      .replace(/Call-I[dD]:? '?[^\s',]+'?,?\s*(for )?/g, '')
      .replace(/ without label to jump to.*$/, '')
      .replace(/ for :/, ':')
      .replace(/^(Overload warning: the \w+ watchdog timer).*/, '$1 tripped (SIPp itself lagged)')
      .replace(/\d{4,}/g, 'N')
      .slice(0, 110);
    kinds.set(k, (kinds.get(k) ?? 0) + 1);
  }
  return [...kinds].sort((a, b) => b[1] - a[1]).slice(0, max).map(([k, n]) => `${n}x ${k}`);
}

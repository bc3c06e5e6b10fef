/**
 * SIPp (Debian package sip-tester), the one runner for tests, e2e and benches: every run in a
 * directory of its own, with its statistics (-trace_stat), error trace (-trace_err) and, where asked,
 * per-call response times (-trace_rtt) written there to be read back afterwards.
 * {@link runSipp}: one run to completion from options (tests, e2e); {@link startSipp}: raw arguments,
 * the process tracked and killed when the bench ends (benches).
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { spawnTracked } from '../procs.js';

/** Folder of tonegate's SIPp scenarios. */
export const SCENARIOS = resolve(import.meta.dirname, '../../../e2e/sipp');

export interface SippOptions {
  scenario: string; // file name in e2e/sipp or absolute path
  target?: string; // host:port of the gateway; omit for a UAS that only listens
  service?: string; // -s
  transport?: 'u1' | 't1' | 'tn' | 'un';
  localPort?: number;
  mediaPort?: number;
  rtpEcho?: boolean;
  calls?: number; // -m
  rate?: number; // -r
  limit?: number; // -l
  set?: Record<string, string | number>;
  timeoutS?: number;
  extra?: string[];
  /** Local address for signalling and media (-i, -mi); default 127.0.0.1 (127.0.0.2: a second source). */
  localIp?: string;
}

export interface SippResult {
  code: number | null;
  stdout: string;
  stderr: string;
  errors: string;
  /** Successful and failed call counts from the final statistics. */
  successful: number;
  failed: number;
}

/** A SIPp process started by {@link startSipp}. */
export interface SippRun {
  child: ChildProcess;
  pid: number;
  dir: string;
  /** Resolves with the exit code when SIPp ends (0: every call succeeded, 1: some failed). */
  exited: Promise<number | null>;
  /** stdout and stderr as they came (the last 100-200 KB). */
  output: () => string;
  stdout: () => string;
  stderr: () => string;
}

/**
 * Starts SIPp in `dir` with `args` (target, scenario, ports, ...) plus -nostdin and its statistics
 * and error traces into `dir`. `tracked` (the default): killed when this process ends (benches).
 */
export function startSipp(dir: string, args: string[], opts: { tracked?: boolean } = {}): SippRun {
  mkdirSync(dir, { recursive: true });
  const full = [
    ...args,
    '-nostdin',
    '-trace_stat', '-stf', join(dir, 'stat.csv'), '-fd', '1',
    '-trace_err', '-error_file', join(dir, 'errors.log'),
  ];
  const spawnOpts = { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] as ['ignore', 'pipe', 'pipe'] };
  const child = opts.tracked === false ? spawn('sipp', full, spawnOpts) : spawnTracked('sipp', full, spawnOpts);
  let out = '';
  let stdout = '';
  let stderr = '';
  const keep = (d: Buffer): void => {
    out += d.toString();
    if (out.length > 200_000) out = out.slice(-100_000);
  };
  child.stdout?.on('data', (d: Buffer) => {
    keep(d);
    stdout += d.toString();
    if (stdout.length > 1e6) stdout = stdout.slice(-5e5);
  });
  child.stderr?.on('data', (d: Buffer) => {
    keep(d);
    stderr += d.toString();
  });
  const exited = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
  return { child, pid: child.pid ?? -1, dir, exited, output: () => out, stdout: () => stdout, stderr: () => stderr };
}

/** Runs SIPp to completion from options and reads its error trace and final call counts. */
export function runSipp(o: SippOptions): { done: Promise<SippResult>; kill: () => void } {
  const dir = mkdtempSync(join(tmpdir(), 'sipp-'));
  const args = [
    ...(o.target ? [o.target] : []),
    '-sf', o.scenario.startsWith('/') ? o.scenario : join(SCENARIOS, o.scenario),
    '-i', o.localIp ?? '127.0.0.1',
    '-mi', o.localIp ?? '127.0.0.1',
    '-m', String(o.calls ?? 1),
    '-timeout', `${o.timeoutS ?? 30}s`, '-timeout_error',
    '-t', o.transport ?? 'u1',
  ];
  if (o.service) args.push('-s', o.service);
  if (o.localPort !== undefined) args.push('-p', String(o.localPort));
  if (o.mediaPort !== undefined) args.push('-mp', String(o.mediaPort));
  if (o.rtpEcho) args.push('-rtp_echo');
  if (o.rate !== undefined) args.push('-r', String(o.rate));
  if (o.limit !== undefined) args.push('-l', String(o.limit));
  for (const [k, v] of Object.entries(o.set ?? {})) args.push('-set', k, String(v));
  args.push(...(o.extra ?? []));

  const run = startSipp(dir, args, { tracked: false });
  const done = run.exited.then((code): SippResult => {
    const errFile = join(dir, 'errors.log');
    const errors = existsSync(errFile) ? readFileSync(errFile, 'utf8') : '';
    const s = lastStats(dir);
    return { code, stdout: run.stdout(), stderr: run.stderr(), errors, successful: num(s, 'SuccessfulCall(C)'), failed: num(s, 'FailedCall(C)') };
  });
  return { done, kill: () => run.child.kill('SIGINT') };
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

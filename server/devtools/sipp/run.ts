import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

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

/** Runs SIPp (Debian package sip-tester) to completion and reads its error trace. */
export function runSipp(o: SippOptions): { done: Promise<SippResult>; kill: () => void } {
  const dir = mkdtempSync(join(tmpdir(), 'sipp-'));
  const errFile = join(dir, 'errors.log');
  const statFile = join(dir, 'stats.csv');
  const args = [
    ...(o.target ? [o.target] : []),
    '-sf', o.scenario.startsWith('/') ? o.scenario : join(SCENARIOS, o.scenario),
    '-i', o.localIp ?? '127.0.0.1',
    '-mi', o.localIp ?? '127.0.0.1',
    '-nostdin',
    '-trace_err', '-error_file', errFile,
    '-trace_stat', '-stf', statFile, '-fd', '1',
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

  const child = spawn('sipp', args, { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()).length > 1e6 && (stdout = stdout.slice(-5e5)));
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const done = new Promise<SippResult>((res) => {
    child.on('close', (code) => {
      const errors = existsSync(errFile) ? readFileSync(errFile, 'utf8') : '';
      const { successful, failed } = readStats(statFile);
      res({ code, stdout, stderr, errors, successful, failed });
    });
  });
  return { done, kill: () => child.kill('SIGINT') };
}

function readStats(file: string): { successful: number; failed: number } {
  if (!existsSync(file)) return { successful: 0, failed: 0 };
  const lines = readFileSync(file, 'utf8').trim().split('\n');
  if (lines.length < 2) return { successful: 0, failed: 0 };
  const head = lines[0]!.split(';');
  const last = lines[lines.length - 1]!.split(';');
  const col = (name: string): number => Number(last[head.indexOf(name)] ?? 0);
  return { successful: col('SuccessfulCall(C)'), failed: col('FailedCall(C)') };
}

/**
 * 100,000 mutated SIP messages through addReceived + parseSip (property in fuzz-property.ts).
 * sip.js's grammar costs ~130 us per call (it re-decodes its bytecode table every time), so one
 * message costs about 1 ms; the runs are split over two child processes to use both CI cores
 * (vitest itself runs test files on availableParallelism - 1 = 1 worker there).
 */
import { fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import type { FuzzReport } from './fuzz-property.js';

const TOTAL = 100_000;
const SHARES = [
  { runs: TOTAL / 2, seed: 4475 },
  { runs: TOTAL / 2, seed: 3261 },
];

function share(runs: number, seed: number): Promise<FuzzReport> {
  return new Promise((resolve, reject) => {
    const child = fork(fileURLToPath(new URL('./fuzz-worker.ts', import.meta.url)), [String(runs), String(seed)], {
      execArgv: ['--import', 'tsx'],
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    child.once('message', (report) => resolve(report as FuzzReport));
    child.once('error', reject);
    child.once('exit', (code) => {
      if (code !== 0) reject(new Error(`fuzz worker exited with ${code}`));
    });
  });
}

describe('parseSip under mutation', () => {
  it(`never throws on ${TOTAL} mutated messages, and every reject is a parseable response with the same Call-ID`, async () => {
    const started = performance.now();
    const reports = await Promise.all(SHARES.map((s) => share(s.runs, s.seed)));
    const count = reports.reduce((n, r) => n + r.count, 0);
    const sum = (pick: (r: FuzzReport) => Record<string, number>): Record<string, number> => {
      const out: Record<string, number> = {};
      for (const r of reports) for (const [k, v] of Object.entries(pick(r))) out[k] = (out[k] ?? 0) + v;
      return out;
    };
    console.log(
      `fuzz: ${count} mutated messages through addReceived + parseSip in ${Math.round(performance.now() - started)} ms ` +
        `(2 processes: ${reports.map((r) => `${r.count} in ${r.ms} ms`).join(', ')}); ` +
        `outcomes ${JSON.stringify(sum((r) => r.outcomes))}; rejects ${JSON.stringify(sum((r) => r.rejects))}`,
    );
    for (const r of reports) expect(r.failure).toBeUndefined();
    expect(count).toBe(TOTAL);
  }, 300_000);
});

/**
 * Child of heap-compaction.test.ts (run with --expose-gc): fragments the old space, then runs full
 * collections with or without a periodic-compaction window, and prints the old space's committed
 * size before and after and its used size, as JSON.
 */
import { getHeapSpaceStatistics } from 'node:v8';
import { startPeriodicCompaction } from '../../../src/observability/heap-compaction.js';

const gc = (globalThis as { gc?: () => void }).gc;
if (!gc) throw new Error('run with --expose-gc');
const old = (): { committed: number; used: number } => {
  const s = getHeapSpaceStatistics().find((x) => x.space_name === 'old_space')!;
  return { committed: s.space_size, used: s.space_used_size };
};
const tick = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

let keep: Array<{ id: string; n: number; pair: number[]; s: string }> = [];
for (let i = 0; i < 360_000; i++) keep.push({ id: `x${i}`, n: i, pair: [i, i + 1], s: `${'y'.repeat(20)}${i}` });
gc();
gc();
keep = keep.filter((_, i) => i % 3 !== 0); // 1 of 3 gone: every page keeps two thirds of its objects
gc();
gc();
const before = old().committed;
const periodic = process.argv[2] === 'periodic' ? startPeriodicCompaction(50) : undefined;
await tick(120); // one period elapses
for (let i = 0; i < 3; i++) {
  gc();
  await tick(20); // the gc performance entries are delivered asynchronously
}
const { committed: after, used } = old();
periodic?.stop();
process.stdout.write(JSON.stringify({ before, after, used, windows: periodic?.window.windows ?? 0, kept: keep.length }));

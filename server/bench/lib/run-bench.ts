/**
 * The end of every bench: `await runBench(main)`. When `main` throws, it prints
 * `bench:<name> failed: <stack>`, kills every process the bench started (devtools/procs.ts) and
 * exits 1. `name` defaults to the bench file's name (server/bench/sip.ts: `sip`); `exit`: exit 0
 * once `main` resolves, for a bench whose handles would keep the process alive.
 */
import { basename } from 'node:path';
import { killAllChildren } from '../../devtools/procs.js';

export async function runBench(main: () => Promise<void>, o: { name?: string; exit?: boolean } = {}): Promise<void> {
  const name = o.name ?? basename(process.argv[1] ?? 'bench', '.ts');
  try {
    await main();
  } catch (err) {
    process.stderr.write(`bench:${name} failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    killAllChildren();
    process.exit(1);
  }
  if (o.exit) process.exit(0);
}

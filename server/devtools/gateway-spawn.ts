/**
 * The one way a gateway is started as a process of its own: `node [nodeArgs] --import tsx <entry>`
 * from the repository root, as `npm start` runs server/src/main.ts (or `node server/dist/main.js`, as
 * `npm run start:production` does), with `env` added to this process's environment. The tests'
 * GatewayChild (server/test/support/gateway-process.ts), the e2e gateway
 * (e2e/support/gateway-process.ts) and the benches' GatewayProcess (server/bench/lib/gateway.ts,
 * which adds the probe over IPC) are thin wrappers around it.
 */
import { spawn, type ChildProcess, type StdioOptions } from 'node:child_process';
import { resolve } from 'node:path';
import { sleep, spawnTracked, stopChild } from './procs.js';

/** The repository root: the gateway's working directory. */
export const REPO = resolve(import.meta.dirname, '../..');

export interface SpawnGatewayOptions {
  /**
   * What to run, relative to the repository root: server/src/main.ts (the default), an entry that
   * wraps it (e2e/support/gateway-main.ts, server/bench/lib/gateway-entry.ts), or a compiled `.js`
   * file, which node runs without tsx.
   */
  entry?: string;
  env: Record<string, string>;
  /** Node flags before the entry (e.g. `--expose-gc`, `--cpu-prof`). */
  nodeArgs?: string[];
  /** An IPC channel to the child (the bench probe). */
  ipc?: boolean;
  /** Killed when this process ends, however it ends (benches; see procs.ts). */
  tracked?: boolean;
}

/** Starts the gateway process; its stdout and stderr are pipes for the caller to read. */
export function spawnGateway(o: SpawnGatewayOptions): ChildProcess {
  const entry = o.entry ?? 'server/src/main.ts';
  const args = [...(o.nodeArgs ?? []), ...(entry.endsWith('.ts') ? ['--import', 'tsx'] : []), entry];
  const stdio: StdioOptions = ['ignore', 'pipe', 'pipe', ...(o.ipc ? (['ipc'] as const) : [])];
  const opts = { cwd: REPO, env: { ...process.env, ...o.env }, stdio };
  return o.tracked ? spawnTracked(process.execPath, args, opts) : spawn(process.execPath, args, opts);
}

/**
 * Polls `isUp` every 200 ms until it says true. Throws, naming `what` and the output `tail()`, when
 * the child exits first or after `timeoutMs` (the child is then killed).
 */
export async function waitUntilUp(child: ChildProcess, isUp: () => Promise<boolean>, tail: () => string, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`gateway exited with ${child.exitCode} at start:\n${tail()}`);
    try {
      if (await isUp()) return;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) {
      await stopChild(child, 'SIGKILL');
      throw new Error(`gateway did not come up within ${timeoutMs / 1000} s:\n${tail()}`);
    }
    await sleep(200);
  }
}

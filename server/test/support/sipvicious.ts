import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { freePort } from '../../devtools/ports.js';

/**
 * SIPVicious OSS 0.3 from Debian's `sipvicious` package (`svwar`, `svcrack`, `svmap`, Python 3
 * scripts), for the attack tests (docs/security.md, "Attacks tried").
 */

/** Runs one SIPVicious tool bound to 127.0.0.1 on a port of its own; stdout + stderr. */
export async function sipvicious(tool: 'svwar' | 'svcrack' | 'svmap', args: string[], timeoutMs = 60_000): Promise<string> {
  const local = await freePort();
  const child = spawn(tool, ['-P', String(local), '-b', '127.0.0.1', '-x', '127.0.0.1', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr.on('data', (d: Buffer) => (out += d.toString()));
  const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
  await new Promise((r) => child.on('close', r));
  clearTimeout(timer);
  return out;
}

/** A word list (ids or passwords) for a tool's `-d`, one per line, in `dir`. */
export function wordList(dir: string, name: string, lines: string[]): string {
  const f = join(dir, name);
  writeFileSync(f, `${lines.join('\n')}\n`);
  return f;
}

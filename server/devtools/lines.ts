import type { ChildProcess } from 'node:child_process';

/** Collects a child process's stdout and stderr as whole lines, in arrival order. */
export function collectLines(child: ChildProcess, into: string[]): void {
  let buf = '';
  const onData = (d: Buffer): void => {
    buf += d.toString();
    let nl: number;
    while ((nl = buf.indexOf('\n')) >= 0) {
      into.push(buf.slice(0, nl));
      buf = buf.slice(nl + 1);
    }
  };
  child.stdout?.on('data', onData);
  child.stderr?.on('data', onData);
}

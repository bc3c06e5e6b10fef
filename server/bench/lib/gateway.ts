/**
 * The gateway under test, as its own process: server/src/main.ts run through tsx, as `npm start`
 * runs it, behind gateway-entry.ts, which first installs the bench's probe (heap, event-loop
 * delay, CPU profiles over IPC). The exit of the gateway is logged with its last output.
 */
import type { ChildProcess } from 'node:child_process';
import { appendFileSync } from 'node:fs';
import { spawnGateway, waitUntilUp } from '../../devtools/gateway-spawn.js';
import { sleep, stopChild } from '../../devtools/procs.js';
import type { EldReport, MemReport, ProbeRequest } from './probe.js';

export interface Health {
  /** `ok`, `degraded`, or `starting` until every part of the gateway is up. */
  status: string;
  /** Bridged calls (B2BUA). */
  calls: number;
  /** Payment calls (transfer mode). */
  payments: number;
  registered: number;
  transactions: number;
  received: number;
  dropped: number;
  rejected: number;
}

type Pending = { resolve: (v: unknown) => void; reject: (e: Error) => void };
type DistributiveOmit<T, K extends keyof T> = T extends unknown ? Omit<T, K> : never;

export class GatewayProcess {
  readonly pid: number;
  /** Log lines at warn or above (pino levels 40+) seen so far. */
  warnings = 0;
  lastWarning = '';
  private seq = 0;
  private readonly pending = new Map<number, Pending>();
  private out = '';
  private tail = '';

  private constructor(
    readonly child: ChildProcess,
    readonly sipPort: number,
    readonly httpPort: number,
  ) {
    this.pid = child.pid ?? -1;
    child.on('message', (m: { id: number; result?: unknown; error?: string }) => {
      const p = this.pending.get(m.id);
      if (!p) return;
      this.pending.delete(m.id);
      if (m.error !== undefined) p.reject(new Error(m.error));
      else p.resolve(m.result);
    });
    const onData = (d: Buffer): void => {
      this.tail = (this.tail + d.toString()).slice(-4000);
      this.out += d.toString();
      let nl: number;
      while ((nl = this.out.indexOf('\n')) >= 0) {
        const line = this.out.slice(0, nl);
        this.out = this.out.slice(nl + 1);
        const level = Number(/"level":(\d+)/.exec(line)?.[1] ?? 0);
        if (level >= 40) {
          this.warnings++;
          if (this.logFile) appendFileSync(this.logFile, `${line}\n`);
          const msg = /"msg":"((?:[^"\\]|\\.)*)"/.exec(line)?.[1] ?? line;
          const err = /"err":\{.*?"message":"((?:[^"\\]|\\.)*)"/.exec(line)?.[1]?.replace(/\\"/g, '"');
          this.lastWarning = (err ? `${msg}: ${err}` : msg).slice(0, 160);
        }
      }
    };
    child.stdout?.on('data', onData);
    child.stderr?.on('data', onData);
    child.on('exit', (code, signal) => {
      if (!this.stopping) process.stderr.write(`bench: gateway ${this.pid} exited (${code ?? signal}) unexpectedly:\n${this.tail.slice(-1500)}\n`);
    });
  }

  private stopping = false;
  /** Where the gateway's warn+ log lines go (the run directory), if anywhere. */
  logFile: string | undefined;

  /** The last few KiB the gateway wrote (for error reports). */
  lastOutput(): string {
    return this.tail;
  }

  /** `nodeArgs`: extra Node flags (e.g. `--cpu-prof --cpu-prof-dir=D`: a profile per thread at exit). */
  static async start(o: { env: Record<string, string>; sipPort: number; httpPort: number; logDir?: string; nodeArgs?: string[] }): Promise<GatewayProcess> {
    const child = spawnGateway({ entry: 'server/bench/lib/gateway-entry.ts', env: o.env, nodeArgs: ['--expose-gc', ...(o.nodeArgs ?? [])], ipc: true, tracked: true });
    const gw = new GatewayProcess(child, o.sipPort, o.httpPort);
    if (o.logDir) gw.logFile = `${o.logDir}/gateway-${gw.pid}-warnings.log`;
    let early = '';
    child.stderr?.on('data', (d: Buffer) => (early += d.toString()));
    await waitUntilUp(child, async () => (await gw.health()).status !== 'starting', () => early.slice(-2000));
    return gw;
  }

  async health(): Promise<Health> {
    const r = await fetch(`http://127.0.0.1:${this.httpPort}/healthz`, { signal: AbortSignal.timeout(2000) });
    const j = (await r.json()) as { status: string; details: { calls: number; payments?: number; registered: number; sip?: Partial<Health> } };
    const s = j.details.sip ?? {};
    return {
      status: j.status,
      calls: j.details.calls,
      payments: j.details.payments ?? 0,
      registered: j.details.registered,
      transactions: s.transactions ?? 0,
      received: s.received ?? 0,
      dropped: s.dropped ?? 0,
      rejected: s.rejected ?? 0,
    };
  }

  private ask<T>(req: DistributiveOmit<ProbeRequest, 'id'>, timeoutMs = 30_000): Promise<T> {
    const id = ++this.seq;
    return new Promise<T>((resolve, reject) => {
      const t = setTimeout(() => {
        this.pending.delete(id);
        reject(new Error(`probe ${req.op} timed out`));
      }, timeoutMs);
      this.pending.set(id, {
        resolve: (v) => {
          clearTimeout(t);
          resolve(v as T);
        },
        reject: (e) => {
          clearTimeout(t);
          reject(e);
        },
      });
      this.child.send({ ...req, id });
    });
  }

  mem(gc = true): Promise<MemReport> {
    return this.ask<MemReport>({ op: 'mem', gc });
  }

  eventLoopDelay(): Promise<EldReport> {
    return this.ask<EldReport>({ op: 'eld' });
  }

  profileStart(intervalUs = 1000): Promise<unknown> {
    return this.ask({ op: 'prof-start', intervalUs });
  }

  profileStop(file: string): Promise<unknown> {
    return this.ask({ op: 'prof-stop', file }, 60_000);
  }

  /** Waits until the gateway holds `calls` calls (or fewer, with `atMost`); false on timeout. */
  async waitCalls(pred: (calls: number) => boolean, timeoutMs: number): Promise<boolean> {
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      try {
        if (pred((await this.health()).calls)) return true;
      } catch {
        /* busy: try again */
      }
      await sleep(250);
    }
    return false;
  }

  stop(): Promise<void> {
    this.stopping = true;
    if (this.child.connected) this.child.disconnect();
    return stopChild(this.child, 'SIGTERM', 8000);
  }
}

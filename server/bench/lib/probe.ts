/**
 * Loaded into the gateway by the SIP benchmark only (through gateway-entry.ts, before main.ts;
 * the process is spawned with an IPC channel). It lets the bench
 * read what /proc cannot show, without adding anything to the gateway's own HTTP surface:
 *   mem   -> process.memoryUsage() (after a full GC when asked), the count of live handles, V8's
 *            old space (committed and in use: v8.getHeapSpaceStatistics) and the collections so far
 *   eld   -> event-loop delay percentiles since the last `eld` (perf_hooks histogram), then reset
 *   prof-start / prof-stop {file} -> a V8 CPU profile (the same sampler as `node --cpu-prof`)
 *                                    of just the window between them, written as .cpuprofile
 * With BENCH_WHAT_IF set it first applies the opt-in experiments of what-if.ts.
 * When the bench goes away (IPC disconnect) the gateway is stopped as if by SIGTERM, so a bench that
 * is killed outright does not leave a gateway behind.
 */
import { Session } from 'node:inspector';
import { writeFileSync } from 'node:fs';
import { monitorEventLoopDelay, PerformanceObserver, constants as perf } from 'node:perf_hooks';
import { getHeapSpaceStatistics } from 'node:v8';
import { applyWhatIf } from './what-if.js';

export type ProbeRequest =
  | { id: number; op: 'mem'; gc?: boolean }
  | { id: number; op: 'eld' }
  | { id: number; op: 'prof-start'; intervalUs?: number }
  | { id: number; op: 'prof-stop'; file: string };

export interface MemReport {
  rss: number;
  heapUsed: number;
  heapTotal: number;
  external: number;
  arrayBuffers: number;
  handles: number;
  /** V8's old space: bytes committed (`space_size`) and in use (`space_used_size`). */
  oldSpace: number;
  oldSpaceUsed: number;
  /** Garbage collections since the probe loaded: mark-compact (full) and scavenges. */
  fullGcs: number;
  scavenges: number;
}

export interface EldReport {
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
}

if (process.env.BENCH_WHAT_IF) {
  const applied = applyWhatIf(process.env.BENCH_WHAT_IF);
  process.stderr.write(`bench probe: what-if ${applied.join(', ')} applied\n`);
}

if (process.send) {
  const eld = monitorEventLoopDelay({ resolution: 10 });
  eld.enable();
  const gcs = { full: 0, scavenge: 0 };
  new PerformanceObserver((list) => {
    for (const e of list.getEntries()) {
      const kind = (e as { detail?: { kind?: number } }).detail?.kind;
      if (kind === perf.NODE_PERFORMANCE_GC_MAJOR) gcs.full++;
      else if (kind === perf.NODE_PERFORMANCE_GC_MINOR) gcs.scavenge++;
    }
  }).observe({ entryTypes: ['gc'] });
  let session: Session | undefined;
  const post = (s: Session, method: string, params?: object): Promise<unknown> =>
    new Promise((resolve, reject) => s.post(method, params ?? {}, (err, res) => (err ? reject(err) : resolve(res))));

  const handle = async (m: ProbeRequest): Promise<unknown> => {
    switch (m.op) {
      case 'mem': {
        const gc = (globalThis as { gc?: () => void }).gc;
        if (m.gc && gc) {
          gc();
          await new Promise((r) => setImmediate(r));
          gc();
        }
        const u = process.memoryUsage();
        const old = getHeapSpaceStatistics().find((s) => s.space_name === 'old_space');
        return {
          rss: u.rss, heapUsed: u.heapUsed, heapTotal: u.heapTotal, external: u.external, arrayBuffers: u.arrayBuffers,
          handles: process.getActiveResourcesInfo().length,
          oldSpace: old?.space_size ?? NaN, oldSpaceUsed: old?.space_used_size ?? NaN, fullGcs: gcs.full, scavenges: gcs.scavenge,
        } satisfies MemReport;
      }
      case 'eld': {
        const r: EldReport = { p50Ms: eld.percentile(50) / 1e6, p99Ms: eld.percentile(99) / 1e6, maxMs: eld.max / 1e6 };
        eld.reset();
        return r;
      }
      case 'prof-start': {
        session = new Session();
        session.connect();
        await post(session, 'Profiler.enable');
        await post(session, 'Profiler.setSamplingInterval', { interval: m.intervalUs ?? 1000 });
        await post(session, 'Profiler.start');
        return true;
      }
      case 'prof-stop': {
        if (!session) throw new Error('profiler not started');
        const { profile } = (await post(session, 'Profiler.stop')) as { profile: unknown };
        session.disconnect();
        session = undefined;
        writeFileSync(m.file, JSON.stringify(profile));
        return true;
      }
    }
  };

  process.on('message', (m: ProbeRequest) => {
    handle(m).then(
      (result) => process.send?.({ id: m.id, result }),
      (err: unknown) => process.send?.({ id: m.id, error: err instanceof Error ? err.message : String(err) }),
    );
  });
  process.on('disconnect', () => process.kill(process.pid, 'SIGTERM'));
}

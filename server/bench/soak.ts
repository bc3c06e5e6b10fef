/**
 * `npm run bench:soak -- --minutes N [--rate R] [--transport rfc4733|inband]`: steady
 * payment load for N minutes, by default at 80 % of the maximum bench:load found (load-max.json),
 * the same SIPp payment calls as bench:load (server/bench/lib/load-run.ts judges every one).
 *
 * Every 10 s: the gateway's RSS, event-loop lag over those 10 s (p99 and max), open file
 * descriptors (/proc/<pid>/fd), live handles, calls held, CPU, the hypervisor's steal from this
 * guest (/proc/stat: a contended host, not the gateway, may explain lag), and where the memory is
 * (lib/soak-memory.ts): the main thread's V8 heap (used, total), `external` and `arrayBuffers`,
 * each media worker thread's heap, external, ArrayBuffers and V8 malloc use (the gateway's
 * /metrics), and the RSS none of those explain. Before the load and after it has drained, a full GC
 * and the same figures again. A leak fails the soak (exit 1):
 *   - file descriptors or live handles after the drain above the baseline by more than 5;
 *   - V8 heap after a full GC after the drain above the heap after a full GC mid-run by more
 *     than 16 MiB. The gateway keeps ended sessions and their event history on purpose, bounded
 *     (10,000 sessions each in the memory store and bus): once those are full the heap must stop
 *     growing, so the mid-run GC comes at half time or a minute after they are full if that is
 *     later; a run too short or too slow to fill them does not judge this. Against the empty
 *     baseline the growth is listed too, as information;
 *   - RSS growing by more than 10 MiB per 10 minutes after warm-up (least squares over the 10 s
 *     samples). Warm-up ends when the retention caps are full (10,000 sessions at the soak's rate,
 *     e.g. 11.9 min at 14 calls/s: the heap grows by design until then), and not before 5 minutes;
 *     the trend is judged only when at least 10 minutes of load follow the warm-up, otherwise it is
 *     reported as not judged. Every memory series' trend over the same window is listed.
 * `--samples FILE`: the 10 s samples as CSV to FILE (also with --no-write), rewritten every 10 s.
 * Failed payments and digit errors are reported (and also fail the soak).
 * Writes server/bench/soak.png (a chart drawn as SVG and rendered by Debian's Chromium through
 * Playwright) and the RESULTS.md section between the bench:soak markers; `--no-write` to skip.
 */
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startLoadEnv, stopLoadEnv } from './lib/load-env.js';
import { lag, runLoadStep, type LoadStep } from './lib/load-run.js';
import type { DtmfTransport } from '../devtools/sipp/load-scenario.js';
import { cpuSeconds, machineCpu, rssBytes } from './lib/procs.js';
import { sleep } from '../devtools/procs.js';
import { replaceMarkedSection } from './lib/report.js';
import { chartSvg, renderPng, type Sample } from './lib/soak-chart.js';
import { memCsvHeader, memCsvRow, slopesPer10Min, workerMemory } from './lib/soak-memory.js';
import { runBench } from './lib/run-bench.js';

const args = process.argv.slice(2);
const opt = (name: string): string | undefined => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? args[i + 1] : undefined;
};
const minutes = Number(opt('minutes') ?? 30);
const transport = (opt('transport') ?? 'rfc4733') as DtmfTransport;
const write = !args.includes('--no-write');
/** Where the 10 s samples go (also with --no-write when given). */
const samplesFile = opt('samples');
const log = (s: string): void => void process.stdout.write(`${s}\n`);
/** The gateway's heap settings for this run (docs/operations.md, Memory): the environment passes through to it. */
const env0 = process.env;
const heapGrowth = [
  `HEAP_GROWTH_PERCENT ${env0['HEAP_GROWTH_PERCENT'] ?? '50 (default)'}`,
  `HEAP_COMPACT_EVERY_S ${env0['HEAP_COMPACT_EVERY_S'] ?? '300 (default)'}`,
  ...(env0['HEAP_COMPACTION'] ? [`HEAP_COMPACTION ${env0['HEAP_COMPACTION']}`] : []),
  ...(env0['BENCH_WHAT_IF'] ? [`what-if ${env0['BENCH_WHAT_IF']} (not the gateway as shipped)`] : []),
].join(', ');
const HERE = fileURLToPath(new URL('.', import.meta.url));

function defaultRate(): { rate: number; from: string } {
  const given = opt('rate');
  if (given) return { rate: Number(given), from: '--rate' };
  const file = join(HERE, 'load-max.json');
  if (!existsSync(file)) throw new Error('no --rate and no server/bench/load-max.json: run `npm run bench:load` first or pass --rate R');
  const max = (JSON.parse(readFileSync(file, 'utf8')) as Record<string, { rate?: number }>)[transport]?.rate;
  if (!max) throw new Error(`load-max.json has no ${transport} maximum: pass --rate R`);
  return { rate: Math.max(1, Math.round(max * 0.8 * 10) / 10), from: `80 % of bench:load's ${max} calls/s (load-max.json)` };
}

/** The heap after a full GC once the retention caps are full (see midAtS). */
let mid: { heapMb: number; t: number } | undefined;
/** Warm-up lasts at least this long (ramp, JIT, heap sizing), and until the retention caps are full. */
const WARM_UP_MIN_S = 300;
/** The issue's criterion: RSS may not grow faster than this after warm-up, MiB per 10 minutes. */
const RSS_MB_PER_10_MIN = 10;
/** Sessions each memory store keeps at most (server/src/store: DEFAULT_MAX_SESSIONS, the bus's maxSessions). */
const RETAINED_SESSIONS = 10_000;
/** 10 s samples whose probes the gateway did not answer in time (it was too busy). */
let soakUnanswered = 0;
/** Hypervisor steal over the whole load, % of the machine's CPU time (a contended host explains lag it did not cause). */
let soakSteal = 0;

/** Steal between two /proc/stat readings, as a share of the machine's CPU time then, %. */
function stealShare(a: ReturnType<typeof machineCpu>, b: ReturnType<typeof machineCpu>): number {
  const total = b.total - a.total;
  return total > 0 ? (100 * (b.steal - a.steal)) / total : 0;
}

const fdCount = (pid: number): number => {
  try {
    return readdirSync(`/proc/${pid}/fd`).length;
  } catch {
    return NaN;
  }
};

/** The samples so far as CSV, to --samples or (when writing) soak-samples.csv: rewritten every 10 s, so a soak that dies leaves its figures. */
function writeSamples(samples: Sample[]): void {
  const file = samplesFile ?? (write ? join(HERE, 'soak-samples.csv') : undefined);
  if (!file) return;
  const workers = Math.max(0, ...samples.map((s) => s.workers.length));
  const rows = samples.map((s) => [s.t.toFixed(0), s.rssMb.toFixed(1), s.heapMb.toFixed(1), s.lagP99, s.lagMax, s.fds, s.handles, s.calls, s.cpuPct.toFixed(1), s.stealPct.toFixed(1), ...memCsvRow(s, workers)].join(','));
  writeFileSync(file, ['t_s,rss_mb,heap_mb,lag_p99_ms,lag_max_ms,fds,handles,calls,cpu_pct,steal_pct,' + memCsvHeader(workers).join(','), ...rows].join('\n') + '\n');
}

async function main(): Promise<void> {
  const { rate, from } = defaultRate();
  // The mid-run full GC: at half time, or a minute after the retention caps are full if that is
  // later (at 9.6 calls/s they fill at 17.4 min) and still a minute before the end.
  const fullAtS = RETAINED_SESSIONS / rate + 60;
  const midAtS = fullAtS <= minutes * 60 - 60 ? Math.max((minutes * 60) / 2, fullAtS) : (minutes * 60) / 2;
  const env = await startLoadEnv('soak');
  const info = { cpu: cpus()[0]?.model ?? '?', cores: cpus().length, node: process.version, load: loadavg().map((x) => x.toFixed(2)).join(' ') };
  log(`bench:soak ${minutes} min at ${rate} calls/s (${from}), ${transport}, ${heapGrowth}; gateway pid ${env.gw.pid}; run dir ${env.runDir}`);
  const samples: Sample[] = [];
  let step: LoadStep | undefined;
  let before: { heapMb: number; fds: number; handles: number } | undefined;
  let after: { heapMb: number; fds: number; handles: number; left: number } | undefined;
  try {
    await runLoadStep(env, { transport, rate: 2, calls: 4, label: 'warm-up' });
    await sleep(2000);
    const m0 = await env.gw.mem(true);
    before = { heapMb: m0.heapUsed / 2 ** 20, fds: fdCount(env.gw.pid), handles: m0.handles };
    log(`baseline after warm-up and a full GC: heap ${before.heapMb.toFixed(1)} MB, ${before.fds} fds, ${before.handles} handles`);
    const calls = Math.round(rate * minutes * 60);
    const t0 = performance.now();
    let done = false;
    const running = runLoadStep(env, { transport, rate, calls, label: `soak ${rate}/s` }).finally(() => (done = true));
    let cpuPrev = cpuSeconds(env.gw.pid) ?? 0;
    const host0 = machineCpu();
    let hostPrev = host0;
    let unanswered = 0;
    let tPrev = t0;
    await env.gw.eventLoopDelay();
    while (!done) {
      await Promise.race([sleep(10_000), running.catch(() => undefined)]);
      if (done) break;
      const now = performance.now();
      // A gateway too busy to answer within the probe's timeout is a finding, not the end of the soak.
      const [mem, eld, h, wm] = await Promise.allSettled([env.gw.mem(false), env.gw.eventLoopDelay(), env.gw.health(), workerMemory(env.gw.httpPort)]);
      if (mem.status === 'rejected' || eld.status === 'rejected' || h.status === 'rejected') unanswered++;
      if (mid === undefined && now - t0 >= midAtS * 1000) {
        const g = await env.gw.mem(true).catch(() => undefined);
        if (g) mid = { heapMb: g.heapUsed / 2 ** 20, t: (now - t0) / 1000 };
      }
      const cpu = cpuSeconds(env.gw.pid) ?? cpuPrev;
      const host = machineCpu();
      const s: Sample = {
        t: (now - t0) / 1000,
        rssMb: (rssBytes(env.gw.pid) ?? NaN) / 2 ** 20,
        heapMb: mem.status === 'fulfilled' ? mem.value.heapUsed / 2 ** 20 : NaN,
        heapTotalMb: mem.status === 'fulfilled' ? mem.value.heapTotal / 2 ** 20 : NaN,
        externalMb: mem.status === 'fulfilled' ? mem.value.external / 2 ** 20 : NaN,
        arrayBuffersMb: mem.status === 'fulfilled' ? mem.value.arrayBuffers / 2 ** 20 : NaN,
        oldSpaceMb: mem.status === 'fulfilled' ? mem.value.oldSpace / 2 ** 20 : NaN,
        oldSpaceUsedMb: mem.status === 'fulfilled' ? mem.value.oldSpaceUsed / 2 ** 20 : NaN,
        fullGcs: mem.status === 'fulfilled' ? mem.value.fullGcs : NaN,
        workers: wm.status === 'fulfilled' ? wm.value : [],
        lagP99: eld.status === 'fulfilled' ? lag(eld.value.p99Ms) : NaN,
        lagMax: eld.status === 'fulfilled' ? lag(eld.value.maxMs) : NaN,
        fds: fdCount(env.gw.pid),
        handles: mem.status === 'fulfilled' ? mem.value.handles : NaN,
        calls: h.status === 'fulfilled' ? h.value.calls + h.value.payments : NaN,
        cpuPct: (100 * (cpu - cpuPrev)) / ((now - tPrev) / 1000),
        stealPct: stealShare(hostPrev, host),
      };
      cpuPrev = cpu;
      hostPrev = host;
      tPrev = now;
      samples.push(s);
      writeSamples(samples);
      if (samples.length % 6 === 0) log(`${(s.t / 60).toFixed(1)} min: RSS ${s.rssMb.toFixed(0)} MB, heap ${s.heapMb.toFixed(0)} MB, old space ${s.oldSpaceUsedMb.toFixed(0)}/${s.oldSpaceMb.toFixed(0)} MB (${s.fullGcs} full GCs), external ${s.externalMb.toFixed(0)} MB, workers' heaps ${s.workers.map((w) => w.heapUsed.toFixed(0)).join('/')} MB, lag p99 ${s.lagP99} ms, ${s.fds} fds, ${s.handles} handles, ${s.calls} calls, CPU ${s.cpuPct.toFixed(0)} %, host steal ${s.stealPct.toFixed(1)} %`);
    }
    step = await running;
    soakUnanswered = unanswered;
    soakSteal = stealShare(host0, machineCpu());
    const held = async (): Promise<number> => {
      try {
        const x = await env.gw.health();
        return x.calls + x.payments;
      } catch {
        return -1; // busy: ask again
      }
    };
    for (let i = 0; i < 60 && (await held()) !== 0; i++) await sleep(1000);
    await sleep(3000);
    const m1 = await env.gw.mem(true);
    after = { heapMb: m1.heapUsed / 2 ** 20, fds: fdCount(env.gw.pid), handles: m1.handles, left: await held() };
  } finally {
    await stopLoadEnv(env);
  }
  if (!step || !before || !after) throw new Error('soak did not complete');
  // RSS trend after warm-up: once the retention caps are full (the heap grows by design until then)
  // and not before 5 minutes (ramp, JIT, heap sizing); judged when 10 minutes of load follow it.
  const loaded = samples.filter((s) => s.t <= minutes * 60);
  const warmS = Math.max(WARM_UP_MIN_S, RETAINED_SESSIONS / rate);
  const judged = minutes * 60 - warmS >= 600;
  const fromS = judged ? warmS : WARM_UP_MIN_S;
  const workers = Math.max(0, ...loaded.map((s) => s.workers.length));
  const slopes = slopesPer10Min(loaded, fromS, workers);
  const rssPer10Min = slopes[0]!.per10Min;
  const heapPer10Min = slopes[1]!.per10Min;
  const sign = (x: number): string => `${x >= 0 ? '+' : ''}${x.toFixed(1)}`;
  const window = `${(fromS / 60).toFixed(1)}-${minutes} min`;
  const lags = loaded.map((s) => s.lagP99).filter(Number.isFinite).sort((a, b) => a - b);
  const worstLag = Math.max(...loaded.map((s) => s.lagMax).filter(Number.isFinite));
  const heldMax = Math.max(...samples.map((s) => s.calls).filter(Number.isFinite));
  const worstSteal = Math.max(0, ...samples.map((s) => s.stealPct).filter(Number.isFinite));
  const verdicts = [
    { what: 'file descriptors after the drain', ok: after.fds - before.fds <= 5, text: `${before.fds} -> ${after.fds}` },
    { what: 'live handles after the drain', ok: after.handles - before.handles <= 5, text: `${before.handles} -> ${after.handles}` },
    mid === undefined || rate * mid.t < RETAINED_SESSIONS
      ? {
          what: 'V8 heap after a full GC: stores full -> after the drain',
          ok: true,
          text: `not judged: ${mid ? `${Math.round(rate * mid.t)} sessions by the mid-run full GC at ${(mid.t / 60).toFixed(1)} min` : 'no mid-run full GC'}, retention cap ${RETAINED_SESSIONS} (the heap grows by design until it is reached); after the drain ${after.heapMb.toFixed(1)} MB`,
        }
      : {
          what: `V8 heap after a full GC: stores full (${(mid.t / 60).toFixed(1)} min) -> after the drain`,
          ok: after.heapMb - mid.heapMb <= 16,
          text: `${mid.heapMb.toFixed(1)} -> ${after.heapMb.toFixed(1)} MB (${Math.round(rate * mid.t)} sessions by then, retention cap ${RETAINED_SESSIONS}; empty baseline ${before.heapMb.toFixed(1)} MB)`,
        },
    judged
      ? { what: `RSS trend after warm-up (${window})`, ok: rssPer10Min <= RSS_MB_PER_10_MIN, text: `${sign(rssPer10Min)} MB per 10 min (main heap ${sign(heapPer10Min)}; limit ${RSS_MB_PER_10_MIN})` }
      : { what: `RSS trend (${window})`, ok: true, text: `not judged: warm-up lasts ${(warmS / 60).toFixed(1)} min at ${rate} calls/s (${RETAINED_SESSIONS} sessions retained), and 10 minutes must follow it; ${sign(rssPer10Min)} MB per 10 min while the stores still fill` },
    { what: 'payments', ok: step.pass, text: `${step.paid}/${step.calls} paid, digits lost ${step.digitsLost} / extra ${step.digitsExtra}, field errors ${step.fieldErrors}, SIPp failed ${step.sippFailed}` },
  ];
  const leak = verdicts.some((v) => !v.ok);
  for (const v of verdicts) log(`${v.ok ? 'ok  ' : 'FAIL'} ${v.what}: ${v.text}`);
  log(`memory trend ${window} (least squares, MB per 10 min; first -> last sample):`);
  for (const x of slopes) log(`  ${x.name.padEnd(36)} ${sign(x.per10Min).padStart(7)}   ${x.first.toFixed(1)} -> ${x.last.toFixed(1)}`);
  log(`event-loop lag over 10 s windows: median p99 ${lags[Math.floor(lags.length / 2)] ?? '-'} ms, worst window p99 ${lags[lags.length - 1] ?? '-'} ms, max ${worstLag} ms; digit->event p99 ${step.digitFromEnd.p99} ms from the end; calls held up to ${heldMax}; host steal ${soakSteal.toFixed(1)} % (worst sample ${worstSteal.toFixed(1)} %); ${soakUnanswered} of ${samples.length} samples unanswered within 2 s`);
  writeSamples(samples);
  if (write) {
    const png = join(HERE, 'soak.png');
    const title = `bench:soak: ${minutes} min, ${rate} payment calls/s (${transport}), ${step.paid}/${step.calls} paid`;
    await renderPng(chartSvg(samples, title), png);
    const body = [
      '<!-- bench:soak -->',
      '## Soak (`npm run bench:soak`)',
      '',
      `Run ${new Date().toISOString()} on ${info.cpu}, ${info.cores} cores, Node ${info.node}, load average ${info.load} at start: **${minutes} minutes at ${rate} payment calls/s** (${from}), ${transport}, ${heapGrowth}, the same SIPp payment calls as bench:load; ${step.calls} calls, ${step.paid} paid, calls held up to ${heldMax}; hypervisor steal ${soakSteal.toFixed(1)} % of the machine's CPU time over the load (worst 10 s sample ${worstSteal.toFixed(1)} %; /proc/stat); ${soakUnanswered} of ${samples.length} 10 s samples went unanswered within the probe's 2 s (gateway too busy).`,
      '',
      'Method: every 10 s the gateway\'s RSS, event-loop lag over those 10 s (perf_hooks, beyond its 10 ms interval), open file descriptors, live handles, calls held, CPU, the hypervisor\'s steal (/proc/stat), and where the memory is: the main thread\'s V8 heap (used, total), `external` and `arrayBuffers` (process.memoryUsage() through the bench probe), each media worker thread\'s V8 heap, external memory, ArrayBuffers and V8 malloc use (the gateway\'s `/metrics`, `tonegate_media_worker_memory_bytes`, fed by the workers\' `stats`), and the RSS none of them explain (allocator arenas, code, stacks). Baseline after a warm-up and a full GC; the same after the load has drained. Leak criteria: fds or handles more than 5 above the baseline after the drain; the heap after a full GC more than 16 MiB above the same mid-run (the gateway keeps ended sessions and their event history on purpose, up to 10,000 each in the memory store and bus; the mid-run GC comes at half time or a minute after those are full, whichever is later, and is not judged if they never fill; the growth from the empty baseline is listed as information; this forced, non-incremental collection is the bench\'s own and its pause, up to ~1 s, lands on the load); or RSS rising more than 10 MiB per 10 minutes after warm-up (least squares over the 10 s samples; warm-up ends when the stores hold 10,000 sessions at the soak\'s rate, and not before 5 minutes; judged only when 10 minutes of load follow it). Samples: `soak-samples.csv`; chart: `soak.png`.',
      '',
      '| check | result | verdict |',
      '|---|---|---|',
      ...verdicts.map((v) => `| ${v.what} | ${v.text} | ${v.ok ? 'ok' : '**fail**'} |`),
      '',
      `Memory trend ${window} (least squares, MB per 10 min):`,
      '',
      '| series | first -> last sample (MB) | trend (MB per 10 min) |',
      '|---|---|---:|',
      ...slopes.map((x) => `| ${x.name} | ${x.first.toFixed(1)} -> ${x.last.toFixed(1)} | ${sign(x.per10Min)} |`),
      '',
      `Event-loop lag over the 10 s windows: median p99 ${lags[Math.floor(lags.length / 2)] ?? '-'} ms, worst window p99 ${lags[lags.length - 1] ?? '-'} ms, max ${worstLag} ms. Digit -> event over the whole soak: p50 ${step.digitFromEnd.p50} / p99 ${step.digitFromEnd.p99} ms from the key's end, ${step.digitFromFirst.p50} / ${step.digitFromFirst.p99} ms from its first packet. Call setup p50 / p99 ${step.setup.p50} / ${step.setup.p99} ms. Gateway CPU ${step.gwCpuPct} % of a core on average, RSS peak ${step.gwRssPeakMb} MB.`,
      '',
      '![soak chart](soak.png)',
      '<!-- /bench:soak -->',
    ].join('\n');
    replaceMarkedSection(join(HERE, 'RESULTS.md'), '<!-- bench:soak -->', '<!-- /bench:soak -->', body);
    log(`wrote ${png}, ${samplesFile ?? 'soak-samples.csv'} and RESULTS.md`);
  }
  if (leak) process.exitCode = 1;
}

await runBench(main);

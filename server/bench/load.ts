/**
 * `npm run bench:load`: the whole product under SIPp payment load.
 *
 * SIPp (Debian sip-tester) places transfer-mode payment calls at a fixed rate; each customer plays
 * a whole call's audio (continuous 20 ms PCMU) keying card, expiry, CVV and the OTP either as RFC
 * 4733 events (play_pcap_audio) or as in-band tones (rtp_stream); the gateway runs as its own
 * process with the embedded demo provider over HTTP; a supervisor connection on `/events` judges
 * every call (server/bench/lib/load-run.ts).
 *
 * 1. Rate search per transport: steps of `--step-s` seconds (default 90) of arrivals at the rates of `--rates`
 *    until a step has a failed payment or a digit error, then halving between the last good and the
 *    first bad rate down to `--resolution` calls/s. The maximum is the highest passing rate; its
 *    concurrency is the most calls the gateway held in that step.
 * 2. Profile: the maximum RFC 4733 step again with the gateway under `--cpu-prof` (every thread).
 * 3. Accept: `--accept-rate` new calls/s for `--accept-s` seconds, each customer hanging up 2 s
 *    into the greeting: is every call answered, and how fast.
 * 4. Side by side: rtpengine (Debian rtpengine-daemon, user space, ng protocol) relays as many
 *    RTP sessions as the maximum step held; CPU per 1000 packets for both, and the ratio.
 * Writes server/bench/RESULTS.md between the bench:load markers and server/bench/load-max.json
 * (read by bench:soak). `--quick`: a short functional run (no RESULTS.md). `--overload <rate>`: one
 * step at twice that rate with load admission at work (lib/load-overload.ts), nothing else.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, totalmem } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { summariseProfile, type ProfileSummary } from './lib/cpuprofile.js';
import { startLoadEnv, stopLoadEnv } from './lib/load-env.js';
import { lag, runLoadStep, type LoadEnv, type LoadStep } from './lib/load-run.js';
import { writeAcceptScenario, type DtmfTransport } from '../devtools/sipp/load-scenario.js';
import { sleep } from '../devtools/procs.js';
import { replaceMarkedSection } from './lib/report.js';
import { lastStats, num, rttSamples, startSipp } from '../devtools/sipp/run.js';
import { acceptRow, loadTable, relayRows, type AcceptResult, type RelayComparison } from './lib/load-report.js';
import { compareWithRelay } from './lib/load-relay.js';
import { overloadLine, overloadStep } from './lib/load-overload.js';
import { runBench } from './lib/run-bench.js';

const args = process.argv.slice(2);
const opt = (name: string): string | undefined => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? args[i + 1] : undefined;
};
const quick = args.includes('--quick');
const O = {
  transports: (opt('transports') ?? 'rfc4733,inband').split(',') as DtmfTransport[],
  rates: (opt('rates') ?? (quick ? '2' : '5,10,15,20,25,30,40')).split(',').map(Number),
  // 90 s: a whole payment call and its set-up, so a step reaches the calls held its rate sustains
  // (shorter steps measure a burst: calls held are still rising when the step ends).
  stepS: Number(opt('step-s') ?? (quick ? 5 : 90)),
  resolution: Number(opt('resolution') ?? 2),
  acceptRate: Number(opt('accept-rate') ?? (quick ? 10 : 100)),
  acceptS: Number(opt('accept-s') ?? (quick ? 3 : 10)),
  profile: !args.includes('--no-profile') && !quick,
  relay: !args.includes('--no-relay'),
  write: !args.includes('--no-write') && !quick,
};
for (const t of O.transports) if (t !== 'rfc4733' && t !== 'inband') throw new Error(`--transports: unknown "${t}" (rfc4733, inband)`);
const log = (s: string): void => void process.stdout.write(`${s}\n`);
const REPO = fileURLToPath(new URL('../..', import.meta.url));

/** Waits until the gateway holds no call (so the next step starts clean); returns those left. */
async function drain(env: LoadEnv, timeoutMs = 60_000): Promise<number> {
  const end = Date.now() + timeoutMs;
  let calls = 0;
  while (Date.now() < end) {
    const h = await env.gw.health();
    calls = h.calls + h.payments;
    if (calls === 0) return 0;
    await sleep(1000);
  }
  return calls;
}

const line = (r: LoadStep): string =>
  `${r.label}: ${r.calls} calls, paid ${r.paid}, SIPp failed ${r.sippFailed}, digits lost ${r.digitsLost} extra ${r.digitsExtra} field errors ${r.fieldErrors}; ` +
  `held ${r.maxCalls}; setup p50/p99 ${r.setup.p50}/${r.setup.p99} ms; digit->event from end p50/p99 ${r.digitFromEnd.p50}/${r.digitFromEnd.p99} ms, from first ${r.digitFromFirst.p50}/${r.digitFromFirst.p99} ms; ` +
  `gw CPU ${r.gwCpuPct} % RSS ${r.gwRssPeakMb} MB, loop lag p99 ${r.eld.p99Ms} ms; RTP in ${r.rtp.inPps}/s out ${r.rtp.outPps}/s lost ${r.rtp.lossPct} %; probe jitter p50/max ${r.probe.jitterMs.p50}/${r.probe.jitterMs.max} ms lost ${r.probe.lost}/${r.probe.packets}; main thread waiting for a core ${r.mainRunqWaitPct} %; SIPp/bench/provider CPU ${r.sippCpuPct}/${r.harnessCpuPct.bench}/${r.harnessCpuPct.provider} %; ${r.pass ? 'PASS' : 'FAIL'}` +
  (Object.keys(r.notPaid).length ? `; not paid: ${JSON.stringify(r.notPaid)}` : '') +
  (r.pass ? '' : `; where: ${JSON.stringify(r.diag)}`) +
  (r.sippErrors.length ? `; SIPp: ${r.sippErrors.join(' | ')}` : '') +
  (r.warnings ? `; ${r.warnings} gateway warnings (last: ${r.lastWarning})` : '');

async function search(env: LoadEnv, transport: DtmfTransport, steps: LoadStep[]): Promise<LoadStep | undefined> {
  let best: LoadStep | undefined;
  let bad: number | undefined;
  const step = async (rate: number): Promise<LoadStep> => {
    const r = await runLoadStep(env, { transport, rate, calls: Math.max(1, Math.round(rate * O.stepS)) });
    steps.push(r);
    log(line(r));
    const left = await drain(env);
    if (left) log(`  ${left} calls still held 60 s after the step`);
    return r;
  };
  for (const rate of O.rates) {
    const r = await step(rate);
    if (!r.pass) {
      bad = rate;
      break;
    }
    best = r;
  }
  if (bad === undefined || quick) return best;
  let lo = best?.rate ?? 0;
  let hi = bad;
  while (hi - lo > Math.max(O.resolution, lo * 0.1)) {
    const mid = Math.round((lo + hi) / 2);
    const r = await step(mid);
    if (r.pass) {
      best = r;
      lo = mid;
    } else hi = mid;
  }
  return best;
}

async function accept(env: LoadEnv): Promise<AcceptResult> {
  const dir = join(env.runDir, 'accept');
  const scenario = writeAcceptScenario(env.runDir, 2000);
  const calls = O.acceptRate * O.acceptS;
  const sipp = startSipp(dir, [
    `127.0.0.1:${env.gw.sipPort}`, '-sf', scenario, '-i', '127.0.0.1', '-mi', '127.0.0.1', '-mp', String(env.sippMediaPort), '-t', 'u1',
    '-r', String(O.acceptRate), '-m', String(calls), '-l', String(O.acceptRate * 30), '-set', 'run', `${env.run}acc`,
    '-timeout', `${O.acceptS + 60}s`, '-timeout_error', '-trace_rtt', '-rtt_freq', '1', '-buff_size', '4194304',
  ]);
  await env.gw.eventLoopDelay();
  let held = 0;
  const t = setInterval(() => env.gw.health().then((h) => (held = Math.max(held, h.calls + h.payments)), () => {}), 500);
  const code = await sipp.exited;
  clearInterval(t);
  const eld = await env.gw.eventLoopDelay();
  const stats = lastStats(dir);
  const setup = rttSamples(dir);
  return { rate: O.acceptRate, seconds: O.acceptS, calls, ok: num(stats, 'SuccessfulCall(C)'), failed: num(stats, 'FailedCall(C)'), exit: code, setup, held, eldP99Ms: lag(eld.p99Ms) };
}

async function main(): Promise<void> {
  const info = {
    cpu: cpus()[0]?.model ?? '?', cores: cpus().length, memGiB: Math.round(totalmem() / 2 ** 30), node: process.version,
    load: loadavg().map((x) => x.toFixed(2)).join(' '),
    commit: execFileSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: REPO, encoding: 'utf8' }).trim(),
  };
  const overload = opt('overload');
  if (overload !== undefined) {
    const limits = { ...(opt('max-calls') ? { MAX_CALLS: opt('max-calls')! } : {}), ...(opt('max-captures') ? { MAX_CAPTURES: opt('max-captures')! } : {}) };
    const e = await startLoadEnv('overload', limits);
    try {
      log(`bench:load --overload ${overload} on ${info.cpu}, ${info.cores} cores, load ${info.load}, limits ${JSON.stringify(limits)}`);
      log(line(await runLoadStep(e, { transport: 'rfc4733', rate: 2, calls: 4, label: 'warm-up' })));
      await drain(e);
      const r = await overloadStep(e, { rate: Number(overload), stepS: O.stepS });
      log(line(r.step));
      log(overloadLine(r));
    } finally {
      await stopLoadEnv(e);
    }
    return;
  }
  let env = await startLoadEnv('load');
  log(`bench:load on ${info.cpu}, ${info.cores} cores, Node ${info.node}, ${env.sipp}, load ${info.load}; gateway pid ${env.gw.pid}; run dir ${env.runDir}`);
  const steps: LoadStep[] = [];
  const max: Partial<Record<DtmfTransport, LoadStep>> = {};
  let acc: AcceptResult | undefined;
  let profile: { main: ProfileSummary; workers: ProfileSummary[]; step: LoadStep } | undefined;
  let relay: RelayComparison | undefined;
  try {
    // Warm-up (JIT, prompt cache, provider connections): not reported.
    const warm = await runLoadStep(env, { transport: 'rfc4733', rate: 2, calls: 4, label: 'warm-up' });
    log(line(warm));
    await drain(env);
    for (const t of O.transports) {
      max[t] = await search(env, t, steps);
      log(max[t] ? `${t}: maximum ${max[t]!.rate} calls/s, ${max[t]!.maxCalls} concurrent payment calls` : `${t}: no rate passed`);
    }
    acc = await accept(env);
    log(acceptRow(acc).join('  '));
    await drain(env);
    const top = max.rfc4733 ?? max.inband;
    if (O.relay && top) {
      relay = await compareWithRelay(top);
      log(relayRows(relay).join('\n'));
    }
    if (O.profile && top) {
      await stopLoadEnv(env);
      env = await startLoadEnv('load-prof', {}, ['--cpu-prof', '--cpu-prof-dir={runDir}/prof']);
      await runLoadStep(env, { transport: 'rfc4733', rate: 2, calls: 4, label: 'warm-up' });
      await drain(env);
      const r = await runLoadStep(env, { transport: top.transport, rate: top.rate, calls: top.calls, label: `${top.label} profiled` });
      log(line(r));
      await stopLoadEnv(env);
      const dir = join(env.runDir, 'prof');
      const files = existsSync(dir) ? readdirSync(dir).filter((f) => f.endsWith('.cpuprofile')) : [];
      const sums = files.map((f) => ({ f, s: summariseProfile(join(dir, f), 12) })).sort((a, b) => b.s.totalMs * b.s.busyPct - a.s.totalMs * a.s.busyPct);
      // The main thread's profile is the one with SIP and capture in it.
      const mainIdx = sums.findIndex((x) => x.s.areas.some((a) => a.name.startsWith('src/sip') || a.name.startsWith('src/capture')));
      if (mainIdx >= 0) {
        profile = { main: sums[mainIdx]!.s, workers: sums.filter((_, i) => i !== mainIdx).map((x) => x.s), step: r };
        log(`profiles in ${dir}: main busy ${profile.main.busyPct.toFixed(0)} %, top: ${profile.main.areas.slice(0, 5).map((a) => `${a.name} ${a.pct.toFixed(0)}%`).join(', ')}`);
        for (const w of profile.workers) log(`  worker busy ${w.busyPct.toFixed(0)} %, top: ${w.functions.slice(0, 4).map((a) => `${a.name} ${a.pct.toFixed(0)}%`).join(', ')}`);
      }
    }
  } finally {
    await stopLoadEnv(env);
  }
  const rows = loadTable(steps);
  log(rows.console);
  if (O.write) {
    const file = fileURLToPath(new URL('./RESULTS.md', import.meta.url));
    const { section } = await import('./lib/load-report.js');
    replaceMarkedSection(file, '<!-- bench:load -->', '<!-- /bench:load -->', section({ info: { ...info, sipp: env.sipp }, O, steps, max, acc, profile, relay, plan: env.plan }));
    writeFileSync(fileURLToPath(new URL('./load-max.json', import.meta.url)), `${JSON.stringify({
      measured: new Date().toISOString(), commit: info.commit, stepS: O.stepS,
      ...Object.fromEntries(Object.entries(max).map(([t, r]) => [t, { rate: r.rate, concurrent: r.maxCalls }])),
    }, null, 2)}\n`);
    log(`wrote ${file} and load-max.json`);
  }
}

await runBench(main);

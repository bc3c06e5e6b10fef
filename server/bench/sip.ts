/**
 * `npm run bench:sip`: SIP signalling capacity of the gateway, RFC 7502-style.
 *
 *   SIPp UAC (e2e/sipp/bench-caller.xml) --INVITE/ACK/BYE--> gateway (B2BUA, own process) --> SIPp UAS
 *   (e2e/sipp/bench-agent.xml), everything on 127.0.0.1.
 *
 * Every call is INVITE (with an SDP offer, so the gateway still anchors media and allocates relay
 * ports) -> 200 -> ACK, a hold of --hold-ms, BYE -> 200; no RTP. The gateway answers 486 to a call
 * for an agent already in a call, so the bench configures --agents agent ids, registers them all
 * with the one SIPp UAS as their Contact, and the caller takes the callee of each call from an
 * injection file (SEQUENTIAL): an id is called again only after --agents calls, long after its
 * previous call ended.
 *
 * Phases: start the gateway and the UAS, register the agents, warm up, hold K calls to measure
 * memory per dialog, then call-rate steps: a ramp that stops at the first step with >= 0.1% failed
 * calls, a binary search between the last good and the first bad rate, a longer confirmation run at
 * the maximum found, and a profiled run at that rate (V8 CPU profile of the gateway). A step that
 * leaves calls stuck in the gateway is followed by a fresh gateway (see restartGateway).
 * A call is failed (RFC 7502 4) if it was offered and did not complete every message of the
 * scenario: SIPp failures, calls never started because SIPp fell behind, and calls still open
 * at the end all count.
 *
 * Options: --quick (about a minute), --budget-s N (default 600), --step-s N, --hold-ms N,
 * --rates a,b,c, --agents N, --hold-calls K (0: no memory phase), --write / --no-write (RESULTS.md; default: write
 * unless --quick or --what-if), --keep (keep the run directory with SIPp traces and the profile),
 * --wait-quiet S (first wait up to S s for other work on the machine to settle),
 * --what-if udp-rcvbuf (an experiment inside the gateway, see lib/what-if.ts), --render FILE (rewrite
 * the RESULTS.md section from a run's results.json, kept with --keep, without running anything).
 */
import { execFileSync } from 'node:child_process';
import { cpus, tmpdir } from 'node:os';
import { mkdtempSync, rmSync, writeFileSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { summariseProfile, type ProfileSummary } from './lib/cpuprofile.js';
import { GatewayProcess } from './lib/gateway.js';
import { cpuSeconds, machineCpu, rssBytes, udpDrops } from './lib/procs.js';
import { freePort } from '../devtools/ports.js';
import { killAllChildren, sleep, stopChild } from '../devtools/procs.js';
import { registerAgents } from './lib/register.js';
import { consoleTable, markdownTable, pct, writeSection, type StepResult } from './lib/report.js';
import { runBench } from './lib/run-bench.js';
import { errorSummary, lastStats, num, rttSamples, sippVersion, startSipp, type SippRun } from '../devtools/sipp/run.js';

const REPO = resolve(import.meta.dirname, '../..');
const SCENARIOS = join(REPO, 'e2e/sipp');
const RESULTS = join(REPO, 'server/bench/RESULTS.md');
const HOST = '127.0.0.1';
const FAIL_LIMIT = 0.001; // RFC 7502 search criterion used here: < 0.1% failed calls
const TARGET = { cps: 300, p99Ms: 50 };

// ---------------------------------------------------------------- options
const argv = process.argv.slice(2);
const flag = (n: string): boolean => argv.includes(`--${n}`);
const opt = (n: string): string | undefined => {
  const i = argv.indexOf(`--${n}`);
  return i >= 0 ? argv[i + 1] : undefined;
};
const quick = flag('quick');
const O = {
  quick,
  budgetS: Number(opt('budget-s') ?? (quick ? 90 : 600)),
  stepS: Number(opt('step-s') ?? (quick ? 5 : 12)),
  holdMs: Number(opt('hold-ms') ?? 1000),
  rates: (opt('rates') ?? (quick ? '100,300' : '25,50,100,150,200,300,400,500,600,800,1000,1200,1500')).split(',').map(Number),
  agents: Number(opt('agents') ?? (quick ? 1500 : 4000)),
  holdCalls: Number(opt('hold-calls') ?? (quick ? 200 : 1000)),
  /** The memory phase also measures after the INVITE transactions' 32 s linger (full run only). */
  steadyMemory: !quick && !flag('no-steady'),
  write: flag('write') || (!quick && !flag('no-write') && !opt('what-if')),
  keep: flag('keep'),
  resolution: Number(opt('resolution') ?? 25),
  /** Opt-in what-if experiments applied inside the gateway by the probe (see lib/probe.ts). */
  whatIf: opt('what-if'),
};

const t0 = Date.now();
let deadline = t0 + O.budgetS * 1000;
const left = (): number => (deadline - Date.now()) / 1000;
const log = (s: string): void => void process.stdout.write(`[${((Date.now() - t0) / 1000).toFixed(0).padStart(3)}s] ${s}\n`);

// A hard stop well after the budget: whatever hangs, nothing the bench started survives it.
function armHardStop(): void {
  const hardStop = setTimeout(() => {
    process.stderr.write('bench: hard time limit reached, stopping everything\n');
    killAllChildren();
    process.exit(3);
  }, (O.budgetS + 120) * 1000);
  hardStop.unref();
}

// ---------------------------------------------------------------- environment
interface Env {
  gw: GatewayProcess;
  restarts: number;
  uas: SippRun;
  uasPort: number;
  runDir: string;
  agentsCsv: string;
  mediaPort: number;
}

function machineInfo(): { lines: string[]; sipp: string } {
  const sipp = sippVersion();
  let lscpu = '';
  try {
    lscpu = execFileSync('lscpu', { encoding: 'utf8' }).split('\n').slice(0, 10).join('\n');
  } catch {
    lscpu = '(lscpu unavailable)';
  }
  const model = /Model name:\s*(.*)/.exec(lscpu)?.[1] ?? cpus()[0]?.model ?? '?';
  let commit = '?';
  try {
    commit = execFileSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: REPO, encoding: 'utf8' }).trim();
  } catch {
    /* not a checkout */
  }
  return {
    sipp,
    lines: [
      `nproc ${cpus().length}, ${model}; Node ${process.version}; ${sipp}; tonegate ${commit} (working tree)`,
      '```',
      lscpu,
      '```',
    ],
  };
}

async function backgroundLoad(ms: number): Promise<number> {
  const a = machineCpu();
  await sleep(ms);
  const b = machineCpu();
  return (100 * (b.busy - a.busy)) / ((b.total - a.total) / cpus().length);
}

const agentIds = (): string[] => Array.from({ length: O.agents }, (_, i) => `b${String(i + 1).padStart(5, '0')}`);

/** Starts a gateway on fresh ports and registers every agent id with the UAS as Contact. */
async function bootGateway(uasPort: number, logDir: string): Promise<GatewayProcess> {
  const [sipPort, httpPort, pgPort] = [await freePort(), await freePort(), await freePort()];
  const ids = agentIds();
  const gw = await GatewayProcess.start({
    sipPort,
    httpPort,
    logDir,
    env: {
      SIP_HOST: HOST,
      SIP_PORT: String(sipPort),
      HTTP_HOST: HOST,
      HTTP_PORT: String(httpPort),
      DEMO_PG_PORT: String(pgPort),
      MEDIA_ADDRESS: HOST,
      // 5000 RTP/RTCP pairs (every call takes two), below the ephemeral range (32768+) and away
      // from the ranges the test suites use (20000-20999 default, 30000-38000 integration tests).
      RTP_PORT_MIN: '10000',
      RTP_PORT_MAX: '19999',
      SIP_DIGEST_ALGORITHMS: 'MD5',
      LOG_LEVEL: 'warn',
      RING_TIMEOUT_S: '10',
      AGENTS: ids.map((id) => `${id}:bench`).join(','),
      ...(O.whatIf ? { BENCH_WHAT_IF: O.whatIf } : {}),
    },
  });
  log(`gateway pid ${gw.pid} on udp ${HOST}:${sipPort} (http ${httpPort}); registering ${ids.length} agent ids`);
  let todo = ids;
  for (let round = 0; round < 3 && todo.length > 0; round++) {
    if (gw.child.exitCode !== null) break;
    const reg = await registerAgents({ gateway: { host: HOST, port: sipPort }, ids: todo, password: 'bench', contact: { host: HOST, port: uasPort }, expires: 3600, alive: () => gw.child.exitCode === null });
    todo = reg.failed;
  }
  const h = gw.child.exitCode === null ? await gw.health() : undefined;
  if (!h || todo.length > 0 || h.registered !== ids.length) {
    await gw.stop();
    throw new Error(`registration failed: ${todo.length} ids without 200, gateway ${h ? `reports ${h.registered} registered` : 'exited'}\n${gw.lastOutput()}`);
  }
  return gw;
}

async function setup(runDir: string): Promise<Env> {
  const uasPort = await freePort();
  const mediaPort = 40000 + 2 * Math.floor(Math.random() * 5000);
  const uas = startSipp(join(runDir, 'uas'), [
    '-sf', join(SCENARIOS, 'bench-agent.xml'),
    '-i', HOST, '-p', String(uasPort), '-mp', String(mediaPort), '-t', 'u1',
    '-buff_size', '4194304',
  ]);
  await sleep(500);
  if (uas.child.exitCode !== null) throw new Error(`SIPp UAS exited at start:\n${uas.output().slice(-1500)}`);
  log(`SIPp UAS pid ${uas.pid} on udp ${HOST}:${uasPort}`);
  const gw = await bootGateway(uasPort, runDir);
  const agentsCsv = join(runDir, 'agents.csv');
  writeFileSync(agentsCsv, ['SEQUENTIAL', ...agentIds().map((id) => `${id};`)].join('\n') + '\n');
  return { gw, uas, uasPort, runDir, agentsCsv, mediaPort: mediaPort + 10, restarts: 0 };
}

/**
 * A step that leaves calls open for good (a BYE lost for every retransmission: the gateway keeps
 * the dialog, and its agent stays busy) would make the next step fail with 486s. The next trial
 * gets a fresh gateway instead, warmed up again; the leftover count is reported with the step.
 */
async function restartGateway(env: Env): Promise<void> {
  await env.gw.stop();
  env.gw = await bootGateway(env.uasPort, env.runDir);
  env.restarts++;
  log('  restarted the gateway; warm-up 100 cps for 2 s');
  await step(env, 'warm-up', 100, 2);
}

// ---------------------------------------------------------------- one caller run
let runNo = 0;
async function caller(env: Env, o: { rate: number; calls: number; holdMs: number; limit: number; timeoutS: number }): Promise<SippRun & { port: number }> {
  const port = await freePort();
  const run = startSipp(join(env.runDir, `uac-${String(++runNo).padStart(2, '0')}-${o.rate}cps`), [
    `${HOST}:${env.gw.sipPort}`,
    '-sf', join(SCENARIOS, 'bench-caller.xml'),
    '-inf', env.agentsCsv,
    '-i', HOST, '-p', String(port), '-mp', String(env.mediaPort), '-t', 'u1',
    '-r', String(o.rate), '-m', String(o.calls), '-l', String(o.limit), '-d', String(o.holdMs),
    '-recv_timeout', '10000',
    '-timeout', `${o.timeoutS}s`, '-timeout_error',
    '-trace_rtt', '-rtt_freq', '100',
    '-buff_size', '4194304',
  ]);
  return { ...run, port };
}

/** Waits for the gateway to have no calls (between steps); false if some never ended. */
async function quiesce(env: Env, timeoutMs = 40_000): Promise<boolean> {
  return env.gw.waitCalls((n) => n === 0, timeoutMs);
}

/** Epoch seconds in a SIPp statistics time cell ("date\ttime\tepoch"). */
const epoch = (cell: string | undefined): number => Number(cell?.split('\t')[2] ?? NaN);

function achievedRate(dir: string, attempted: number): number {
  const lines = readFileSync(join(dir, 'stat.csv'), 'utf8').trim().split('\n');
  const head = lines[0]!.split(';');
  const iStart = head.indexOf('StartTime');
  const iNow = head.indexOf('CurrentTime');
  const iCreated = head.indexOf('TotalCallCreated');
  for (const line of lines.slice(1)) {
    const c = line.split(';');
    if (Number(c[iCreated]) >= attempted) {
      const secs = epoch(c[iNow]) - epoch(c[iStart]);
      return secs > 0 ? attempted / secs : NaN;
    }
  }
  return NaN;
}

async function step(env: Env, label: string, rate: number, durationS: number, profileFile?: string): Promise<StepResult> {
  const { gw, uas } = env;
  const open = (await gw.health()).calls;
  if (open > 0) log(`  warning: ${open} calls still open at the gateway before the step`);
  await sleep(300);
  const offered = Math.round(rate * durationS);
  const uas0 = lastStats(uas.dir);
  const warn0 = gw.warnings;
  await gw.eventLoopDelay(); // reset the histogram
  if (profileFile) await gw.profileStart();
  const m0 = machineCpu();
  const g0 = cpuSeconds(gw.pid) ?? 0;
  const a0 = cpuSeconds(uas.pid) ?? 0;
  const d0 = { gw: udpDrops(gw.sipPort) ?? 0, uas: udpDrops(env.uasPort) ?? 0 };
  const w0 = Date.now();
  const run = await caller(env, {
    rate, calls: offered, holdMs: O.holdMs, limit: Math.max(200, rate * 10), timeoutS: durationS + Math.ceil(O.holdMs / 1000) + 25,
  });
  let maxCalls = 0;
  let maxTxn = 0;
  let maxRss = 0;
  const windowEnd = w0 + durationS * 1000;
  while (Date.now() < windowEnd) {
    await sleep(Math.min(1000, Math.max(0, windowEnd - Date.now())));
    try {
      const h = await gw.health();
      maxCalls = Math.max(maxCalls, h.calls);
      maxTxn = Math.max(maxTxn, h.transactions);
    } catch {
      /* a saturated gateway may miss a health poll */
    }
    maxRss = Math.max(maxRss, rssBytes(gw.pid) ?? 0);
  }
  // The offered-load window is over: CPU over exactly that window.
  const m1 = machineCpu();
  const g1 = cpuSeconds(gw.pid) ?? g0;
  const a1 = cpuSeconds(uas.pid) ?? a0;
  const c1 = cpuSeconds(run.pid) ?? 0;
  const callerDrops = udpDrops(run.port) ?? 0;
  const wall = (Date.now() - w0) / 1000;
  const eld = await gw.eventLoopDelay();
  if (profileFile) await gw.profileStop(profileFile);
  const timeoutMs = (durationS + O.holdMs / 1000 + 40) * 1000;
  await Promise.race([run.exited, sleep(timeoutMs)]);
  if (run.child.exitCode === null) await stopChild(run.child, 'SIGUSR1', 3000);
  // Let the step's failures play out before the next one (a UAS that gave up on its 200 leaves the
  // gateway's BYE to time out: Timer F, 32 s), so they are counted here and do not leak into the
  // next step as busy agents.
  const settleS = quick ? 10 : 36;
  const quiet = await quiesce(env, settleS * 1000);
  const leftover = quiet ? 0 : (await gw.health()).calls;
  if (leftover) log(`  warning: ${leftover} calls still open ${settleS} s after the step`);
  await sleep(1200); // the UAS writes its statistics every second
  const drops = { gw: (udpDrops(gw.sipPort) ?? 0) - d0.gw, sipp: callerDrops + (udpDrops(env.uasPort) ?? 0) - d0.uas };
  const s = lastStats(run.dir);
  const uas1 = lastStats(uas.dir);
  const attempted = num(s, 'TotalCallCreated');
  const successful = num(s, 'SuccessfulCall(C)');
  const failed = Math.max(0, offered - successful);
  const rtt = rttSamples(run.dir);
  const cores = cpus().length;
  const machineBusyPct = (100 * (m1.busy - m0.busy)) / ((m1.total - m0.total) / cores);
  const gwCpuPct = (100 * (g1 - g0)) / wall;
  const callerCpuPct = (100 * c1) / wall;
  const agentCpuPct = (100 * (a1 - a0)) / wall;
  const agentFailed = num(uas1, 'FailedCall(C)') - num(uas0, 'FailedCall(C)');
  const failPct = (100 * failed) / offered;
  return {
    label,
    rate,
    durationS,
    offered,
    attempted,
    successful,
    failed,
    failPct,
    agentFailed,
    achievedCps: achievedRate(run.dir, attempted),
    setup: rtt.length ? { n: rtt.length, p50: pct(rtt, 50), p90: pct(rtt, 90), p99: pct(rtt, 99), max: Math.max(...rtt) } : undefined,
    gwCpuPct,
    gwMsPerCall: (10 * Math.max(0, gwCpuPct - gwIdlePct)) / rate,
    gwRssMb: maxRss / 2 ** 20,
    callerCpuPct,
    agentCpuPct,
    machineBusyPct,
    otherPct: Math.max(0, machineBusyPct - gwCpuPct - callerCpuPct - agentCpuPct),
    maxCalls,
    maxTransactions: maxTxn,
    eldP99Ms: eld.p99Ms,
    eldMaxMs: eld.maxMs,
    retransmissions: num(s, 'Retransmissions(C)'),
    gwUdpDrops: drops.gw,
    sippUdpDrops: drops.sipp,
    sippWatchdog: num(s, 'WatchdogMajor(C)') + num(s, 'WatchdogMinor(C)'),
    warnings: gw.warnings - warn0,
    lastWarning: gw.warnings > warn0 ? gw.lastWarning : '',
    errors: errorSummary(run.dir),
    leftover,
    pass: failed < offered * FAIL_LIMIT && agentFailed < offered * FAIL_LIMIT,
  };
}

/** A step, and a fresh gateway afterwards if the step left calls stuck in it. */
let lastTrialS = 0;
async function trial(env: Env, label: string, rate: number, durationS: number, profileFile?: string): Promise<StepResult> {
  const began = Date.now();
  const r = await step(env, label, rate, durationS, profileFile);
  log(describe(r));
  if (r.leftover > 0) await restartGateway(env);
  lastTrialS = ((Date.now() - began) / 1000) * (O.stepS / durationS);
  return r;
}

function describe(r: StepResult): string {
  const setup = r.setup ? `setup p50 ${r.setup.p50} p99 ${r.setup.p99} max ${r.setup.max} ms` : 'no setup samples';
  return (
    `${r.label} ${r.rate} cps: ${r.successful}/${r.offered} ok, failed ${r.failed} (${r.failPct.toFixed(3)}%)` +
    `${r.agentFailed ? `, UAS failed ${r.agentFailed}` : ''}; ${setup}; gw CPU ${r.gwCpuPct.toFixed(0)}% RSS ${r.gwRssMb.toFixed(0)} MB` +
    `, loop p99 ${r.eldP99Ms.toFixed(1)} ms; SIPp ${r.callerCpuPct.toFixed(0)}+${r.agentCpuPct.toFixed(0)}%; box ${r.machineBusyPct.toFixed(0)}%` +
    ` (other ${r.otherPct.toFixed(0)}%); started ${Number.isFinite(r.achievedCps) ? r.achievedCps.toFixed(0) : '?'} cps; ` +
    `max ${r.maxCalls} calls, ${r.maxTransactions} txns; retrans ${r.retransmissions}; UDP drops gw ${r.gwUdpDrops} SIPp ${r.sippUdpDrops}${r.warnings ? `; ${r.warnings} gw warnings/errors (last: ${r.lastWarning})` : ''}` +
    `${r.errors.length ? `\n      ${r.errors.join('\n      ')}` : ''}`
  );
}

// ---------------------------------------------------------------- memory per held dialog
/** Gateway CPU (% of one core) with no calls, measured in the memory phase; 0 until then. */
let gwIdlePct = 0;

interface MemoryResult {
  k: number;
  held: number;
  failed: number;
  before: { rss: number; heapUsed: number; external: number; handles: number; transactions: number };
  during: { rss: number; heapUsed: number; external: number; handles: number; transactions: number };
  steady?: { rss: number; heapUsed: number; external: number; handles: number; transactions: number };
  after: { rss: number; heapUsed: number; external: number; handles: number; transactions: number };
}

async function snapshot(gw: GatewayProcess): Promise<MemoryResult['before']> {
  const m = await gw.mem(true);
  const h = await gw.health();
  return { rss: m.rss, heapUsed: m.heapUsed, external: m.external, handles: m.handles, transactions: h.transactions };
}

/** Waits until the gateway's transaction count stops falling (timers J/K/M/L run out). */
async function transactionsSettle(gw: GatewayProcess, maxMs: number): Promise<number> {
  const end = Date.now() + maxMs;
  let n = (await gw.health()).transactions;
  while (Date.now() < end && n > 0) {
    await sleep(1000);
    n = (await gw.health()).transactions;
  }
  return n;
}

async function memoryPhase(env: Env): Promise<MemoryResult> {
  const { gw } = env;
  const k = O.holdCalls;
  const rate = quick ? 100 : 200;
  const setupS = Math.ceil(k / rate);
  const holdMs = (setupS + (O.steadyMemory ? 40 : 4)) * 1000;
  await quiesce(env);
  log(`memory: waiting for earlier transactions to expire (RFC 3261 timers, up to 35 s)`);
  const left0 = await transactionsSettle(gw, quick ? 8000 : 36_000);
  if (left0) log(`memory: ${left0} transactions still alive at the baseline`);
  // The gateway's own CPU with no calls (timers, media workers): subtracted for the CPU per call.
  const idle0 = cpuSeconds(gw.pid) ?? 0;
  await sleep(3000);
  gwIdlePct = (100 * ((cpuSeconds(gw.pid) ?? idle0) - idle0)) / 3;
  log(`gateway CPU with no calls: ${gwIdlePct.toFixed(1)}% of one core`);
  const before = await snapshot(gw);
  log(`memory: holding ${k} calls (${rate} cps, hold ${holdMs / 1000} s)`);
  const run = await caller(env, { rate, calls: k, holdMs, limit: k + 10, timeoutS: setupS + holdMs / 1000 + 30 });
  await gw.waitCalls((n) => n >= k, (setupS + 10) * 1000);
  await sleep(1000);
  const held = (await gw.health()).calls;
  const during = await snapshot(gw);
  let steady: MemoryResult['steady'];
  if (O.steadyMemory) {
    await sleep(Math.max(0, holdMs - (setupS + 8) * 1000));
    steady = await snapshot(gw);
  }
  await Promise.race([run.exited, sleep(holdMs + 40_000)]);
  if (run.child.exitCode === null) await stopChild(run.child, 'SIGUSR1', 3000);
  await quiesce(env);
  // "after": all calls over and, in a full run, their BYE transactions expired too (Timer J, 32 s),
  // so what the calls left behind (if anything) shows against "before".
  if (O.steadyMemory) await transactionsSettle(gw, 36_000);
  else await sleep(1000);
  const after = await snapshot(gw);
  const s = lastStats(run.dir);
  return { k, held, failed: k - num(s, 'SuccessfulCall(C)'), before, during, ...(steady ? { steady } : {}), after };
}

// ---------------------------------------------------------------- main
async function main(): Promise<void> {
  const info = machineInfo();
  const runDir = mkdtempSync(join(tmpdir(), 'tonegate-bench-sip-'));
  log(`bench:sip ${quick ? '(quick) ' : ''}budget ${O.budgetS} s, steps of ${O.stepS} s, hold ${O.holdMs} ms; run dir ${runDir}`);
  let idle = await backgroundLoad(1000);
  // --wait-quiet S: wait up to S seconds (outside the budget) for other work on the box to settle.
  const quietBy = Date.now() + Number(opt('wait-quiet') ?? 0) * 1000;
  while (idle > 25 && Date.now() < quietBy) {
    log(`machine ${idle.toFixed(0)}% busy with other work; waiting for it to settle (--wait-quiet)`);
    await sleep(4000);
    idle = await backgroundLoad(2000);
  }
  log(`machine busy before start (other work on the box): ${idle.toFixed(0)}% of ${cpus().length} cores`);
  deadline = Date.now() + O.budgetS * 1000;
  armHardStop();
  const env = await setup(runDir);
  const results: StepResult[] = [];
  let memory: MemoryResult | undefined;
  let profile: ProfileSummary | undefined;
  let profileRun: StepResult | undefined;
  let confirm: StepResult | undefined;
  let stopReason = '';
  try {
    log('warm-up: 100 cps for 3 s (JIT, pools; not reported)');
    log('  ' + describe(await step(env, 'warm-up', 100, 3)));

    if (O.holdCalls > 0) {
      memory = await memoryPhase(env);
      if ((await env.gw.health()).calls > 0) await restartGateway(env);
      log(`memory: held ${memory.held}/${memory.k}; rss ${mb(memory.before.rss)} -> ${mb(memory.during.rss)} MB, heap ${mb(memory.before.heapUsed)} -> ${mb(memory.during.heapUsed)} MB`);
    }

    // Ramp. (--quick: the ramp alone, profiling its last step; no search, confirmation or extra step.)
    // What a trial costs: its length, the drain, and what the last trial really took (a failing one
    // also waits up to 36 s for its calls to end and may restart the gateway).
    const stepCost = (d: number): number => Math.max(d + O.holdMs / 1000 + 5, lastTrialS - O.stepS + d);
    const reserve = quick ? 0 : stepCost(O.stepS) + stepCost(O.stepS * 2) + 10; // profile + confirmation
    let lo = 0;
    let hi = 0;
    let profileFile: string | undefined;
    for (const [i, rate] of O.rates.entries()) {
      if (left() < stepCost(O.stepS) + reserve) {
        stopReason = `time budget reached before ${rate} cps`;
        break;
      }
      const prof = quick && i === O.rates.length - 1 ? join(runDir, `gateway-${rate}cps.cpuprofile`) : undefined;
      const r = await trial(env, 'ramp', rate, O.stepS, prof);
      results.push(r);
      if (prof) [profileFile, profileRun] = [prof, r];
      if (r.pass) lo = rate;
      else {
        hi = rate;
        break;
      }
    }
    // Binary search between the last good and the first bad rate.
    if (hi > 0 && !quick) {
      while (hi - lo > Math.max(O.resolution, lo * 0.05)) {
        if (left() < stepCost(O.stepS) + reserve) {
          stopReason = 'time budget reached during the binary search';
          break;
        }
        const mid = Math.round((lo + hi) / 2 / 5) * 5;
        const r = await trial(env, 'search', mid, O.stepS);
        results.push(r);
        if (r.pass) lo = mid;
        else hi = mid;
      }
    } else if (hi === 0 && !stopReason) {
      stopReason = 'every step passed: the maximum is above the highest rate tried';
    } else if (quick) {
      stopReason = '--quick: no binary search';
    }
    const max = lo;
    if (max > 0 && !quick && left() > stepCost(O.stepS * 2) + stepCost(O.stepS)) {
      confirm = await trial(env, 'confirm', max, O.stepS * 2);
    }
    // Profile at the maximum (or at the first rate if nothing passed).
    const profRate = max || O.rates[0]!;
    if (!quick && left() > stepCost(O.stepS) - 5) {
      profileFile = join(runDir, `gateway-${profRate}cps.cpuprofile`);
      profileRun = await trial(env, 'profiled', profRate, O.stepS, profileFile);
    }
    if (profileFile && profileRun) {
      profile = summariseProfile(profileFile);
      log(`profile (${profileRun.rate} cps, ${(profile.totalMs / 1000).toFixed(1)} s, main thread busy ${profile.busyPct.toFixed(0)}%): ${profileFile}`);
      for (const f of profile.functions.slice(0, 12)) log(`  ${f.pct.toFixed(1).padStart(5)}%  ${f.name}`);
    }
    const extra = [...(confirm ? [confirm] : []), ...(profileRun && !results.includes(profileRun) ? [profileRun] : [])];

    process.stdout.write(`\n${consoleTable([...results, ...extra])}\n\n`);
    const found = { max, hi, stopReason };
    const at300 = results.find((r) => r.rate === TARGET.cps);
    log(`maximum with < 0.1% failed calls: ${max} cps${hi ? ` (${hi} cps failed)` : ''}${stopReason ? `; ${stopReason}` : ''}`);
    if (confirm && !confirm.pass) log(`  NOT sustained: the ${confirm.durationS} s confirmation at ${max} cps failed ${confirm.failPct.toFixed(2)}%; next passing rate below: ${sustainedRate(results, confirm, max)} cps`);
    if (at300) log(`target ${TARGET.cps} cps: failed ${at300.failPct.toFixed(3)}%, p99 setup ${at300.setup?.p99 ?? '-'} ms -> ${at300.pass && (at300.setup?.p99 ?? Infinity) < TARGET.p99Ms ? 'met' : 'NOT met'}`);
    if (memory) log(memoryLine(memory));
    const data: RunData = { info, idle, gwIdlePct, options: O, results, confirm, profileRun, profile, memory, found };
    writeFileSync(join(runDir, 'results.json'), JSON.stringify(data, null, 1));
    if (O.write) {
      writeSection(RESULTS, render(data));
      log(`wrote ${RESULTS}`);
    }
  } finally {
    await env.gw.stop();
    await stopChild(env.uas.child, 'SIGUSR1', 3000);
    killAllChildren();
    if (!O.keep) rmSync(runDir, { recursive: true, force: true });
    else log(`kept ${runDir}`);
  }
}

const mb = (b: number): string => (b / 2 ** 20).toFixed(1);
const kb = (b: number): string => (b / 1024).toFixed(1);

function perDialog(m: MemoryResult, at: 'during' | 'steady'): { rss: number; heap: number; ext: number; handles: number } | undefined {
  const d = m[at];
  if (!d || m.held <= 0) return undefined;
  return {
    rss: (d.rss - m.before.rss) / m.held,
    heap: (d.heapUsed - m.before.heapUsed) / m.held,
    ext: (d.external - m.before.external) / m.held,
    handles: (d.handles - m.before.handles) / m.held,
  };
}

function memoryLine(m: MemoryResult): string {
  const d = perDialog(m, 'during')!;
  const s = perDialog(m, 'steady');
  return (
    `memory per held dialog (${m.held} held, ${m.failed} failed): V8 heap ${kb(d.heap)} KiB with its INVITE transactions alive` +
    (s ? `, ${kb(s.heap)} KiB once they expired` : '') +
    `, ${d.handles.toFixed(1)} handles (relay sockets); heap after all hung up ${mb(m.after.heapUsed)} MB vs ${mb(m.before.heapUsed)} MB before` +
    ` (RSS delta ${kb(d.rss)} KiB: not meaningful, see below)`
  );
}

/** The search maximum if its confirmation held, else the highest passing rate below it. */
function sustainedRate(results: StepResult[], confirm: StepResult | undefined, max: number): number {
  if (!confirm || confirm.pass) return max;
  return Math.max(0, ...results.filter((r) => r.pass && r.rate < confirm.rate).map((r) => r.rate));
}

/** Everything a run measured: saved as results.json in the run directory, rendered into RESULTS.md. */
interface RunData {
  info: { lines: string[]; sipp: string };
  idle: number;
  gwIdlePct: number;
  options: typeof O;
  results: StepResult[];
  confirm: StepResult | undefined;
  profileRun: StepResult | undefined;
  profile: ProfileSummary | undefined;
  memory: MemoryResult | undefined;
  found: { max: number; hi: number; stopReason: string };
}

function render(o: RunData): string {
  // The text describes the run that produced the figures, not the options of this invocation.
  const O = o.options;
  const quick = O.quick;
  const gwIdlePct = o.gwIdlePct;
  const { results, confirm, profileRun, profile, memory, found } = o;
  const at300 = results.find((r) => r.rate === TARGET.cps);
  const bad = results.find((r) => r.rate === found.hi && !r.pass);
  const lines: string[] = [];
  lines.push('## SIP signalling (`npm run bench:sip`)', '');
  lines.push(`Run ${new Date().toISOString().slice(0, 16).replace('T', ' ')} UTC, ${quick ? 'quick' : 'full'} run, ${O.stepS} s per step.`, '');
  lines.push('**Machine**: ' + o.info.lines[0]!, ...o.info.lines.slice(1), '');
  lines.push(`Gateway CPU with no calls (timers, media worker threads): ${gwIdlePct.toFixed(1)}% of one core; "gw ms/call" below is (gw CPU - that) / rate.`, '');
  lines.push(`Other work on the machine when the bench started: ${o.idle.toFixed(0)}% busy (of ${cpus().length} cores); the "other" figure per step is what was busy outside the gateway and the two SIPps.`, '');
  lines.push('### Result', '');
  const sustained = sustainedRate(results, confirm, found.max);
  lines.push(
    `- **Highest rate with < 0.1% failed calls in its ${O.stepS} s step: ${found.max} calls/s**` +
      (found.hi ? ` (${found.hi} calls/s failed${bad ? `: ${bad.failPct.toFixed(2)}% failed, p99 setup ${bad.setup?.p99 ?? '-'} ms` : ''})` : '') +
      (found.stopReason ? `; ${found.stopReason}` : '') + '.',
  );
  if (confirm && !confirm.pass) {
    lines.push(`- **Not sustained**: repeated for ${confirm.durationS} s, ${confirm.rate} calls/s failed ${confirm.failPct.toFixed(2)}% (setup p50/p99 ${confirm.setup?.p50 ?? '-'}/${confirm.setup?.p99 ?? '-'} ms, other work on the box ${confirm.otherPct.toFixed(0)}%). The next rate below it that passed: **${sustained || 'none'}${sustained ? ' calls/s' : ''}** (one ${O.stepS} s step, not repeated).`);
  } else if (confirm) {
    lines.push(`- Confirmation at ${confirm.rate} calls/s for ${confirm.durationS} s: ${confirm.failed} of ${confirm.offered} failed (${confirm.failPct.toFixed(3)}%), setup p50/p99 ${confirm.setup?.p50 ?? '-'}/${confirm.setup?.p99 ?? '-'} ms: sustained.`);
  }
  const withLatency = results.filter((r) => r.pass && r.setup && r.setup.p99 < TARGET.p99Ms).sort((a, b) => b.rate - a.rate)[0];
  lines.push(`- Highest rate tried that also kept p99 setup under ${TARGET.p99Ms} ms: ${withLatency ? `${withLatency.rate} calls/s (p99 ${withLatency.setup!.p99} ms)` : 'none'}.`);
  if (at300) {
    const met = at300.pass && (at300.setup?.p99 ?? Infinity) < TARGET.p99Ms;
    lines.push(`- Target: ${TARGET.cps} calls/s with p99 setup < ${TARGET.p99Ms} ms: measured ${at300.failPct.toFixed(3)}% failed, p99 ${at300.setup?.p99 ?? '-'} ms -> **${met ? 'met' : 'not met'}**.`);
  }
  if (memory) lines.push(`- ${memoryLine(memory).replace(/^memory/, 'Memory')}.`);
  lines.push('', '### Steps', '');
  lines.push(markdownTable([...results, ...(confirm ? [confirm] : []), ...(profileRun && profileRun.label === 'profiled' ? [profileRun] : [])]), '');
  lines.push(
    'Columns: offered = rate x step length; attempted = calls SIPp started; failed = offered calls that did not complete (SIPp failures, calls never started, calls still open), "+N uas" = calls the SIPp UAS saw fail; setup = INVITE sent -> 200 received at the caller (SIPp -trace_rtt, 1 ms resolution); CPU as % of one core over the offered-load window, from /proc/<pid>/stat; gw RSS = peak VmRSS; box busy = all cores, 200% = both; gw loop p99 = gateway event-loop delay (perf_hooks); retrans = SIPp caller retransmissions; UDP drops gw = datagrams the kernel dropped at the gateway\'s SIP socket because its receive buffer was full (/proc/net/udp), "(SIPp n)" the same at the SIPps\' sockets.',
    '',
  );
  if (memory) {
    const d = perDialog(memory, 'during')!;
    const s = perDialog(memory, 'steady');
    lines.push('### Memory per held dialog', '');
    lines.push(
      `${memory.k} calls set up and held (${memory.held} held at the gateway, ${memory.failed} failed). Full GC (--expose-gc) before each reading; V8 heap and handles from the bench probe, RSS = VmRSS.`,
      '',
      '| reading | RSS MB | V8 heap used MB | external MB | live handles | SIP transactions |',
      '|---|---|---|---|---|---|',
      ...(['before', 'during', 'steady', 'after'] as const)
        .filter((k) => memory[k])
        .map((k) => {
          const x = memory[k]!;
          return `| ${k} | ${mb(x.rss)} | ${mb(x.heapUsed)} | ${mb(x.external)} | ${x.handles} | ${x.transactions} |`;
        }),
      '',
      `Per held dialog: **V8 heap ${kb(d.heap)} KiB**, external ${kb(d.ext)} KiB, ${d.handles.toFixed(1)} handles (4 UDP relay sockets per call), RSS ${kb(d.rss)} KiB, measured 1 s after the last call was set up, so the INVITE transactions (RFC 6026 Accepted / Timer M, 32 s) are still alive. The heap figure is the dependable one: RSS moves with V8 growing and returning whole pages (and with the registration and warm-up garbage of the baseline), which at this scale swamps ~1000 dialogs; socket buffers are kernel memory and in neither.` +
        (s ? ` After they expired ("steady"): RSS ${kb(s.rss)} KiB, V8 heap ${kb(s.heap)} KiB per dialog.` : ''),
      '',
    );
  }
  if (profile && profileRun) {
    lines.push(`### Where the gateway's CPU goes (V8 CPU profile at ${profileRun.rate} calls/s)`, '');
    lines.push(
      `Sampled for ${(profile.totalMs / 1000).toFixed(1)} s of the profiled step (1 ms interval, the sampler of \`node --cpu-prof\`, started and stopped through the inspector so only the step is in it); the main thread was busy ${profile.busyPct.toFixed(0)}% of it. Only the main (signalling) thread is profiled: the media worker threads' CPU is in the gw CPU column, not here.`,
      '',
      '| self time | function  place |', '|---|---|',
      ...profile.functions.map((f) => `| ${f.pct.toFixed(1)}% | \`${f.name}\` |`),
      '',
      'By area:',
      '',
      '| self time | area |', '|---|---|',
      ...profile.areas.map((f) => `| ${f.pct.toFixed(1)}% | ${f.name} |`),
      '',
    );
  }
  lines.push('### What limited the maximum', '');
  if (bad) {
    // CPU per call over the passing steps, weighted by their calls (so the busy steps count most).
    const passing = results.filter((r) => r.pass && r.rate > 0);
    const calls = passing.reduce((a, r) => a + r.offered, 0);
    const msPerCall = calls ? passing.reduce((a, r) => a + r.gwMsPerCall * r.offered, 0) / calls : NaN;
    lines.push(
      `At ${bad.rate} calls/s (first failing rate): gateway ${bad.gwCpuPct.toFixed(0)}% of one core, event-loop p99 delay ${bad.eldP99Ms.toFixed(0)} ms (max ${bad.eldMaxMs.toFixed(0)} ms), SIPp ${bad.callerCpuPct.toFixed(0)}% + ${bad.agentCpuPct.toFixed(0)}%, machine ${bad.machineBusyPct.toFixed(0)}% of 200% (other work ${bad.otherPct.toFixed(0)}%), ${bad.retransmissions} retransmissions, ${bad.gwUdpDrops} datagrams dropped at the gateway's SIP socket (receive buffer full), setup p99 ${bad.setup?.p99 ?? '-'} ms${bad.leftover ? `, ${bad.leftover} calls stuck open afterwards` : ''}.` +
        (bad.errors.length ? ` SIPp errors: ${bad.errors.join('; ')} (message 1 = waiting for the answer to the INVITE, 8 = for the 200 to the BYE).` : ''),
      '',
      `- CPU per call: the gateway spent ${msPerCall.toFixed(1)} ms of CPU per call over the passing steps (weighted by calls; all its threads, its no-call CPU taken off; 11 SIP messages pass through it per call, and 4 relay sockets are opened and closed), so a core's worth of CPU carries ~${Math.round(1000 / msPerCall)} calls/s; SIP signalling itself runs on the single main thread.`,
      bad.machineBusyPct > 180
        ? `- The machine was saturated: the gateway, both SIPps${bad.otherPct > 20 ? ' and other work on the box' : ''} together used ${bad.machineBusyPct.toFixed(0)}% of 200%, so the gateway's main thread did not get a full core while it needed one.`
        : bad.gwCpuPct > 85
          ? "- The gateway's main thread was saturated (signalling runs on one event loop)."
          : '- Neither the gateway nor the machine was CPU-saturated over the whole step: the failures came from bursts (see event-loop max delay and drops).',
      `- Once the event loop lags, the SIP socket's receive buffer (kernel default, ~208 KiB) overflows (${bad.gwUdpDrops} drops), SIPp retransmits (INVITE after 0.5 s, BYE likewise), the retransmissions add load, and calls time out; a BYE lost with all its retransmissions leaves the dialog open in the gateway for good.`,
      ...(profile ? [`- Main thread at ${profileRun?.rate ?? '?'} calls/s, by area: ${profile.areas.slice(0, 6).map((a) => `${a.name} ${a.pct.toFixed(0)}%`).join(', ')}.`] : []),
      '',
    );
  } else {
    lines.push(`No failing rate within the run (${found.stopReason || 'see steps'}).`, '');
  }
  lines.push('{{NOTES}}', '');
  lines.push('### Method', '');
  lines.push(
    `- Gateway: server/src/main.ts as its own process through tsx, as \`npm start\` runs it (\`node --expose-gc --import tsx server/bench/lib/gateway-entry.ts\`, which installs the bench probe for heap, event-loop delay and CPU profile over IPC, then imports main.ts; the gateway's code and HTTP surface are unchanged), LOG_LEVEL=warn, SIP over UDP on 127.0.0.1, RTP ports 10000-19999 (each call still anchors media: 2 RTP/RTCP socket pairs), MD5 digest, ${O.agents} agent ids in AGENTS.`,
    `- SIPp ${o.info.sipp}, UDP, one socket each: \`e2e/sipp/bench-caller.xml\` (UAC: INVITE with SDP offer -> 200 -> ACK, hold ${O.holdMs} ms, BYE -> 200; no RTP) and one \`e2e/sipp/bench-agent.xml\` (UAS: 200 with SDP at once, ACK, BYE -> 200). All ${O.agents} agent ids are registered (digest, by the bench's UDP client \`server/bench/lib/register.ts\`) with the UAS as Contact; the caller takes the callee per call from an injection file (\`-inf\`, SEQUENTIAL), so an id is reused only every ${O.agents} calls and never meets the gateway's 486-when-busy rule.`,
    `- Search (RFC 7502 4.1-4.2 style): fixed-rate steps of ${O.stepS} s (\`-r R -m R*${O.stepS}\`), ramp ${O.rates.join(', ')} calls/s until the first step with >= 0.1% failed calls, then a binary search between the last passing and the first failing rate to within ${O.resolution} calls/s (or 5%), then a ${O.stepS * 2} s confirmation at the maximum and a profiled step. A warm-up step precedes everything. After each step the bench waits (up to 36 s: RFC 3261 Timer F/H) until the gateway holds no calls; if some never end ("stuck": a BYE lost with all its retransmissions, and the gateway has no session timer to notice), the next step gets a freshly started, re-registered and warmed-up gateway, since those agents would answer 486 for ever.`,
    '- The caller scenario matches responses to their transaction (SIPp start_txn/response_txn): without it SIPp takes a retransmitted 200 for the INVITE as the answer to its BYE, stops retransmitting the BYE, counts the call successful and leaves it open in the gateway.',
    '- A call is failed if it was offered and did not complete all its messages: SIPp failures (unexpected message, 10 s receive timeout, max retransmissions), calls SIPp never started, calls still open. Setup time: INVITE sent -> 200 received, per call from SIPp `-trace_rtt`, percentiles computed by the bench.',
    '- Caveats: SIPp caller, SIPp UAS and the gateway share the same 2 cores, so every figure includes the load generator\'s competition (reported per step); the machine is shared with other work (the "other" column). The gateway runs TypeScript through tsx (esbuild transform on load only; run time is plain V8).',
    '',
  );
  return lines.join('\n');
}

/** `--render results.json`: rewrite the RESULTS.md section from a saved run, without running anything. */
async function renderOnly(file: string): Promise<void> {
  const data = JSON.parse(readFileSync(file, 'utf8')) as RunData;
  writeSection(RESULTS, render(data));
  log(`wrote ${RESULTS} from ${file}`);
}

await runBench(() => (opt('render') ? renderOnly(opt('render')!) : main()), { exit: true });

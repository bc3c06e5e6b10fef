/**
 * The moving parts of `npm run bench:sip` (server/bench/sip.ts): the gateway and the SIPp UAS with
 * every agent registered, one SIPp caller run per rate step with what it measured, and the memory
 * phase that holds K calls.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { join } from 'node:path';
import { freePort } from '../../devtools/ports.js';
import { sleep, stopChild } from '../../devtools/procs.js';
import { errorSummary, lastStats, num, rttSamples, startSipp, type SippRun } from '../../devtools/sipp/run.js';
import { GatewayProcess } from './gateway.js';
import { cpuSeconds, machineCpu, rssBytes, udpDrops } from './procs.js';
import { registerAgents } from './register.js';
import { pct, type StepResult } from './report.js';
import { FAIL_LIMIT, HOST, log, O, quick, SCENARIOS } from './sip-options.js';

export interface Env {
  gw: GatewayProcess;
  restarts: number;
  uas: SippRun;
  uasPort: number;
  runDir: string;
  agentsCsv: string;
  mediaPort: number;
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
      // Every call and registration comes from the one SIPp / bench address: the per-source edge limits
      // (defaults invite:200/1s, register:50/1s) would answer the search's rates 503; lifted here.
      EDGE_LIMITS: 'invite:100000/1s,register:100000/1s',
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

export async function setup(runDir: string): Promise<Env> {
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
export async function restartGateway(env: Env): Promise<void> {
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

export async function step(env: Env, label: string, rate: number, durationS: number, profileFile?: string): Promise<StepResult> {
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
export let lastTrialS = 0;
export async function trial(env: Env, label: string, rate: number, durationS: number, profileFile?: string): Promise<StepResult> {
  const began = Date.now();
  const r = await step(env, label, rate, durationS, profileFile);
  log(describe(r));
  if (r.leftover > 0) await restartGateway(env);
  lastTrialS = ((Date.now() - began) / 1000) * (O.stepS / durationS);
  return r;
}

export function describe(r: StepResult): string {
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
export let gwIdlePct = 0;

export interface MemoryResult {
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

export async function memoryPhase(env: Env): Promise<MemoryResult> {
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

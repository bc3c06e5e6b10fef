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
 * the RESULTS.md section from a run's results.json, kept with --keep, without running anything),
 * --parse-only [--parse-ms N] (the message edge alone: CPU per parsed message, three runs of N ms).
 */
import { execFileSync } from 'node:child_process';
import { cpus, tmpdir } from 'node:os';
import { mkdtempSync, rmSync, writeFileSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { killAllChildren, sleep, stopChild } from '../devtools/procs.js';
import { sippVersion } from '../devtools/sipp/run.js';
import { summariseProfile, type ProfileSummary } from './lib/cpuprofile.js';
import { parseMicro } from './lib/parse-micro.js';
import { machineCpu } from './lib/procs.js';
import { consoleTable, writeSection, type StepResult } from './lib/report.js';
import { runBench } from './lib/run-bench.js';
import { flag, log, O, opt, quick, REPO, RESULTS, TARGET } from './lib/sip-options.js';
import { memoryLine, mb, render, sustainedRate, type RunData } from './lib/sip-report.js';
import { describe, gwIdlePct, lastTrialS, memoryPhase, restartGateway, setup, step, trial, type MemoryResult } from './lib/sip-steps.js';

let deadline = Date.now() + O.budgetS * 1000;
const left = (): number => (deadline - Date.now()) / 1000;

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

/** `--render results.json`: rewrite the RESULTS.md section from a saved run, without running anything. */
async function renderOnly(file: string): Promise<void> {
  const data = JSON.parse(readFileSync(file, 'utf8')) as RunData;
  writeSection(RESULTS, render(data));
  log(`wrote ${RESULTS} from ${file}`);
}

/** `--parse-only [--parse-ms N]`: the message edge alone, CPU per message (lib/parse-micro.ts). */
async function parseOnly(): Promise<void> {
  const ms = Number(opt('parse-ms') ?? 3000);
  for (let i = 0; i < 3; i++) {
    const r = parseMicro(ms);
    log(`parseSip: ${r.messages} messages in ${r.cpuMs.toFixed(0)} ms CPU: ${r.usPerMessage.toFixed(1)} us per message, ${r.usPerCall.toFixed(0)} us per bench call (5 messages)`);
  }
}

await runBench(() => (opt('render') ? renderOnly(opt('render')!) : flag('parse-only') ? parseOnly() : main()), { exit: true });

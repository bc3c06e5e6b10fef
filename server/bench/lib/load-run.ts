/**
 * One load step of bench:load / bench:soak: SIPp places transfer-mode payment calls at a rate, the
 * gateway (its own process) takes them, a supervisor connection on `/events` watches every
 * session, and the step is judged per call:
 *   - the payment: `session.ended` with outcome `paid` (the demo provider approves the card);
 *   - digits: per field, the `digit.entered` events against the keys the customer sent (lost or
 *     extra digits), and no field asked twice or refused (`field.started` twice, `field.failed`);
 *   - digit -> event latency: SIPp logs when each call's audio started (gettimeofday), the plan
 *     gives each key's offset, and the n-th key of a field pairs with its n-th `digit.entered`.
 * Gateway figures over the step: CPU and peak RSS (/proc), event-loop delay (perf_hooks through the
 * bench probe), RTP packets in/out and receive loss (/metrics, read at the start and end only: a
 * scrape costs the gateway a round trip to every media worker), the most calls held (/healthz).
 */
import { readFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import WebSocket from 'ws';
import type { CallPlan, Field } from './call-audio.js';
import type { GatewayProcess } from './gateway.js';
import { startJitterProbe, type ProbeResult } from './jitter-probe.js';
import type { DtmfTransport } from '../../devtools/sipp/load-scenario.js';
import { cpuSeconds, machineCpu, rssBytes } from './procs.js';
import { sleep } from '../../devtools/procs.js';
import { pct } from './report.js';
import { errorSummary, lastStats, num, rttSamples, startSipp } from '../../devtools/sipp/run.js';

const nowMs = (): number => performance.timeOrigin + performance.now();

/** Nanoseconds a thread has spent runnable but waiting for a CPU (/proc/.../schedstat, field 2). */
function runqWaitNs(pid: number, tid = pid): number {
  try {
    return Number(readFileSync(`/proc/${pid}/task/${tid}/schedstat`, 'utf8').split(' ')[1]);
  } catch {
    return NaN;
  }
}
const FIELDS: Field[] = ['pan', 'expiry', 'cvv', 'otp'];

/** What the supervisor connection saw of one session (counts and times only: events are masked). */
export interface SessionSeen {
  started: Partial<Record<Field, number>>;
  /** When each field was first asked for (epoch ms). */
  startedAt: Partial<Record<Field, number>>;
  digitsAt: Partial<Record<Field, number[]>>;
  failed: number;
  /** `field:reason` of each refused field. */
  failures: string[];
  outcome?: string;
  reason?: string;
}

/** The supervisor connection: every event of every LOAD- session, folded as it arrives. */
export class LoadTap {
  private readonly byId = new Map<string, SessionSeen>();
  private readonly idOf = new Map<string, string>();
  events = 0;
  private constructor(private readonly ws: WebSocket) {
    ws.on('message', (data) => {
      const at = nowMs();
      let m: { type?: string; sessionId?: string; orderRef?: string; field?: Field; outcome?: string; reason?: string; attemptsLeft?: number };
      try {
        m = JSON.parse(String(data)) as typeof m;
      } catch {
        return;
      }
      this.events++;
      if (!m.sessionId) return;
      if (m.type === 'session.started' && m.orderRef?.startsWith('LOAD-')) {
        this.idOf.set(m.orderRef, m.sessionId);
        this.byId.set(m.sessionId, { started: {}, startedAt: {}, digitsAt: {}, failed: 0, failures: [] });
        return;
      }
      const s = this.byId.get(m.sessionId);
      if (!s) return;
      if (m.type === 'field.started' && m.field) {
        s.started[m.field] = (s.started[m.field] ?? 0) + 1;
        s.startedAt[m.field] ??= at;
      }
      else if (m.type === 'digit.entered' && m.field) (s.digitsAt[m.field] ??= []).push(at);
      else if (m.type === 'field.failed') {
        s.failed++;
        s.failures.push(`${m.field}:${m.reason}`);
      }
      else if (m.type === 'session.ended') {
        s.outcome = m.outcome;
        s.reason = m.reason;
      }
    });
  }

  static async open(httpPort: number, token: string): Promise<LoadTap> {
    const ws = new WebSocket(`ws://127.0.0.1:${httpPort}/events`, { maxPayload: 1 << 20 });
    await new Promise<void>((resolve, reject) => {
      ws.once('open', () => resolve());
      ws.once('error', reject);
    });
    const ready = new Promise<void>((resolve, reject) => {
      ws.once('message', (d) => (String(d).includes('"ready"') ? resolve() : reject(new Error(`events socket: ${String(d).slice(0, 200)}`))));
    });
    ws.send(JSON.stringify({ type: 'auth', token }));
    await ready;
    return new LoadTap(ws);
  }

  /** The session of an order, removed from the tap (each call is judged once). */
  take(orderRef: string): SessionSeen | undefined {
    const id = this.idOf.get(orderRef);
    if (!id) return undefined;
    this.idOf.delete(orderRef);
    const s = this.byId.get(id);
    this.byId.delete(id);
    return s;
  }

  get open(): boolean {
    return this.ws.readyState === WebSocket.OPEN;
  }

  close(): void {
    this.ws.close();
  }
}

/** `PLAY <call number> <s> <us>` lines of the SIPp log: when each call's audio started (epoch ms). */
export function readPlayLog(file: string): Map<number, number> {
  const out = new Map<number, number>();
  if (!existsSync(file)) return out;
  for (const m of readFileSync(file, 'utf8').matchAll(/PLAY (\d+) (\d+)(?:\.\d+)? (\d+)/g)) out.set(Number(m[1]), Number(m[2]) * 1000 + Number(m[3]) / 1000);
  return out;
}

/** RTP totals of the gateway from /metrics (packets in, out, lost on receive) and its calls now. */
export async function rtpTotals(httpPort: number): Promise<{ in: number; out: number; lost: number; calls: number }> {
  const text = await (await fetch(`http://127.0.0.1:${httpPort}/metrics`, { signal: AbortSignal.timeout(5000) })).text();
  const read = (re: RegExp): number => Number(re.exec(text)?.[1] ?? 0);
  return {
    in: read(/^tonegate_rtp_packets_total\{direction="in"\} (\d+)/m),
    out: read(/^tonegate_rtp_packets_total\{direction="out"\} (\d+)/m),
    lost: read(/^tonegate_rtp_packets_lost_total (\d+)/m),
    calls: read(/^tonegate_active_calls (\d+)/m),
  };
}

export interface LoadEnv {
  gw: GatewayProcess;
  tap: LoadTap;
  plan: CallPlan;
  media: Record<DtmfTransport, string>;
  scenarios: Record<DtmfTransport, string>;
  runDir: string;
  sippMediaPort: number;
  run: string;
  /** Other processes of the harness whose CPU each step reports (the demo provider). */
  others?: Record<string, number>;
}

export interface Dist {
  n: number;
  p50: number;
  p99: number;
  max: number;
}

export interface LoadStep {
  label: string;
  transport: DtmfTransport;
  rate: number;
  calls: number;
  sippOk: number;
  sippFailed: number;
  paid: number;
  /** Calls whose payment was not `paid` (SIPp failure, other outcome, no session), grouped. */
  notPaid: Record<string, number>;
  /** Where digit errors were: lost / extra per field, refusals by `field:reason`, and how many calls had the OTP keyed before the gateway asked for it. */
  diag: { lostByField: Partial<Record<Field, number>>; extraByField: Partial<Record<Field, number>>; failures: Record<string, number>; otpKeyedBeforeAsked: number; otpAskToKeyMs: Dist };
  digitsExpected: number;
  digitsLost: number;
  /** Of `digitsLost`, the digits of calls that never got a session (refused with 503 for load, or lost before the gateway): the rest were lost in admitted calls. */
  digitsLostUnstarted: number;
  digitsExtra: number;
  /** Fields asked again or refused (a wrong digit shows as a refused card, expiry or OTP). */
  fieldErrors: number;
  setup: Dist;
  digitFromFirst: Dist;
  digitFromEnd: Dist;
  maxCalls: number;
  gwCpuPct: number;
  gwRssPeakMb: number;
  sippCpuPct: number;
  /** CPU % of one core of the bench process itself (SIPp logs, the supervisor connection) and the `others`. */
  harnessCpuPct: Record<string, number>;
  /** Share of the step the gateway's main thread spent runnable but waiting for a core (CPU starvation). */
  mainRunqWaitPct: number;
  /** The gateway's prompt stream as a listening customer received it during the step (jitter-probe.ts). */
  probe: ProbeResult;
  machineBusyPct: number;
  eld: { p50Ms: number; p99Ms: number; maxMs: number };
  rtp: { in: number; out: number; lost: number; lossPct: number; inPps: number; outPps: number };
  /** Gateway CPU ms per 1000 RTP packets received (all its work included: SIP, capture, prompts). */
  cpuMsPer1000In: number;
  wallS: number;
  warnings: number;
  lastWarning: string;
  sippErrors: string[];
  pass: boolean;
}

const dist = (xs: number[]): Dist => ({
  n: xs.length,
  p50: Math.round(pct(xs, 50) * 10) / 10,
  p99: Math.round(pct(xs, 99) * 10) / 10,
  // A loop, not Math.max(...xs): a 30-minute soak has ~700,000 samples, past the argument limit.
  max: Math.round((xs.length ? xs.reduce((m, x) => (x > m ? x : m), -Infinity) : NaN) * 10) / 10,
});

let stepNo = 0;

/**
 * The probe's histogram (perf_hooks monitorEventLoopDelay, resolution 10 ms) records the interval
 * between its 10 ms timer's runs, so an idle loop reads 10 ms: the lag is what exceeds that.
 */
export const lag = (intervalMs: number): number => Math.round(Math.max(0, intervalMs - 10) * 10) / 10;

/** Runs `calls` payment calls at `rate` calls/s over `transport` and judges every one. */
export async function runLoadStep(env: LoadEnv, o: { transport: DtmfTransport; rate: number; calls: number; label?: string }): Promise<LoadStep> {
  const label = o.label ?? `${o.transport} ${o.rate}/s`;
  const dir = join(env.runDir, `step-${String(++stepNo).padStart(2, '0')}-${o.transport}-${o.rate}`);
  const run = `${env.run}${stepNo}`;
  const warn0 = env.gw.warnings;
  const rtp0 = await rtpTotals(env.gw.httpPort);
  await env.gw.eventLoopDelay(); // resets the histogram: the step's own delays from here
  const cpu0 = cpuSeconds(env.gw.pid) ?? 0;
  const self0 = process.cpuUsage();
  const wait0 = runqWaitNs(env.gw.pid);
  const others0 = Object.fromEntries(Object.entries(env.others ?? {}).map(([k, pid]) => [k, cpuSeconds(pid) ?? 0]));
  const m0 = machineCpu();
  const t0 = performance.now();
  const logFile = join(dir, 'play.log');
  const probe = startJitterProbe({ host: '127.0.0.1', port: env.gw.sipPort }, run);
  const sipp = startSipp(dir, [
    `127.0.0.1:${env.gw.sipPort}`,
    '-sf', env.scenarios[o.transport],
    '-i', '127.0.0.1', '-mi', '127.0.0.1', '-mp', String(env.sippMediaPort), '-t', 'u1',
    '-r', String(o.rate), '-m', String(o.calls), '-l', String(Math.max(50, o.rate * 60)),
    '-set', 'run', run,
    '-timeout', `${Math.ceil(o.calls / o.rate) + 120}s`, '-timeout_error',
    '-trace_rtt', '-rtt_freq', '1',
    '-trace_logs', '-log_file', logFile,
    '-buff_size', '4194304',
  ]);
  let sippCpu = 0;
  let maxCalls = 0;
  let peakRss = rssBytes(env.gw.pid) ?? 0;
  const sampler = setInterval(() => {
    peakRss = Math.max(peakRss, rssBytes(env.gw.pid) ?? 0);
    sippCpu = cpuSeconds(sipp.pid) ?? sippCpu;
    env.gw.health().then((h) => (maxCalls = Math.max(maxCalls, h.calls + h.payments)), () => {});
  }, 1000);
  const code = await sipp.exited;
  clearInterval(sampler);
  const probed = await probe.stop();
  const wallS = (performance.now() - t0) / 1000;
  const cpu = (cpuSeconds(env.gw.pid) ?? cpu0) - cpu0;
  const self = process.cpuUsage(self0);
  const mainRunqWaitPct = Math.round((runqWaitNs(env.gw.pid) - wait0) / 1e7 / wallS);
  const harnessCpuPct: Record<string, number> = { bench: Math.round((self.user + self.system) / 1e4 / wallS) };
  for (const [k, pid] of Object.entries(env.others ?? {})) harnessCpuPct[k] = Math.round((100 * ((cpuSeconds(pid) ?? others0[k]!) - others0[k]!)) / wallS);
  const m1 = machineCpu();
  const eld = await env.gw.eventLoopDelay();
  const rtp1 = await rtpTotals(env.gw.httpPort);
  await sleep(500); // the last session.ended events

  const stats = lastStats(dir);
  const plays = readPlayLog(logFile);
  const keysOf = (f: Field) => env.plan.keys.filter((k) => k.field === f && /\d/.test(k.key));
  const notPaid: Record<string, number> = {};
  let paid = 0;
  let lost = 0;
  let lostUnstarted = 0;
  let extra = 0;
  let fieldErrors = 0;
  const fromFirst: number[] = [];
  const fromEnd: number[] = [];
  const diag: LoadStep['diag'] = { lostByField: {}, extraByField: {}, failures: {}, otpKeyedBeforeAsked: 0, otpAskToKeyMs: dist([]) };
  const otpLead: number[] = [];
  const firstOtpKey = env.plan.keys.find((k) => k.field === 'otp')!;
  for (let n = 1; n <= o.calls; n++) {
    const s = env.tap.take(`LOAD-${run}-${n}`);
    if (!s) {
      notPaid['no session'] = (notPaid['no session'] ?? 0) + 1;
      const n = env.plan.keys.filter((k) => /\d/.test(k.key)).length;
      lost += n;
      lostUnstarted += n;
      continue;
    }
    if (s.outcome === 'paid') paid++;
    else {
      const k = s.outcome ? `${s.outcome} (${s.reason ?? ''})` : 'not ended';
      notPaid[k] = (notPaid[k] ?? 0) + 1;
    }
    fieldErrors += s.failed;
    for (const f of s.failures) diag.failures[f] = (diag.failures[f] ?? 0) + 1;
    const play = plays.get(n);
    if (play !== undefined && s.startedAt.otp !== undefined) {
      const lead = play + firstOtpKey.startMs - s.startedAt.otp;
      otpLead.push(lead);
      if (lead < 0) diag.otpKeyedBeforeAsked++;
    }
    for (const f of FIELDS) {
      const keys = keysOf(f);
      const got = s.digitsAt[f] ?? [];
      if ((s.started[f] ?? 0) > 1) fieldErrors += (s.started[f] ?? 0) - 1;
      lost += Math.max(0, keys.length - got.length);
      extra += Math.max(0, got.length - keys.length);
      if (got.length < keys.length) diag.lostByField[f] = (diag.lostByField[f] ?? 0) + keys.length - got.length;
      if (got.length > keys.length) diag.extraByField[f] = (diag.extraByField[f] ?? 0) + got.length - keys.length;
      if (play === undefined || got.length !== keys.length) continue;
      keys.forEach((k, i) => {
        fromFirst.push(got[i]! - (play + k.startMs));
        fromEnd.push(got[i]! - (play + k.endMs));
      });
    }
  }
  diag.otpAskToKeyMs = dist(otpLead);
  const sippOk = num(stats, 'SuccessfulCall(C)');
  const sippFailed = num(stats, 'FailedCall(C)');
  if (sippFailed > 0 || code !== 0) notPaid[`SIPp: ${sippFailed} calls failed (exit ${code})`] = 0;
  const inPkts = rtp1.in - rtp0.in;
  const r1 = (x: number): number => Math.round(x * 10) / 10;
  const digitsExpected = o.calls * env.plan.keys.filter((k) => /\d/.test(k.key)).length;
  const step: LoadStep = {
    label,
    transport: o.transport,
    rate: o.rate,
    calls: o.calls,
    sippOk,
    sippFailed,
    paid,
    notPaid,
    diag,
    digitsExpected,
    digitsLost: lost,
    digitsLostUnstarted: lostUnstarted,
    digitsExtra: extra,
    fieldErrors,
    setup: dist(rttSamples(dir)),
    digitFromFirst: dist(fromFirst),
    digitFromEnd: dist(fromEnd),
    maxCalls,
    gwCpuPct: r1((100 * cpu) / wallS),
    gwRssPeakMb: r1(peakRss / 2 ** 20),
    sippCpuPct: r1((100 * sippCpu) / wallS),
    harnessCpuPct,
    mainRunqWaitPct,
    probe: probed,
    machineBusyPct: r1((100 * (m1.busy - m0.busy)) / wallS),
    eld: { p50Ms: lag(eld.p50Ms), p99Ms: lag(eld.p99Ms), maxMs: lag(eld.maxMs) },
    rtp: {
      in: inPkts,
      out: rtp1.out - rtp0.out,
      lost: rtp1.lost - rtp0.lost,
      lossPct: inPkts > 0 ? Math.round((10000 * (rtp1.lost - rtp0.lost)) / inPkts) / 100 : 0,
      inPps: Math.round(inPkts / wallS),
      outPps: Math.round((rtp1.out - rtp0.out) / wallS),
    },
    cpuMsPer1000In: inPkts > 0 ? Math.round((1e7 * cpu) / inPkts) / 10 : NaN, // CPU s * 1e6 / packets = µs per packet = ms per 1000
    wallS: r1(wallS),
    warnings: env.gw.warnings - warn0,
    lastWarning: env.gw.warnings > warn0 ? env.gw.lastWarning : '',
    sippErrors: errorSummary(dir),
    pass: false,
  };
  step.pass = sippFailed === 0 && code === 0 && paid === o.calls && lost === 0 && extra === 0 && fieldErrors === 0;
  return step;
}

/**
 * rtpengine (Sipwise, Debian package `rtpengine-daemon`) as a reference RTP relay for the load
 * benchmarks: install if missing, start in user-space forwarding mode as a tracked
 * child, drive it over the ng protocol, blast RTP through it and read its CPU per 1000 packets.
 *
 * `relayCpu({ sessions, seconds })` is the stable entry point (bench:rtpengine and bench:load use it).
 *
 * "CPU per 1000 packets" = the relay process's CPU time (user + system, all threads, from
 * /proc/<pid>/stat) over the measuring window, divided by the RTP packets the relay *received* in
 * that window (each received packet is forwarded once), in ms per 1000 packets.
 *
 * Gotchas (rtpengine 10.5.3.5, Debian 12):
 * - Without `--config-file=none` rtpengine reads /etc/rtpengine/rtpengine.conf anyway, which asks
 *   for kernel table 0, listen-http on localhost:2225, listen-cli, recording-method proc and ports
 *   30000-40000: the bench passes `--config-file=none` and everything on the command line.
 * - User-space only is `--table=-1` (no kernel module, no iptables rule); the kernel module package
 *   (rtpengine-kernel-dkms) is only a Recommends, so install with --no-install-recommends.
 * - The package enables `rtpengine-daemon.service`. Under systemd it would be started by the
 *   install; in containers policy-rc.d usually denies it. If it runs, it is stopped and disabled
 *   (only right after the bench installed the package), since it would also grab ports.
 * - `--version` prints "Version: ..." on stderr (not stdout) and exits 0.
 * - The ng reply to `statistics` has `totalstatistics.relayedpackets` (and `_user`, `_kernel`):
 *   packets received and relayed, both directions, counted once each. There is no "sent" counter,
 *   so packets out are counted at the receiving endpoints.
 * - `delete` keeps a call in memory for `--delete-delay` (30 s default) seconds: set to 0.
 * - rtpengine allocates an RTP and an RTCP port per side (4 per session); the port range must hold
 *   that with room to skip ports that are busy (it skips those it cannot bind).
 * - In an offer reply the SDP carries the port for the *answerer* (B sends there); the answer's
 *   reply carries the port for the *offerer* (A sends there).
 * - A bad option value (e.g. a non-numeric --port-min) makes it exit 255 printing nothing at all:
 *   the start error quotes the command line so it can be run by hand.
 * - By default rtpengine runs one worker thread per core (`--num-threads`); on 2 cores that is 2.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import type { ChildProcess } from 'node:child_process';
import { NgClient, dig, type BDict } from './ng.js';
import { cpuSeconds, machineCpu } from './procs.js';
import { freePort } from '../../devtools/ports.js';
import { sleep, spawnTracked, stopChild } from '../../devtools/procs.js';
import { RtpBlaster, type BlasterCounts } from './rtp-blaster.js';

const HOST = '127.0.0.1';
export const RTPENGINE_PACKAGE = 'rtpengine-daemon';
const SERVICE = 'rtpengine-daemon';

function onPath(cmd: string): string | undefined {
  const r = spawnSync('sh', ['-c', `command -v ${cmd}`], { encoding: 'utf8' });
  const p = r.stdout.trim();
  return r.status === 0 && p ? p : undefined;
}

function isRoot(): boolean {
  return typeof process.getuid === 'function' && process.getuid() === 0;
}

/** Stops and disables the package's own service if it is running (only called after our install). */
function stopPackageService(log: (s: string) => void): void {
  if (existsSync('/run/systemd/system') && onPath('systemctl')) {
    const active = spawnSync('systemctl', ['is-active', '--quiet', SERVICE]).status === 0;
    if (active) {
      log(`rtpengine: the package started ${SERVICE}.service; stopping and disabling it`);
      spawnSync('systemctl', ['stop', SERVICE], { stdio: 'inherit' });
    }
    spawnSync('systemctl', ['disable', SERVICE], { stdio: 'ignore' });
    return;
  }
  // No systemd: a SysV start would have left the Debian pidfile behind.
  const pidfile = `/run/rtpengine/${SERVICE}.pid`;
  if (existsSync(pidfile)) {
    const pid = Number(readFileSync(pidfile, 'utf8').trim());
    if (pid > 0 && existsSync(`/proc/${pid}`)) {
      log(`rtpengine: the package started ${SERVICE} (pid ${pid}); stopping it`);
      spawnSync('service', [SERVICE, 'stop'], { stdio: 'inherit' });
    }
  }
}

/**
 * The path of the rtpengine binary; installs `rtpengine-daemon` (as root) when it is missing,
 * otherwise fails naming the package.
 */
export function ensureRtpengine(log: (s: string) => void = (s) => console.error(s)): string {
  const found = onPath('rtpengine');
  if (found) return found;
  if (!isRoot()) {
    throw new Error(`rtpengine is not installed and this is not root: run  apt-get install -y --no-install-recommends ${RTPENGINE_PACKAGE}`);
  }
  log(`rtpengine: not found, installing the Debian package ${RTPENGINE_PACKAGE}`);
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  const install = (): boolean =>
    spawnSync('apt-get', ['install', '-y', '-q', '--no-install-recommends', '-o', 'DPkg::Lock::Timeout=300', RTPENGINE_PACKAGE], { env, stdio: 'inherit' }).status === 0;
  if (!install()) {
    spawnSync('apt-get', ['update', '-q', '-o', 'DPkg::Lock::Timeout=300'], { env, stdio: 'inherit' });
    if (!install()) throw new Error(`rtpengine: apt-get install ${RTPENGINE_PACKAGE} failed (see its output above)`);
  }
  stopPackageService(log);
  const p = onPath('rtpengine');
  if (!p) throw new Error(`rtpengine: ${RTPENGINE_PACKAGE} installed but no rtpengine on the PATH`);
  return p;
}

/** "10.5.3.5-1+deb12u1" from `rtpengine --version`. */
export function rtpengineVersion(bin: string): string {
  // It prints on stderr.
  const r = spawnSync(bin, ['--version'], { encoding: 'utf8' });
  const out = `${r.stdout ?? ''}${r.stderr ?? ''}`;
  return /Version:\s*(\S+)/.exec(out)?.[1] ?? (out.trim() || 'unknown');
}

export interface RtpengineOptions {
  /** RTP port range for rtpengine's own ports (default: 4 per session + room, from 44000). */
  portMin?: number;
  portMax?: number;
  /** --num-threads (default: rtpengine's own, one per core). */
  numThreads?: number;
  /** --log-level (default 5, notice: nothing per packet, one line per call). */
  logLevel?: number;
  /** How long to wait for `pong` after the start (default 5000 ms). */
  startTimeoutMs?: number;
  log?: (s: string) => void;
}

export interface Rtpengine {
  readonly pid: number;
  readonly ngPort: number;
  readonly version: string;
  /** The exact command line started. */
  readonly command: string[];
  readonly ng: NgClient;
  /** The last lines rtpengine wrote to stderr (its log) and stdout. */
  stderrTail(): string;
  stop(): Promise<void>;
}

/** Starts rtpengine in the foreground, user space only, and waits for it to answer `ping`. */
export async function startRtpengine(opts: RtpengineOptions = {}): Promise<Rtpengine> {
  const log = opts.log ?? ((s: string) => console.error(s));
  const bin = ensureRtpengine(log);
  const version = rtpengineVersion(bin);
  const ngPort = await freePort();
  const portMin = opts.portMin ?? 44000;
  const portMax = opts.portMax ?? portMin + 3999;
  const args = [
    '--config-file=none', // else /etc/rtpengine/rtpengine.conf is read (kernel table 0, http, recording)
    '--table=-1', // user-space forwarding only: no kernel module
    '--foreground',
    '--log-stderr',
    '--no-log-timestamps',
    `--log-level=${opts.logLevel ?? 5}`,
    `--listen-ng=${HOST}:${ngPort}`,
    `--interface=${HOST}`,
    `--port-min=${portMin}`,
    `--port-max=${portMax}`,
    '--delete-delay=0',
    ...(opts.numThreads ? [`--num-threads=${opts.numThreads}`] : []),
  ];
  // Its log goes to stderr; option errors go to stdout: both are kept for error messages.
  const child: ChildProcess = spawnTracked(bin, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  const tail: string[] = [];
  const partial = { out: '', err: '' };
  for (const k of ['out', 'err'] as const) {
    const stream = k === 'out' ? child.stdout : child.stderr;
    stream?.setEncoding('utf8');
    stream?.on('data', (chunk: string) => {
      const lines = (partial[k] + chunk).split('\n');
      partial[k] = lines.pop() ?? '';
      tail.push(...lines);
      if (tail.length > 30) tail.splice(0, tail.length - 30);
    });
  }
  const stderrTail = (): string => [...tail, partial.out, partial.err].filter(Boolean).slice(-10).join('\n') || '(it printed nothing)';
  let spawnError: Error | undefined;
  child.once('error', (e) => (spawnError = e));

  const ng = await NgClient.connect({ host: HOST, port: ngPort, timeoutMs: 300, attempts: 1 });
  const timeoutMs = opts.startTimeoutMs ?? 5000;
  const t0 = Date.now();
  try {
    while (true) {
      if (spawnError) throw new Error(`rtpengine could not be started (${bin}): ${spawnError.message}`);
      if (child.exitCode !== null || child.signalCode !== null) {
        throw new Error(`rtpengine exited (${child.exitCode ?? child.signalCode}) before answering ping on ${HOST}:${ngPort}: ${stderrTail()}\n  command: ${[bin, ...args].join(' ')}`);
      }
      try {
        await ng.ping();
        break;
      } catch {
        if (Date.now() - t0 > timeoutMs) {
          throw new Error(`rtpengine did not answer ping on ${HOST}:${ngPort} within ${timeoutMs / 1000} s: ${stderrTail()}`);
        }
        await sleep(100);
      }
    }
  } catch (err) {
    ng.close();
    await stopChild(child, 'SIGTERM', 2000);
    throw err;
  }
  ng.close();
  // Longer timeouts once it runs: a busy relay on 2 shared cores can be slow to answer.
  const client = await NgClient.connect({ host: HOST, port: ngPort, timeoutMs: 2000, attempts: 3 });
  return {
    pid: child.pid!,
    ngPort,
    version,
    command: [bin, ...args],
    ng: client,
    stderrTail,
    stop: async () => {
      client.close();
      await stopChild(child, 'SIGTERM', 5000);
    },
  };
}

/** rtpengine's address and port for one side, from the SDP it returned. */
export function relayAddress(sdp: string): { address: string; port: number } {
  const port = /^m=audio (\d+) /m.exec(sdp)?.[1];
  const address = /^c=IN IP4 (\S+)/m.exec(sdp)?.[1];
  if (!port || !address) throw new Error(`rtpengine returned an SDP without c= or m=audio: ${JSON.stringify(sdp)}`);
  return { address, port: Number(port) };
}

export function pcmuSdp(port: number, sessionId: number): string {
  return [
    'v=0',
    `o=- ${sessionId} 1 IN IP4 ${HOST}`,
    's=-',
    `c=IN IP4 ${HOST}`,
    't=0 0',
    `m=audio ${port} RTP/AVP 0`,
    'a=rtpmap:0 PCMU/8000',
    'a=ptime:20',
    'a=sendrecv',
    '',
  ].join('\r\n');
}

export interface RelaySession {
  callId: string;
  fromTag: string;
  toTag: string;
  /** Where endpoint A must send (the relay's port facing A) and where B must send. */
  aSendsTo: number;
  bSendsTo: number;
}

/**
 * Creates one relay session per blaster session: `offer` with A's SDP, `answer` with B's SDP,
 * and points the blaster's endpoints at the ports rtpengine allocated.
 */
export async function createRelaySessions(ng: NgClient, blaster: RtpBlaster, tag = 'bench'): Promise<RelaySession[]> {
  const out: RelaySession[] = [];
  for (let i = 0; i < blaster.sessions; i++) {
    const { aPort, bPort } = blaster.endpoints(i);
    const callId = `${tag}-${process.pid}-${i}`;
    const fromTag = `a${i}`;
    const toTag = `b${i}`;
    const common: BDict = { 'call-id': callId, 'from-tag': fromTag, ICE: 'remove' };
    const offer = await ng.offer({ ...common, sdp: pcmuSdp(aPort, i) });
    const toB = relayAddress(String(offer.sdp ?? ''));
    const answer = await ng.answer({ ...common, 'to-tag': toTag, sdp: pcmuSdp(bPort, i) });
    const toA = relayAddress(String(answer.sdp ?? ''));
    if (toA.address !== HOST || toB.address !== HOST) throw new Error(`rtpengine offered ${toA.address}/${toB.address}, expected ${HOST}`);
    const s = { callId, fromTag, toTag, aSendsTo: toA.port, bSendsTo: toB.port };
    await blaster.setTargets(i, s);
    out.push(s);
  }
  return out;
}

/** Packets rtpengine has relayed so far (its own counter, both directions), and its errors. */
export async function relayedPackets(ng: NgClient): Promise<{ packets: number; errors: number } | undefined> {
  const st = await ng.statistics();
  const total = dig(st, 'statistics', 'totalstatistics');
  const packets = dig(total, 'relayedpackets');
  const errors = dig(total, 'relayedpacketerrors');
  if (typeof packets !== 'number') return undefined;
  return { packets, errors: typeof errors === 'number' ? errors : 0 };
}

export interface RelayCpuResult {
  sessions: number;
  /** Length of the measuring window (wall clock, s). */
  seconds: number;
  /** Packets the relay received in the window: rtpengine's own counter (generator's count if absent). */
  packetsIn: number;
  /** Packets that arrived at the endpoints in the window (rtpengine has no "sent" counter). */
  packetsOut: number;
  /** Packets that arrived at the endpoints / packets the generator sent, over the whole run (warm-up included). */
  delivered: number;
  /** rtpengine's CPU time (user + system, all threads) in the window. */
  cpuSeconds: number;
  /** cpuSeconds * 1000 / (packetsIn / 1000): ms of relay CPU per 1000 packets received (each forwarded once). */
  cpuPer1000Packets: number;
  /** rtpengine version, e.g. "10.5.3.5-1+deb12u1". */
  version: string;
  /** Relay CPU as % of one core. */
  cpuPct: number;
  /** Packets the generator sent in the window (both directions) and per second. */
  generatorSent: number;
  packetsPerSecond: number;
  /** Where packetsIn came from. */
  packetsInSource: 'rtpengine statistics' | 'generator';
  /** rtpengine's relayedpacketerrors in the window. */
  relayErrors: number;
  /** rtpengine's CPU with no calls, % of one core, over 1 s before the calls are set up. */
  idleCpuPct: number;
  /** CPU of the generating process (this one) in the window, as % of one core. */
  generatorCpuPct: number;
  /** The whole machine's busy share in the window (all cores, everything running on it), %. */
  machineBusyPct: number;
  generator: BlasterCounts;
  command: string[];
  /** Cross-check findings (e.g. the relay counted noticeably fewer packets than were sent). */
  warnings: string[];
}

export interface RelayCpuOptions {
  sessions: number;
  seconds: number;
  /** Media runs this long before the window opens (default 2 s). */
  warmupSeconds?: number;
  rtpengine?: RtpengineOptions;
  log?: (s: string) => void;
}

/**
 * Starts rtpengine, sets up `sessions` relayed calls, sends 20 ms PCMU both ways through each for
 * `warmupSeconds` + `seconds`, measures over the last `seconds`, deletes the calls and stops
 * rtpengine. Self-contained: nothing is left running.
 */
export async function relayCpu(opts: RelayCpuOptions): Promise<RelayCpuResult> {
  const { sessions, seconds } = opts;
  if (!(sessions > 0) || !(seconds > 0)) throw new Error('relayCpu: sessions and seconds must be > 0');
  const log = opts.log ?? ((s: string) => console.error(s));
  const warmup = opts.warmupSeconds ?? 2;
  const portMin = opts.rtpengine?.portMin ?? 44000;
  const portMax = opts.rtpengine?.portMax ?? portMin + Math.max(3999, sessions * 8);
  const rtpe = await startRtpengine({ ...opts.rtpengine, portMin, portMax, log });
  let blaster: RtpBlaster | undefined;
  let calls: RelaySession[] = [];
  try {
    const i0 = cpuSeconds(rtpe.pid) ?? 0;
    const iw = performance.now();
    await sleep(1000);
    const idleCpuPct = (((cpuSeconds(rtpe.pid) ?? 0) - i0) / ((performance.now() - iw) / 1000)) * 100;
    blaster = await RtpBlaster.create(sessions);
    calls = await createRelaySessions(rtpe.ng, blaster);
    blaster.start();
    await sleep(warmup * 1000);

    const g0 = blaster.snapshot();
    const r0 = await relayedPackets(rtpe.ng);
    const c0 = cpuSeconds(rtpe.pid);
    const p0 = process.cpuUsage();
    const m0 = machineCpu();
    const w0 = performance.now();
    await sleep(seconds * 1000);
    const c1 = cpuSeconds(rtpe.pid);
    const p1 = process.cpuUsage(p0);
    const m1 = machineCpu();
    const wall = (performance.now() - w0) / 1000;
    const g1 = blaster.snapshot();
    const r1 = await relayedPackets(rtpe.ng);
    blaster.stop();
    await sleep(300); // let what is in flight arrive
    const gEnd = blaster.snapshot();

    if (c0 === undefined || c1 === undefined) throw new Error(`rtpengine (pid ${rtpe.pid}) went away during the run: ${rtpe.stderrTail()}`);
    const diff = (k: keyof BlasterCounts): number => g1[k] - g0[k];
    const sent = diff('sentAtoB') + diff('sentBtoA');
    const received = diff('recvAtA') + diff('recvAtB');
    const warnings: string[] = [];
    let packetsIn = sent;
    let source: RelayCpuResult['packetsInSource'] = 'generator';
    let relayErrors = 0;
    if (r0 && r1) {
      packetsIn = r1.packets - r0.packets;
      relayErrors = r1.errors - r0.errors;
      source = 'rtpengine statistics';
      // The two snapshots are not taken at the same instant: allow 2 % for packets in flight.
      if (Math.abs(packetsIn - sent) > 0.02 * sent + 10) {
        warnings.push(`rtpengine counted ${packetsIn} packets relayed, the generator sent ${sent} (received ${received})`);
      }
    } else warnings.push('rtpengine statistics gave no relayedpackets counter: packetsIn is the generator\'s sent count');
    if (diff('foreign') > 0) warnings.push(`${diff('foreign')} datagrams at the endpoints were not the peer's RTP`);
    if (diff('skippedPeriods') > 0) warnings.push(`the generator fell behind and skipped ${diff('skippedPeriods')} 20 ms periods`);
    const expected = sessions * 100 * wall;
    if (sent < 0.95 * expected) warnings.push(`the generator sent ${(sent / wall).toFixed(0)} packets/s, below the ${(expected / wall).toFixed(0)} asked for`);
    const cpu = c1 - c0;
    return {
      sessions,
      seconds: wall,
      packetsIn,
      packetsOut: received,
      // Over the whole run, not the window: a generator that falls behind sends in bursts, and
      // a window boundary inside a burst would count its packets as sent in one window but
      // received in the next.
      delivered: gEnd.sentAtoB + gEnd.sentBtoA > 0 ? (gEnd.recvAtA + gEnd.recvAtB) / (gEnd.sentAtoB + gEnd.sentBtoA) : 0,
      cpuSeconds: cpu,
      cpuPer1000Packets: packetsIn > 0 ? (cpu * 1000) / (packetsIn / 1000) : NaN,
      version: rtpe.version,
      cpuPct: (cpu / wall) * 100,
      generatorSent: sent,
      packetsPerSecond: packetsIn / wall,
      packetsInSource: source,
      relayErrors,
      idleCpuPct,
      generatorCpuPct: ((p1.user + p1.system) / 1e6 / wall) * 100,
      machineBusyPct: m1.total > m0.total ? ((m1.busy - m0.busy) / (m1.total - m0.total)) * 100 : NaN,
      generator: { sentAtoB: diff('sentAtoB'), sentBtoA: diff('sentBtoA'), recvAtB: diff('recvAtB'), recvAtA: diff('recvAtA'), foreign: diff('foreign'), skippedPeriods: diff('skippedPeriods'), socketErrors: diff('socketErrors') },
      command: rtpe.command,
      warnings,
    };
  } finally {
    blaster?.stop();
    const failed: string[] = [];
    for (const c of calls) {
      await rtpe.ng.delete({ 'call-id': c.callId, 'from-tag': c.fromTag }).catch((e: unknown) => failed.push(String(e)));
    }
    if (failed.length) log(`rtpengine: ${failed.length} of ${calls.length} deletes failed, e.g. ${failed[0]}`);
    blaster?.close();
    await rtpe.stop();
  }
}

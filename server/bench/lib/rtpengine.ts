/**
 * rtpengine (Sipwise, Debian package `rtpengine-daemon`) as a reference RTP relay for the load
 * benchmarks: install if missing, start in user-space forwarding mode as a tracked
 * child, drive it over the ng protocol, blast RTP through it and read its CPU per 1000 packets.
 *
 * `relayCpu({ sessions, seconds })` (rtpengine-relay.ts) is the stable entry point (bench:rtpengine and bench:load use it).
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
import { NgClient } from './ng.js';
import { freePort } from '../../devtools/ports.js';
import { sleep, spawnTracked, stopChild } from '../../devtools/procs.js';

export const HOST = '127.0.0.1';
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

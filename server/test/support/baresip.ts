import { spawn, type ChildProcess } from 'node:child_process';
import { createSocket, type Socket as Socket4 } from 'node:dgram';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { connect, createServer, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { collectLines } from '../../devtools/lines.js';
import { freePort } from '../../devtools/ports.js';

/**
 * A real, stock SIP phone for integration tests: Debian's `baresip-core` (baresip 1.0) run headless
 * from a temporary config directory, driven through its `ctrl_tcp` module (netstring-framed JSON
 * over TCP: commands in, responses and UA events out). Nothing here changes how baresip behaves; a
 * test configures it the way a call centre would configure a desk phone.
 *
 * Always `stop()` it in afterAll: it kills the process (SIGTERM, then SIGKILL) and removes the
 * directory. `-t` bounds its life as well, so a crashed test run never leaves a phone behind.
 */
export interface BaresipOptions {
  /** One line per account, in baresip's `accounts` syntax (`<sip:user@host:port>;auth_pass=...`). */
  accounts: string[];
  /** Audio the phone sends: a sine (Hz) through `ausine`, or a WAV file through `aufile`. */
  source?: { sine: number } | { file: string };
  /**
   * `net_interface`: the address baresip puts in its SDP and Contact. Default `127.0.0.1`, so that SDP
   * and packets both say 127.0.0.1; `null` leaves baresip to pick its default interface (what a
   * phone with two networks does: the SDP names one address, packets leave from another).
   */
  netInterface?: string | null;
  /** `sndfile`: decoded audio of both directions dumped as WAV files into this folder. */
  recordTo?: string;
  /** Extra modules (`srtp.so`, `dtls_srtp.so`, ...), loaded before the accounts that name them. */
  modules?: string[];
  /** Extra config lines (`name value`). */
  config?: string[];
  /** Seconds after which baresip quits by itself (`-t`): the outer bound of a test. */
  lifetimeS?: number;
  /** SIP trace on stdout (`-s`), kept in `lines` for assertions. */
  sipTrace?: boolean;
  /**
   * SIP over TLS (RFC 3261 26.2): the gateway's certificate is checked against `caFile`
   * (`sip_cafile`); `cert` and `key` (PEM), when given, are the client certificate it presents
   * (`sip_certificate`). libre listens for TLS on the port after `sip_listen`'s, so both are free.
   */
  tls?: { caFile: string; cert?: Buffer; key?: Buffer };
}

export interface BaresipEvent {
  type: string;
  class?: string;
  accountaor?: string;
  direction?: string;
  peeruri?: string;
  id?: string;
  param?: string;
}

interface Pending {
  resolve: (r: { ok: boolean; data: string }) => void;
  reject: (e: Error) => void;
}

/** RTP/RTCP ports per phone (a few calls' worth). */
const RTP_RANGE = 16;

/** An even port P with P..P+n-1 all free for UDP on 127.0.0.1 right now. */
async function freeUdpRange(n: number): Promise<number> {
  for (let attempt = 0; attempt < 50; attempt++) {
    const base = 41000 + 2 * Math.floor(Math.random() * 9000);
    const socks: Socket4[] = [];
    let ok = true;
    for (let p = base; p < base + n && ok; p++) {
      const u = createSocket('udp4');
      socks.push(u);
      ok = await new Promise<boolean>((r) => {
        u.once('error', () => r(false));
        u.bind(p, '127.0.0.1', () => r(true));
      });
    }
    await Promise.all(socks.map((u) => new Promise<void>((r) => { try { u.close(() => r()); } catch { r(); } })));
    if (ok) return base;
  }
  throw new Error('no free UDP range for baresip RTP');
}

/** A port P with P and P+1 free for TCP on 127.0.0.1 (libre binds SIP over TLS on the next port of sip_listen). */
async function portPair(): Promise<number> {
  const free = (p: number): Promise<boolean> =>
    new Promise((resolve) => {
      const s = createServer();
      s.once('error', () => resolve(false));
      s.listen(p, '127.0.0.1', () => s.close(() => resolve(true)));
    });
  for (let i = 0; i < 20; i++) {
    const p = await freePort();
    if (p < 65535 && (await free(p + 1))) return p;
  }
  throw new Error('no free port pair for baresip');
}

export class Baresip {

  /** Every ctrl_tcp event, in order. */
  readonly events: BaresipEvent[] = [];
  private readonly waiters = new Set<() => void>();
  private readonly pending = new Map<string, Pending>();
  private buf = Buffer.alloc(0);
  private seq = 0;
  private exited: Promise<void>;
  private stopped = false;

  private constructor(
    readonly dir: string,
    readonly sipPort: number,
    private readonly child: ChildProcess,
    private readonly sock: Socket,
    /** Every stdout/stderr line (SIP trace included with `sipTrace`), as printed. */
    readonly lines: string[],
    /** The UDP ports its calls' RTP and RTCP use (`rtp_ports`): a packet capture can be limited to them. */
    readonly rtpPorts: { min: number; max: number },
  ) {
    this.exited = new Promise((r) => child.once('exit', () => r()));
    sock.on('data', (d: Buffer) => this.onData(d));
    sock.on('error', () => {});
    child.once('exit', () => {
      for (const p of this.pending.values()) p.reject(new Error('baresip exited'));
      this.pending.clear();
      this.wake();
    });
  }

  /**
   * Starts the phone. A start that fails before ctrl_tcp is up (a port picked free was taken in
   * between by another process on this shared machine) is retried on fresh ports, twice.
   */
  static async start(o: BaresipOptions): Promise<Baresip> {
    const failures: string[] = [];
    for (let attempt = 0; attempt < 3; attempt++) {
      const r = await Baresip.startOnce(o);
      if (r instanceof Baresip) return r;
      failures.push(r);
      console.warn(`baresip start failed, retrying on fresh ports: ${r}`);
    }
    throw new Error(`baresip did not start:\n${failures.join('\n---\n')}`);
  }

  private static async startOnce(o: BaresipOptions): Promise<Baresip | string> {
    const dir = mkdtempSync(join(tmpdir(), 'baresip-'));
    const sipPort = o.tls ? await portPair() : await freePort();
    const ctrlPort = await freePort();
    // baresip picks each call's RTP port at random in rtp_ports: a range of its own, free now.
    const rtpBase = await freeUdpRange(RTP_RANGE);
    const src = o.source ?? { sine: 440 };
    const source = 'sine' in src ? `ausine,${src.sine}` : `aufile,${src.file}`;
    const tls: string[] = [];
    if (o.tls) {
      tls.push(`sip_cafile ${o.tls.caFile}`);
      if (o.tls.cert && o.tls.key) {
        writeFileSync(join(dir, 'client.pem'), Buffer.concat([o.tls.cert, o.tls.key]), { mode: 0o600 });
        tls.push(`sip_certificate ${join(dir, 'client.pem')}`);
      }
    }
    const lines = [
      'poll_method epoll',
      ...tls,
      `sip_listen 127.0.0.1:${sipPort}`,
      ...(o.netInterface === null ? [] : [`net_interface ${o.netInterface ?? '127.0.0.1'}`]),
      'call_local_timeout 120',
      'call_max_calls 4',
      `audio_source ${source}`,
      // No sound card: aubridge is a player nobody listens to (playback is checked with sndfile).
      'audio_player aubridge,tonegate',
      'audio_alert aubridge,tonegate',
      // ausine only runs at 48 kHz stereo; baresip resamples to the 8 kHz of G.711.
      ...('sine' in src ? ['ausrc_srate 48000', 'ausrc_channels 2'] : []),
      `rtp_ports ${rtpBase}-${rtpBase + RTP_RANGE - 1}`,
      'rtp_stats yes',
      'module_path /usr/lib/baresip/modules',
      ...(o.modules ?? []).map((m) => `module ${m}`),
      'module account.so',
      'module g711.so',
      'sine' in src ? 'module ausine.so' : 'module aufile.so',
      'module aubridge.so',
      ...(o.recordTo ? ['module sndfile.so', `snd_path ${o.recordTo}`] : []),
      'module_app menu.so',
      'module_app ctrl_tcp.so',
      `ctrl_tcp_listen 127.0.0.1:${ctrlPort}`,
      ...(o.config ?? []),
    ];
    writeFileSync(join(dir, 'config'), lines.join('\n') + '\n');
    writeFileSync(join(dir, 'accounts'), o.accounts.join('\n') + '\n');
    writeFileSync(join(dir, 'contacts'), '');
    const args = ['-f', dir, '-t', String(o.lifetimeS ?? 120), ...(o.sipTrace ? ['-s'] : [])];
    const child = spawn('baresip', args, { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] });
    const out: string[] = [];
    collectLines(child, out);
    child.once('error', (err) => out.push(`spawn failed: ${err.message}`));
    let sock: Socket | undefined;
    for (let i = 0; i < 100 && !sock; i++) {
      if (child.exitCode !== null) break;
      sock = await new Promise<Socket | undefined>((resolve) => {
        const s = connect(ctrlPort, '127.0.0.1');
        s.once('connect', () => resolve(s));
        s.once('error', () => resolve(undefined));
      });
      if (!sock) await new Promise((r) => setTimeout(r, 50));
    }
    if (!sock) {
      const code = child.exitCode;
      child.kill('SIGKILL');
      rmSync(dir, { recursive: true, force: true });
      return `no ctrl_tcp on ${ctrlPort} (exit code ${code}):\n${out.join('\n')}`;
    }
    return new Baresip(dir, sipPort, child, sock, out, { min: rtpBase, max: rtpBase + RTP_RANGE - 1 });
  }

  /** Runs a menu command (`dial`, `hangup`, `transfer`, `sndcode`, ...) and returns its output. */
  command(command: string, params?: string, timeoutMs = 5000): Promise<{ ok: boolean; data: string }> {
    const token = `t${++this.seq}`;
    const json = JSON.stringify({ command, ...(params !== undefined ? { params } : {}), token });
    const body = Buffer.from(json, 'utf8');
    this.sock.write(Buffer.concat([Buffer.from(`${body.length}:`), body, Buffer.from(',')]));
    return new Promise((resolve, reject) => {
      const t = setTimeout(() => {
        this.pending.delete(token);
        reject(new Error(`baresip: no answer to ${command} within ${timeoutMs} ms`));
      }, timeoutMs);
      this.pending.set(token, {
        resolve: (r) => {
          clearTimeout(t);
          resolve(r);
        },
        reject: (e) => {
          clearTimeout(t);
          reject(e);
        },
      });
    });
  }

  /** Waits for the first event (already seen or still to come) that `match` accepts. */
  async waitEvent(match: (e: BaresipEvent) => boolean, timeoutMs = 10_000, what = 'event'): Promise<BaresipEvent> {
    const until = Date.now() + timeoutMs;
    for (;;) {
      const found = this.events.find(match);
      if (found) return found;
      if (this.child.exitCode !== null) throw new Error(`baresip exited before ${what}:\n${this.tail()}`);
      const left = until - Date.now();
      if (left <= 0) throw new Error(`baresip: no ${what} within ${timeoutMs} ms; events: ${this.events.map((e) => (e.param ? `${e.type} (${e.param})` : e.type)).join(', ')}\n${this.tail()}`);
      await new Promise<void>((resolve) => {
        const wake = (): void => {
          clearTimeout(t);
          this.waiters.delete(wake);
          resolve();
        };
        const t = setTimeout(wake, left);
        this.waiters.add(wake);
      });
    }
  }

  /** Waits for an event of `type` (e.g. `REGISTER_OK`, `CALL_ESTABLISHED`, `CALL_CLOSED`). */
  waitFor(type: string, timeoutMs = 10_000): Promise<BaresipEvent> {
    return this.waitEvent((e) => e.type === type, timeoutMs, type);
  }

  /** Waits for an output line matching `re` (tested and returned without the CR of a SIP trace line). */
  async waitLine(re: RegExp, timeoutMs = 10_000): Promise<string> {
    const until = Date.now() + timeoutMs;
    for (;;) {
      const l = this.lines.map((x) => x.replace(/\r$/, '')).find((x) => re.test(x));
      if (l !== undefined) return l;
      if (Date.now() > until) throw new Error(`baresip: no line ${re} within ${timeoutMs} ms\n${this.tail()}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  /** Everything it printed (the SIP trace included with `sipTrace`). */
  get output(): string {
    return this.lines.join('\n');
  }

  /** The last lines of output, for failure messages. */
  tail(n = 60): string {
    return this.lines.slice(-n).join('\n');
  }

  get running(): boolean {
    return this.child.exitCode === null && this.child.signalCode === null;
  }

  /** Idempotent: ends the process (SIGTERM, SIGKILL after 2 s) and removes its directory. */
  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    this.sock.destroy();
    if (this.running) {
      this.child.kill('SIGTERM');
      const killer = setTimeout(() => this.child.kill('SIGKILL'), 2000);
      await this.exited;
      clearTimeout(killer);
    }
    rmSync(this.dir, { recursive: true, force: true });
  }

  private wake(): void {
    for (const w of [...this.waiters]) w();
  }

  /** Netstrings (`<len>:<json>,`) from ctrl_tcp: command responses and UA events. */
  private onData(d: Buffer): void {
    this.buf = Buffer.concat([this.buf, d]);
    for (;;) {
      const colon = this.buf.indexOf(0x3a);
      if (colon < 0) return;
      const len = Number(this.buf.subarray(0, colon).toString());
      if (!Number.isInteger(len) || this.buf.length < colon + 1 + len + 1) return;
      const json = this.buf.subarray(colon + 1, colon + 1 + len).toString('utf8');
      this.buf = this.buf.subarray(colon + 2 + len);
      let msg: Record<string, unknown>;
      try {
        msg = JSON.parse(json) as Record<string, unknown>;
      } catch {
        continue;
      }
      if (msg['response'] === true) {
        const token = String(msg['token'] ?? '');
        const p = this.pending.get(token);
        this.pending.delete(token);
        p?.resolve({ ok: msg['ok'] === true, data: String(msg['data'] ?? '') });
      } else if (msg['event'] === true) {
        this.events.push(msg as unknown as BaresipEvent);
        this.wake();
      }
    }
  }
}

/**
 * The newest sndfile dump in `dir` (BaresipOptions.recordTo): `dec` is what the phone heard, `enc`
 * what it sent. First channel, 16-bit PCM at the file's rate. The data chunk is read to the end of
 * the file, since its size is only final once baresip closes it.
 */
export function lastRecording(dir: string, which: 'dec' | 'enc'): { rate: number; pcm: Int16Array } {
  const files = readdirSync(dir).filter((f) => f.endsWith(`${which}.wav`)).map((f) => join(dir, f));
  files.sort((a, b) => statSync(a).mtimeMs - statSync(b).mtimeMs);
  const newest = files[files.length - 1];
  if (!newest) throw new Error(`no sndfile ${which} dump in ${dir}: ${readdirSync(dir).join(', ')}`);
  return readWav(newest);
}

/** A RIFF/WAVE file's first channel (16-bit PCM). */
export function readWav(file: string): { rate: number; pcm: Int16Array } {
  const b = readFileSync(file);
  let off = 12;
  let rate = 8000;
  let channels = 1;
  while (off + 8 <= b.length) {
    const id = b.toString('ascii', off, off + 4);
    const size = b.readUInt32LE(off + 4);
    if (id === 'fmt ') {
      channels = b.readUInt16LE(off + 10);
      rate = b.readUInt32LE(off + 12);
    }
    if (id === 'data') {
      const data = b.subarray(off + 8);
      const frames = Math.floor(data.length / (2 * channels));
      const pcm = new Int16Array(frames);
      for (let i = 0; i < frames; i++) pcm[i] = data.readInt16LE(i * 2 * channels);
      return { rate, pcm };
    }
    off += 8 + size + (size % 2);
  }
  throw new Error(`${file}: no data chunk`);
}

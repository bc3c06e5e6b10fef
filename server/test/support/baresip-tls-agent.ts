import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, mkdirSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { collectLines } from './lines.js';
import { freeMediaPort, freePort } from './ports.js';

/**
 * (A small TLS-only agent; server/test/support/baresip.ts is the general baresip driver.)
 * A real baresip 1.0 (Debian `baresip-core`) as a SIP agent over TLS: it registers
 * `sip:<user>@127.0.0.1;transport=tls` through an RFC 5626 outbound flow to the gateway's TLS port,
 * presents a client certificate, checks the gateway's certificate against `caFile`, and answers
 * every call (answermode=auto), playing a tone from a WAV file (sox). `-s` traces SIP to stdout.
 */
export interface BaresipAgentOptions {
  user: string;
  password: string;
  gatewayTlsPort: number;
  caFile: string;
  /** Client certificate and key (PEM) presented to the gateway. */
  cert: Buffer;
  key: Buffer;
  seconds?: number;
}

/** A port P with P and P+1 free on 127.0.0.1 (libre binds SIP over TLS on the next port of sip_listen). */
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

export class BaresipAgent {
  readonly lines: string[] = [];
  private readonly exited: Promise<void>;

  private constructor(readonly child: ChildProcess) {
    collectLines(child, this.lines);
    this.exited = new Promise((r) => child.once('exit', () => r()));
  }

  static async start(o: BaresipAgentOptions): Promise<BaresipAgent> {
    const dir = mkdtempSync(join(tmpdir(), 'tg-baresip-'));
    const cfg = join(dir, 'cfg');
    mkdirSync(cfg);
    writeFileSync(join(dir, 'client.pem'), Buffer.concat([o.cert, o.key]), { mode: 0o600 });
    execFileSync('sox', ['-n', '-r', '8000', '-c', '1', '-b', '16', join(dir, 'tone.wav'), 'synth', '30', 'sine', '440'], { stdio: 'pipe' });
    const sip = await portPair();
    const rtp = await freeMediaPort();
    writeFileSync(
      join(cfg, 'config'),
      [
        'poll_method epoll',
        `sip_listen 127.0.0.1:${sip}`,
        `sip_certificate ${join(dir, 'client.pem')}`,
        `sip_cafile ${o.caFile}`,
        `audio_player aufile,${join(dir, 'heard.wav')}`,
        `audio_source aufile,${join(dir, 'tone.wav')}`,
        `audio_alert aufile,${join(dir, 'alert.wav')}`,
        `rtp_ports ${rtp}-${rtp + 3}`,
        'module_path /usr/lib/baresip/modules',
        'module g711.so',
        'module aufile.so',
        'module account.so',
        '',
      ].join('\n'),
    );
    writeFileSync(
      join(cfg, 'accounts'),
      `<sip:${o.user}@127.0.0.1;transport=tls>;auth_pass=${o.password};answermode=auto;outbound="sip:127.0.0.1:${o.gatewayTlsPort};transport=tls";regint=300\n`,
    );
    const child = spawn('baresip', ['-f', cfg, '-t', String(o.seconds ?? 60), '-s'], { stdio: ['ignore', 'pipe', 'pipe'] });
    return new BaresipAgent(child);
  }

  /** Everything it printed (SIP trace included). */
  get output(): string {
    return this.lines.join('\n');
  }

  async stop(): Promise<void> {
    if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill('SIGTERM');
    const t = setTimeout(() => this.child.kill('SIGKILL'), 3_000);
    await this.exited;
    clearTimeout(t);
  }
}

import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from '../../devtools/ports.js';

/**
 * A real rsyslogd (Debian packages rsyslog + rsyslog-gnutls) receiving syslog over TLS (RFC 5425,
 * imtcp with the gtls driver) on a free port of 127.0.0.1, writing each message as
 * `PRI MSGID MSG` lines to `out.log`. `stop()` + `start()` is an outage on the same port.
 */
export class RsyslogServer {
  #child: ChildProcess | undefined;
  #exited: Promise<void> | undefined;
  #out = '';
  readonly dir: string;
  readonly logFile: string;

  private constructor(
    readonly port: number,
    readonly tls: { caFile: string; certFile: string; keyFile: string },
  ) {
    this.dir = mkdtempSync(join(tmpdir(), 'tg-rsyslog-'));
    this.logFile = join(this.dir, 'out.log');
    writeFileSync(
      join(this.dir, 'rsyslog.conf'),
      [
        `global(DefaultNetstreamDriver="gtls" DefaultNetstreamDriverCAFile="${tls.caFile}" DefaultNetstreamDriverCertFile="${tls.certFile}" DefaultNetstreamDriverKeyFile="${tls.keyFile}" workDirectory="${this.dir}")`,
        'module(load="imtcp" StreamDriver.Name="gtls" StreamDriver.Mode="1" StreamDriver.Authmode="anon")',
        `input(type="imtcp" port="${port}" address="127.0.0.1")`,
        'template(name="raw" type="string" string="%pri% %msgid% %msg%\\n")',
        `action(type="omfile" file="${this.logFile}" template="raw")`,
        '',
      ].join('\n'),
    );
  }

  static async start(tls: { caFile: string; certFile: string; keyFile: string }): Promise<RsyslogServer> {
    const s = new RsyslogServer(await freePort(), tls);
    await s.start();
    return s;
  }

  get url(): string {
    return `tls://127.0.0.1:${this.port}`;
  }

  /** The received lines (`PRI MSGID MSG`). */
  lines(): string[] {
    return existsSync(this.logFile) ? readFileSync(this.logFile, 'utf8').split('\n').filter(Boolean) : [];
  }

  async start(): Promise<void> {
    if (this.#child) return;
    const child = spawn('rsyslogd', ['-n', '-f', join(this.dir, 'rsyslog.conf'), '-i', join(this.dir, 'rsyslogd.pid')], { stdio: ['ignore', 'pipe', 'pipe'] });
    child.stdout.on('data', (d: Buffer) => (this.#out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (this.#out += d.toString()));
    this.#child = child;
    this.#exited = new Promise((r) => child.once('exit', () => r()));
    for (let i = 0; i < 100; i++) {
      if (await this.#listening()) return;
      if (child.exitCode !== null) break;
      await new Promise((r) => setTimeout(r, 50));
    }
    await this.stop();
    throw new Error(`rsyslogd did not listen on ${this.port}: ${this.#out}`);
  }

  async stop(): Promise<void> {
    const child = this.#child;
    if (!child) return;
    this.#child = undefined;
    child.kill('SIGTERM');
    await this.#exited;
  }

  #listening(): Promise<boolean> {
    return new Promise((resolve) => {
      const sock = connect(this.port, '127.0.0.1');
      sock.once('connect', () => {
        sock.destroy();
        resolve(true);
      });
      sock.once('error', () => resolve(false));
    });
  }
}

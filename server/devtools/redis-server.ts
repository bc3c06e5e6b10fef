import { spawn, type ChildProcess } from 'node:child_process';
import { connect } from 'node:net';
import tls from 'node:tls';
import { freePort } from './ports.js';

/** `rediss://`: the server's certificate and key, the CA that signed them, and a requirepass password. */
export interface RedisTlsOptions {
  certFile: string;
  keyFile: string;
  caFile: string;
  ca: Buffer;
  password: string;
}

/**
 * A real `redis-server` (Debian package redis-server, 7.0) on a free port of 127.0.0.1, with no
 * persistence: a restart starts empty, as a crashed cache would. Tests start it in beforeAll and
 * `stop()` it in afterAll; `stop()` + `start()` is an outage on the same port.
 */
export class RedisServer {
  #child: ChildProcess | undefined;
  #exited: Promise<void> | undefined;

  private constructor(
    readonly port: number,
    readonly tls?: RedisTlsOptions,
  ) {}

  /** Plain, or with `tls` only TLS on the port (`--port 0 --tls-port N`, Debian's redis is built with TLS) and AUTH. */
  static async start(tlsOptions?: RedisTlsOptions): Promise<RedisServer> {
    const s = new RedisServer(await freePort(), tlsOptions);
    await s.start();
    return s;
  }

  /** `redis://127.0.0.1:N`, or `rediss://127.0.0.1:N` (no password in it) with TLS. */
  get url(): string {
    return `${this.tls ? 'rediss' : 'redis'}://127.0.0.1:${this.port}`;
  }

  get running(): boolean {
    return this.#child !== undefined;
  }

  async start(): Promise<void> {
    if (this.#child) return;
    const t = this.tls;
    const listen = t
      ? ['--port', '0', '--tls-port', String(this.port), '--tls-cert-file', t.certFile, '--tls-key-file', t.keyFile, '--tls-ca-cert-file', t.caFile,
          '--tls-auth-clients', 'no', '--requirepass', t.password]
      : ['--port', String(this.port)];
    const child = spawn('redis-server', [...listen, '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--loglevel', 'warning'], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (out += d.toString()));
    this.#child = child;
    this.#exited = new Promise((r) => child.once('exit', () => r()));
    for (let i = 0; i < 100; i++) {
      if (await this.#pings()) return;
      if (child.exitCode !== null) break;
      await new Promise((r) => setTimeout(r, 50));
    }
    await this.stop();
    throw new Error(`redis-server did not start on ${this.port}: ${out}`);
  }

  /**
   * Freezes it (SIGSTOP): connections stay open and commands queue unanswered, as with a hung
   * server or a network partition; `resume()` (SIGCONT) runs what queued, with the data intact.
   */
  pause(): void {
    this.#child?.kill('SIGSTOP');
  }

  resume(): void {
    this.#child?.kill('SIGCONT');
  }

  /** Stops it (SIGKILL when `crash`, as a crash would) and waits until it has exited. */
  async stop(crash = false): Promise<void> {
    const child = this.#child;
    if (!child) return;
    this.#child = undefined;
    child.kill('SIGCONT'); // a paused server would not act on SIGTERM
    child.kill(crash ? 'SIGKILL' : 'SIGTERM');
    await this.#exited;
  }

  #pings(): Promise<boolean> {
    return new Promise((resolve) => {
      const t = this.tls;
      const sock = t ? tls.connect({ port: this.port, host: '127.0.0.1', ca: t.ca, servername: 'localhost' }) : connect(this.port, '127.0.0.1');
      let data = '';
      sock.once('error', () => resolve(false));
      sock.on('data', (d) => {
        data += d.toString();
        // +PONG (after +OK for AUTH), or an error line (-LOADING, -NOAUTH ...): not ready.
        if (data.includes('+PONG\r\n') || /(^|\r\n)-[^\r]*\r\n/.test(data)) {
          sock.destroy();
          resolve(data.includes('+PONG\r\n'));
        }
      });
      if (t) sock.once('secureConnect', () => sock.write(`AUTH ${t.password}\r\nPING\r\n`));
      else sock.once('connect', () => sock.write('PING\r\n'));
    });
  }
}

import { spawn, type ChildProcess } from 'node:child_process';
import { connect } from 'node:net';
import { freePort } from './ports.js';

/**
 * A real `redis-server` (Debian package redis-server, 7.0) on a free port of 127.0.0.1, with no
 * persistence: a restart starts empty, as a crashed cache would. Tests start it in beforeAll and
 * `stop()` it in afterAll; `stop()` + `start()` is an outage on the same port.
 */
export class RedisServer {
  #child: ChildProcess | undefined;
  #exited: Promise<void> | undefined;

  private constructor(readonly port: number) {}

  static async start(): Promise<RedisServer> {
    const s = new RedisServer(await freePort());
    await s.start();
    return s;
  }

  get url(): string {
    return `redis://127.0.0.1:${this.port}`;
  }

  get running(): boolean {
    return this.#child !== undefined;
  }

  async start(): Promise<void> {
    if (this.#child) return;
    const child = spawn('redis-server', ['--port', String(this.port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--loglevel', 'warning'], {
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

  /** Stops it (SIGKILL when `crash`, as a crash would) and waits until it has exited. */
  async stop(crash = false): Promise<void> {
    const child = this.#child;
    if (!child) return;
    this.#child = undefined;
    child.kill(crash ? 'SIGKILL' : 'SIGTERM');
    await this.#exited;
  }

  #pings(): Promise<boolean> {
    return new Promise((resolve) => {
      const sock = connect(this.port, '127.0.0.1');
      let data = '';
      sock.once('error', () => resolve(false));
      sock.on('data', (d) => {
        data += d.toString();
        if (data.includes('\r\n')) {
          sock.destroy();
          resolve(data.startsWith('+PONG'));
        }
      });
      sock.once('connect', () => sock.write('PING\r\n'));
    });
  }
}

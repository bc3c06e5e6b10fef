import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { fileURLToPath } from 'node:url';
import { collectLines } from './lines.js';

const REPO = fileURLToPath(new URL('../../..', import.meta.url));

/**
 * A gateway as its own process, exactly as `npm start` runs it (tsx server/src/main.ts) with the
 * given environment: for tests that kill an instance (SIGKILL) or run several behind a proxy.
 * Every line it writes is kept.
 */
export class GatewayChild {
  readonly lines: string[] = [];
  private constructor(
    readonly child: ChildProcess,
    readonly env: Record<string, string>,
  ) {
    collectLines(child, this.lines);
  }

  /** `https` once {@link request} found the HTTP port speaking TLS (a certificate is configured). */
  #scheme: 'http' | 'https' = 'http';

  get httpUrl(): string {
    return `${this.#scheme}://127.0.0.1:${this.env['HTTP_PORT']}`;
  }

  /**
   * A request to the HTTP port, plain or TLS: with TLS_CERT_FILE set it tries HTTPS first, trusting
   * that certificate (its name is not checked: the test certificate is not issued for 127.0.0.1),
   * and falls back to plain HTTP when the port does not speak TLS.
   */
  async request(path: string, init: { method?: string; headers?: Record<string, string>; body?: string } = {}): Promise<{ status: number; text: string }> {
    const cert = this.env['TLS_CERT_FILE'];
    const once = (scheme: 'http' | 'https'): Promise<{ status: number; text: string }> =>
      new Promise((resolve, reject) => {
        const opts = { host: '127.0.0.1', port: Number(this.env['HTTP_PORT']), path, method: init.method ?? 'GET', headers: init.headers ?? {}, timeout: 2000 };
        const req =
          scheme === 'https'
            ? httpsRequest({ ...opts, ca: readFileSync(cert!), checkServerIdentity: () => undefined })
            : httpRequest(opts);
        req.on('response', (res) => {
          let text = '';
          res.setEncoding('utf8');
          res.on('data', (d: string) => (text += d));
          res.on('end', () => resolve({ status: res.statusCode ?? 0, text }));
        });
        req.on('timeout', () => req.destroy(new Error('timeout')));
        req.on('error', reject);
        req.end(init.body);
      });
    if (!cert) return once('http');
    try {
      const r = await once(this.#scheme === 'http' && !this.#probed ? 'https' : this.#scheme);
      if (!this.#probed) this.#scheme = 'https';
      this.#probed = true;
      return r;
    } catch (err) {
      if (this.#probed || (err as NodeJS.ErrnoException).code === 'ECONNREFUSED') throw err;
      const r = await once('http');
      this.#scheme = 'http';
      this.#probed = true;
      return r;
    }
  }
  #probed = false;

  static async start(env: Record<string, string>): Promise<GatewayChild> {
    const child = spawn(process.execPath, ['--import', 'tsx', 'server/src/main.ts'], { cwd: REPO, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    const g = new GatewayChild(child, env);
    const until = Date.now() + 30_000;
    for (;;) {
      if (child.exitCode !== null) throw new Error(`gateway exited ${child.exitCode}:\n${g.lines.slice(-20).join('\n')}`);
      try {
        const body = (JSON.parse((await g.request('/healthz')).text) as { status: string });
        if (body.status !== 'starting') return g;
      } catch {
        // not listening yet
      }
      if (Date.now() > until) throw new Error(`gateway did not come up:\n${g.lines.slice(-20).join('\n')}`);
      await new Promise((r) => setTimeout(r, 200));
    }
  }

  /**
   * Runs `npm start`'s command with `env` until it exits (a start that is refused) and returns the
   * exit code and every line; rejects when it is still running after `timeoutMs` (it was not refused).
   */
  static async runUntilExit(env: Record<string, string>, timeoutMs = 30_000): Promise<{ code: number | null; lines: string[] }> {
    const child = spawn(process.execPath, ['--import', 'tsx', 'server/src/main.ts'], { cwd: REPO, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    const lines: string[] = [];
    collectLines(child, lines);
    // 'close': the process has exited and its output streams are drained.
    const exited = new Promise<number | null>((r) => child.once('close', (code) => r(code)));
    const timer = new Promise<'timeout'>((r) => setTimeout(() => r('timeout'), timeoutMs).unref());
    const result = await Promise.race([exited, timer]);
    if (result === 'timeout') {
      child.kill('SIGKILL');
      throw new Error(`gateway still running after ${timeoutMs} ms:\n${lines.slice(-20).join('\n')}`);
    }
    return { code: result, lines };
  }

  /** Log lines at warn (40) or above. */
  warnings(): string[] {
    return this.lines.filter((l) => /"level":(40|50|60)/.test(l));
  }

  async stop(signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return;
    const done = new Promise((r) => this.child.once('exit', r));
    this.child.kill(signal);
    await Promise.race([done, new Promise((r) => setTimeout(r, 10_000))]);
    if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill('SIGKILL');
  }
}

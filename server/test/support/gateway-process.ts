import { spawn, type ChildProcess } from 'node:child_process';
import https from 'node:https';
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
    /** With TLS_CERT_FILE: the CA its certificate is checked against (HTTPS health polling). */
    readonly ca?: Buffer,
  ) {
    collectLines(child, this.lines);
  }

  get httpUrl(): string {
    return `${this.env['TLS_CERT_FILE'] ? 'https' : 'http'}://127.0.0.1:${this.env['HTTP_PORT']}`;
  }

  /** `status` of GET /healthz (over HTTPS with `ca` when the gateway has a certificate). */
  private async health(): Promise<string> {
    if (!this.env['TLS_CERT_FILE']) {
      const r = await fetch(`${this.httpUrl}/healthz`, { signal: AbortSignal.timeout(1000) });
      return ((await r.json()) as { status: string }).status;
    }
    return new Promise((resolve, reject) => {
      const req = https.get(`${this.httpUrl}/healthz`, { ca: this.ca, timeout: 1000 }, (res) => {
        let body = '';
        res.on('data', (d: Buffer) => (body += d.toString()));
        res.on('end', () => resolve((JSON.parse(body) as { status: string }).status));
      });
      req.on('error', reject);
      req.on('timeout', () => req.destroy(new Error('timeout')));
    });
  }

  static async start(env: Record<string, string>, opts: { ca?: Buffer } = {}): Promise<GatewayChild> {
    const child = spawn(process.execPath, ['--import', 'tsx', 'server/src/main.ts'], { cwd: REPO, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    const g = new GatewayChild(child, env, opts.ca);
    const until = Date.now() + 30_000;
    for (;;) {
      if (child.exitCode !== null) throw new Error(`gateway exited ${child.exitCode}:\n${g.lines.slice(-20).join('\n')}`);
      try {
        if ((await g.health()) !== 'starting') return g;
      } catch {
        // not listening yet
      }
      if (Date.now() > until) throw new Error(`gateway did not come up:\n${g.lines.slice(-20).join('\n')}`);
      await new Promise((r) => setTimeout(r, 200));
    }
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

import type { ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { spawnGateway, waitUntilUp } from '../../devtools/gateway-spawn.js';
import { collectLines } from '../../devtools/lines.js';
import { stopChild } from '../../devtools/procs.js';
import { tlsFetch, type TlsResponse } from './tls-certs.js';

/**
 * A gateway as its own process, exactly as `npm start` runs it (tsx server/src/main.ts) or, compiled,
 * as `npm run start:production` does (node server/dist/main.js), with the given environment: for tests that kill an instance (SIGKILL) or run several behind a proxy.
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

  /** `https:` when the gateway has a certificate (TLS_CERT_FILE), as it then serves HTTPS only. */
  get httpUrl(): string {
    return `${this.env['TLS_CERT_FILE'] ? 'https' : 'http'}://127.0.0.1:${this.env['HTTP_PORT']}`;
  }

  /** A request to the gateway's HTTP port, trusting the given CA, `TEST_CA_FILE` or the certificate itself for HTTPS. */
  fetch(path: string, init: { method?: string; headers?: Record<string, string>; body?: string } = {}): Promise<TlsResponse> {
    const caFile = this.env['TEST_CA_FILE'] ?? this.env['TLS_CERT_FILE'];
    const ca = this.ca ?? (caFile ? readFileSync(caFile) : undefined);
    return tlsFetch(`${this.httpUrl}${path}`, { ...init, ...(ca ? { ca } : {}) });
  }

  /** `status` of GET /healthz (over HTTPS with the test CA when the gateway has a certificate). */
  private async health(): Promise<string> {
    const r = await this.fetch('/healthz');
    return ((await r.json()) as { status: string }).status;
  }

  /**
   * Starts the gateway and waits until /healthz answers. `compiled`: the build of `npm run build`
   * (`node server/dist/main.js`, as production runs it) instead of the TypeScript source under tsx.
   */
  static async start(env: Record<string, string>, opts: { ca?: Buffer; compiled?: boolean } = {}): Promise<GatewayChild> {
    const child = spawnGateway({ env, ...(opts.compiled ? { entry: 'server/dist/main.js' } : {}) });
    const g = new GatewayChild(child, env, opts.ca);
    await waitUntilUp(child, async () => typeof (await g.health()) === 'string', () => g.lines.slice(-20).join('\n'));
    return g;
  }

  /**
   * Runs `npm start`'s command with `env` until it exits (a start that is refused) and returns the
   * exit code and every line; rejects when it is still running after `timeoutMs` (it was not refused).
   */
  static async runUntilExit(env: Record<string, string>, timeoutMs = 30_000): Promise<{ code: number | null; lines: string[] }> {
    const child = spawnGateway({ env });
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

  /** `signal` (SIGTERM by default), SIGKILL after 10 s. */
  stop(signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
    return stopChild(this.child, signal, 10_000);
  }
}

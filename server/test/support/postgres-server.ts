import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { chownSync, existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { freePort } from '../../devtools/ports.js';

/**
 * A private PostgreSQL (Debian package postgresql, 15): `initdb` into a temporary directory,
 * `postgres` on a free port of 127.0.0.1 with its Unix socket in that directory, no fsync. As root
 * (CI) both run as the `postgres` user (else `nobody`), since PostgreSQL refuses to run as root;
 * otherwise as the current user. `stop()` + `start()` is an outage on the same port; `destroy()`
 * stops it and removes the directory.
 */
export class PostgresServer {
  #child: ChildProcess | undefined;
  #exited: Promise<void> | undefined;

  private constructor(
    readonly dir: string,
    readonly port: number,
    private readonly bin: string,
    private readonly ids: { uid: number; gid: number } | undefined,
  ) {}

  /** The superuser of the cluster (trust authentication on 127.0.0.1 only). */
  static readonly USER = 'tonegate';

  static async start(): Promise<PostgresServer> {
    const bin = postgresBin();
    const dir = mkdtempSync(join(tmpdir(), 'tg-pg-'));
    const ids = process.getuid?.() === 0 ? unprivileged() : undefined;
    if (ids) chownSync(dir, ids.uid, ids.gid);
    const init = spawnSync(join(bin, 'initdb'), ['-D', join(dir, 'data'), '-U', PostgresServer.USER, '--auth=trust', '-E', 'UTF8', '--locale=C', '--no-sync', '--no-instructions'], {
      encoding: 'utf8', ...(ids ?? {}), cwd: dir, timeout: 60_000,
    });
    if (init.status !== 0) {
      rmSync(dir, { recursive: true, force: true });
      throw new Error(`initdb failed: ${init.stderr || init.stdout || init.error?.message}`);
    }
    const s = new PostgresServer(dir, await freePort(), bin, ids);
    await s.start();
    return s;
  }

  /** `postgres://tonegate@127.0.0.1:<port>/postgres`. */
  url(user = PostgresServer.USER): string {
    return `postgres://${user}@127.0.0.1:${this.port}/postgres`;
  }

  get running(): boolean {
    return this.#child !== undefined;
  }

  async start(): Promise<void> {
    if (this.#child) return;
    const args = ['-D', join(this.dir, 'data'), '-p', String(this.port), '-k', this.dir, '-c', 'listen_addresses=127.0.0.1', '-c', 'fsync=off', '-c', 'max_connections=20', '-c', 'shared_buffers=16MB'];
    const child = spawn(join(this.bin, 'postgres'), args, { stdio: ['ignore', 'pipe', 'pipe'], cwd: this.dir, ...(this.ids ?? {}) });
    let out = '';
    child.stdout?.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr?.on('data', (d: Buffer) => (out += d.toString()));
    this.#child = child;
    this.#exited = new Promise((r) => child.once('exit', () => r()));
    for (let i = 0; i < 200; i++) {
      if (await this.#ready()) return;
      if (child.exitCode !== null) break;
      await new Promise((r) => setTimeout(r, 50));
    }
    await this.stop();
    throw new Error(`postgres did not start on ${this.port}: ${out.slice(-2000)}`);
  }

  /** Fast shutdown (SIGINT: sessions are ended), or SIGKILL as a crash; waits until it has exited. */
  async stop(crash = false): Promise<void> {
    const child = this.#child;
    if (!child) return;
    this.#child = undefined;
    child.kill(crash ? 'SIGKILL' : 'SIGINT');
    await this.#exited;
  }

  async destroy(): Promise<void> {
    await this.stop();
    rmSync(this.dir, { recursive: true, force: true });
  }

  /** Runs SQL as the superuser (setup: tables, rows, roles). */
  async sql(text: string, values: unknown[] = []): Promise<Record<string, unknown>[]> {
    const c = new pg.Client({ connectionString: this.url() });
    await c.connect();
    try {
      return (await c.query(text, values)).rows as Record<string, unknown>[];
    } finally {
      await c.end();
    }
  }

  async #ready(): Promise<boolean> {
    const c = new pg.Client({ connectionString: this.url(), connectionTimeoutMillis: 1000 });
    c.on('error', () => {});
    try {
      await c.connect();
      await c.query('SELECT 1');
      return true;
    } catch {
      return false;
    } finally {
      await c.end().catch(() => {});
    }
  }
}

/** The newest /usr/lib/postgresql/<version>/bin with initdb (Debian), else `pg_config --bindir`. */
function postgresBin(): string {
  const root = '/usr/lib/postgresql';
  const versions = existsSync(root) ? readdirSync(root).filter((v) => existsSync(join(root, v, 'bin', 'initdb'))).sort((a, b) => Number(b) - Number(a)) : [];
  if (versions[0]) return join(root, versions[0], 'bin');
  const r = spawnSync('pg_config', ['--bindir'], { encoding: 'utf8' });
  const dir = r.status === 0 ? r.stdout.trim() : '';
  if (dir && existsSync(join(dir, 'initdb'))) return dir;
  throw new Error('PostgreSQL server binaries not found (Debian: apt-get install postgresql; scripts/ensure-system-deps.sh)');
}

/** The `postgres` user's ids, else `nobody`'s: PostgreSQL refuses to run as root. */
function unprivileged(): { uid: number; gid: number } {
  for (const user of ['postgres', 'nobody']) {
    const uid = spawnSync('id', ['-u', user], { encoding: 'utf8' });
    const gid = spawnSync('id', ['-g', user], { encoding: 'utf8' });
    if (uid.status === 0 && gid.status === 0) return { uid: Number(uid.stdout.trim()), gid: Number(gid.stdout.trim()) };
  }
  throw new Error('running as root, and neither a postgres nor a nobody user exists to run PostgreSQL as');
}

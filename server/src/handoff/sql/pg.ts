import pg from 'pg';
import { SqlLookupError, type SqlDatabase, type SqlFailure } from './lookup.js';

export interface PgLookupOptions {
  /** `postgres://user:password@host:5432/db` (LOOKUP_DATABASE_URL). */
  readonly url: string;
  /** Server-side statement_timeout, and (plus one second) the client's own limit. */
  readonly timeoutMs: number;
  /** Connections at most (a payment lookup is one short query). */
  readonly poolMax: number;
}

/** Query parameters of LOOKUP_DATABASE_URL we take; others (options, statement_timeout, ...) could undo read-only or the timeout. */
const URL_PARAMS = new Set(['sslmode', 'sslrootcert', 'sslcert', 'sslkey', 'application_name', 'host']);

/** What is wrong with a lookup database URL, or undefined. Never echoes the URL (it holds a password). */
export function lookupUrlProblem(url: string): string | undefined {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    return 'is not a URL (postgres://user:password@host:5432/database)';
  }
  if (u.protocol !== 'postgres:' && u.protocol !== 'postgresql:') return 'must be postgres:// or postgresql://';
  for (const k of u.searchParams.keys()) if (!URL_PARAMS.has(k)) return `may not set ${k.slice(0, 40)} (allowed: ${[...URL_PARAMS].join(', ')})`;
  return undefined;
}

/** SQLSTATE 57014 query_canceled (statement_timeout); class 08 connection exceptions; 57P0x shutdown. */
function classify(err: unknown): { failure: SqlFailure; detail: string } {
  const e = err as { code?: unknown; message?: unknown };
  const code = typeof e.code === 'string' ? e.code : '';
  const message = typeof e.message === 'string' ? e.message : String(err);
  if (code === '57014' || /timeout/i.test(message)) return { failure: 'timeout', detail: code || message.slice(0, 120) };
  if (/^(08|57P0)/.test(code) || /^E[A-Z]+$/.test(code) || /terminated|connect|closed/i.test(message)) return { failure: 'unavailable', detail: code || message.slice(0, 120) };
  return { failure: 'query-failed', detail: code ? `SQLSTATE ${code}` : message.slice(0, 120) };
}

/**
 * The lookup database (PostgreSQL, npm `pg`): a small pool whose sessions are read-only
 * (`default_transaction_read_only=on`) with a `statement_timeout`, both set as startup options of
 * each connection (PostgreSQL "Client Connection Defaults"), so no query of a profile can write
 * or run long. The client also gives up on its own (`query_timeout`, `connectionTimeoutMillis`)
 * when the server does not answer at all. Errors come out as {@link SqlLookupError}.
 */
export class PgLookupDatabase implements SqlDatabase {
  readonly #pool: pg.Pool;
  #closed = false;

  constructor(o: PgLookupOptions) {
    const problem = lookupUrlProblem(o.url);
    if (problem) throw new Error(`LOOKUP_DATABASE_URL ${problem}`);
    this.#pool = new pg.Pool({
      connectionString: o.url,
      max: o.poolMax,
      idleTimeoutMillis: 30_000,
      connectionTimeoutMillis: o.timeoutMs,
      query_timeout: o.timeoutMs + 1000,
      options: `-c default_transaction_read_only=on -c statement_timeout=${o.timeoutMs}`,
      application_name: 'tonegate-lookup',
    });
    // An idle connection that drops (server restart) is an 'error' on the pool: without a listener it would end the process.
    this.#pool.on('error', () => {});
  }

  async query(text: string, values: readonly string[]): Promise<readonly Readonly<Record<string, unknown>>[]> {
    if (this.#closed) throw new SqlLookupError('unavailable', 'closed');
    try {
      const r = await this.#pool.query({ text, values: [...values] });
      return r.rows as Record<string, unknown>[];
    } catch (err) {
      const c = classify(err);
      throw new SqlLookupError(c.failure, c.detail);
    }
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await this.#pool.end();
  }
}

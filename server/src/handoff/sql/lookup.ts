import { normaliseNumber, type Numbering } from '../../config/number-plan.js';
import type { SipProfile } from '../profile.js';
import { validateTransaction, type FieldNames, type HandoffError, type RawFields, type Transaction, type TransactionLimits } from '../transaction.js';
import { callerNumber } from './caller.js';
import { compileSqlQuery, type SqlParameter } from './query.js';
import { rowToRaw } from './row.js';

/** Why a database lookup could not be done (not: found nothing). */
export type SqlFailure = 'unavailable' | 'timeout' | 'query-failed';

/** A lookup that failed; `detail` (an SQLSTATE or a socket error code) is for the log, never the peer. */
export class SqlLookupError extends Error {
  constructor(readonly failure: SqlFailure, readonly detail: string) {
    super(`sql lookup ${failure}: ${detail}`);
    this.name = 'SqlLookupError';
  }
}

/** The database port (handoff/sql/pg.ts is the PostgreSQL one): one read-only, time-limited query. */
export interface SqlDatabase {
  /** Rows of `text` with `values` bound to `$1..$n`; rejects with {@link SqlLookupError}. */
  query(text: string, values: readonly string[]): Promise<readonly Readonly<Record<string, unknown>>[]>;
  close(): Promise<void>;
}

/** What a profile of kind `sql` needs at run time. */
export interface SqlLookupDeps {
  readonly db: SqlDatabase;
  /** The number plan's numbering: callers and DIDs are bound in E.164. */
  readonly numbering: Numbering;
  /** A lookup that could not be done (for a warn log line). */
  readonly onFailure?: (e: { profile: string; failure: SqlFailure; detail: string }) => void;
  readonly nowMs?: () => number;
}

/** The request, as extract.ts sees it. */
export interface SqlSource {
  /** Headers that identify the caller: the INVITE's, or the customer's INVITE for a REFER. */
  readonly callerHeaders: (name: string) => string | undefined;
  readonly requestUriUser?: string;
}

export type SqlResult = { ok: true; txn: Transaction } | { ok: false; error: HandoffError };

const FAILURE_REASON: Record<SqlFailure, string> = {
  unavailable: 'the database is unavailable',
  timeout: 'the database lookup timed out',
  'query-failed': 'the database lookup failed',
};

const fail = (field: string, reason: string, status: HandoffError['status'] = 400): SqlResult => ({ ok: false, error: { field, reason, status } });

/**
 * The transaction of a profile of kind `sql` (sip-profiles/README.md, "SQL lookups"): binds the
 * query's parameters, runs it, and validates the one row like headers. No row, or more than one
 * (ambiguous: never guessed), is refused naming the parameter the lookup was keyed by; a database
 * that is down or slow is `503`.
 */
export async function bySql(profile: SipProfile, source: SqlSource, raw: RawFields, names: FieldNames, deps: SqlLookupDeps | undefined, limits?: TransactionLimits): Promise<SqlResult> {
  const compiled = profile.sql ? compileSqlQuery(profile.sql.query) : { problem: 'no sql section' };
  if ('problem' in compiled) return fail(`profile ${profile.name}`, `sql.query ${compiled.problem}`, 500);
  if (!deps) return fail(`profile ${profile.name}`, 'no database configured (LOOKUP_DATABASE_URL)', 500);
  const values: string[] = [];
  const keys: string[] = [];
  for (const p of compiled.params) {
    const b = bind(p, source, raw, names, deps.numbering);
    if (!b.ok) return b.result;
    values.push(b.value);
    keys.push(b.field);
  }
  const key = keys[0]!;
  let rows: readonly Readonly<Record<string, unknown>>[];
  try {
    rows = await deps.db.query(compiled.text, values);
  } catch (err) {
    const e = err instanceof SqlLookupError ? err : new SqlLookupError('query-failed', (err as Error).message?.slice(0, 200) ?? String(err));
    try {
      deps.onFailure?.({ profile: profile.name, failure: e.failure, detail: e.detail });
    } catch {
      // a log listener never changes the answer
    }
    return fail(key, FAILURE_REASON[e.failure], 503);
  }
  if (rows.length === 0) return fail(key, 'no pending payment found');
  if (rows.length > 1) return fail(key, 'ambiguous: more than one pending payment matches; refused rather than guessing');
  const r = rowToRaw(rows[0]!, raw, names, { maxAgeSeconds: profile.sql?.maxAgeSeconds, nowMs: (deps.nowMs ?? Date.now)() });
  if (!r.ok) return fail(r.field, r.reason, r.status);
  return validateTransaction(r.raw, r.names, limits);
}

type Bound = { ok: true; value: string; field: string } | { ok: false; result: SqlResult };

function bind(p: SqlParameter, source: SqlSource, raw: RawFields, names: FieldNames, numbering: Numbering): Bound {
  if (p === 'caller') {
    const c = callerNumber(source.callerHeaders, numbering);
    return c.ok ? { ok: true, value: c.number, field: c.field } : { ok: false, result: fail(c.field, c.reason) };
  }
  if (p === 'did') {
    const user = source.requestUriUser ?? '';
    const did = normaliseNumber(user, numbering);
    return did ? { ok: true, value: did, field: 'Request-URI' } : { ok: false, result: fail('Request-URI', 'the dialled user is not a number (E.164, or national form)') };
  }
  const ref = raw.txnRef?.trim();
  if (!ref) return { ok: false, result: fail(names.txnRef, 'missing') };
  if (!/^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/.test(ref)) return { ok: false, result: fail(names.txnRef, 'must be 1-64 characters of A-Z a-z 0-9 . _ -') };
  return { ok: true, value: ref, field: names.txnRef };
}

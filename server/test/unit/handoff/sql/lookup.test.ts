import { describe, expect, it } from 'vitest';
import { extractHandoff, parseSipProfile, SqlLookupError, type HandoffSource, type SqlDatabase, type SqlFailure } from '../../../../src/handoff/index.js';

/**
 * Profile kind `sql` through extractHandoff with a fake database: what is bound, how a row is
 * validated (like headers, each error naming its column) and how each failure is refused.
 */
const INDIA = { countryCode: '91', nationalPrefix: '0' };
const NOW = Date.parse('2026-12-05T12:00:00Z');
type Row = Record<string, unknown>;

class FakeDb implements SqlDatabase {
  readonly calls: { text: string; values: readonly string[] }[] = [];
  constructor(private readonly answer: Row[] | SqlLookupError) {}
  async query(text: string, values: readonly string[]): Promise<Row[]> {
    this.calls.push({ text, values });
    if (this.answer instanceof SqlLookupError) throw this.answer;
    return this.answer;
  }
  async close(): Promise<void> {}
}

const profile = (query: string, maxAgeSeconds?: number) =>
  parseSipProfile({ name: 'sql-test', kind: 'sql', sql: { query, ...(maxAgeSeconds !== undefined ? { maxAgeSeconds } : {}) } });
const CALLER = profile('SELECT * FROM r WHERE caller_number = $caller', 900);
const row: Row = { amount: '1499.00', currency: 'INR', merchant_id: 'M-DEMO-01', order_ref: 'ORD-SQL-1', customer_mobile: '+919812340001', created_at: new Date(NOW - 60_000) };

function src(headers: Record<string, string>, more: Partial<HandoffSource> = {}): HandoffSource {
  const lower = new Map(Object.entries(headers).map(([k, v]) => [k.toLowerCase(), v]));
  return { headers: (n) => lower.get(n.toLowerCase()), ...more };
}
const FROM = { From: '<sip:09812340001@pbx.example>;tag=1' };

async function run(answer: Row[] | SqlLookupError, headers: Record<string, string> = FROM, p = CALLER, more: Partial<HandoffSource> = {}) {
  const db = new FakeDb(answer);
  const failures: SqlFailure[] = [];
  const r = await extractHandoff(p, src(headers, more), { sql: { db, numbering: INDIA, nowMs: () => NOW, onFailure: (e) => failures.push(e.failure) } });
  return { r, db, failures };
}

describe('profile kind sql: binding', () => {
  it('the caller number from From, in national form, is bound as +91... to $1 of the wrapped query', async () => {
    const { r, db } = await run([row]);
    expect(r).toEqual({ ok: true, txn: { amount: '1499.00', currency: 'INR', merchantId: 'M-DEMO-01', orderRef: 'ORD-SQL-1', customerMobile: '+919812340001' } });
    expect(db.calls).toEqual([{ text: 'SELECT * FROM (SELECT * FROM r WHERE caller_number = $1) AS tonegate_lookup LIMIT 2', values: ['+919812340001'] }]);
  });

  it('a caller number with quotes and SQL in it never reaches the text: it is no number, refused before any query', async () => {
    const { r, db } = await run([row], { From: `<sip:0'; DROP TABLE r; --@pbx>` });
    expect(r).toEqual({ ok: false, error: { field: 'From', reason: 'no caller number (E.164, or national form) in it', status: 400 } });
    expect(db.calls).toEqual([]);
  });

  it.each([
    ['$did from the Request-URI user, national form', 'SELECT * FROM r WHERE did = $did', { requestUriUser: '02240000005' }, {}, ['+912240000005']],
    ['$reference from X-Pay-Txn-Ref', 'SELECT * FROM r WHERE ref = $reference', {}, { 'X-Pay-Txn-Ref': 'TXN-9' }, ['TXN-9']],
    ['$did and $caller, each bound once', 'SELECT * FROM r WHERE did = $did AND caller = $caller AND $caller <> \'\'', { requestUriUser: '+912240000005' }, FROM, ['+912240000005', '+919812340001']],
  ])('%s', async (_name, query, more, headers, values) => {
    const { r, db } = await run([row], headers as Record<string, string>, profile(query), more);
    expect(r.ok).toBe(true);
    expect(db.calls[0]!.values).toEqual(values);
  });

  it.each([
    ['no From at all', 'SELECT * FROM r WHERE c = $caller', {}, {}, { field: 'From', reason: 'missing' }],
    ['a DID that is no number', 'SELECT * FROM r WHERE d = $did', {}, { requestUriUser: 'pay' }, { field: 'Request-URI', reason: 'the dialled user is not a number (E.164, or national form)' }],
    ['no reference header', 'SELECT * FROM r WHERE x = $reference', {}, {}, { field: 'X-Pay-Txn-Ref', reason: 'missing' }],
    ['a malformed reference', 'SELECT * FROM r WHERE x = $reference', { 'X-Pay-Txn-Ref': "a' or 1=1" }, {}, { field: 'X-Pay-Txn-Ref', reason: 'must be 1-64 characters of A-Z a-z 0-9 . _ -' }],
  ])('refused before any query: %s', async (_name, query, headers, more, error) => {
    const { r, db } = await run([row], headers, profile(query), more);
    expect(r).toEqual({ ok: false, error: { ...error, status: 400 } });
    expect(db.calls).toEqual([]);
  });
});

describe('profile kind sql: the answer', () => {
  it.each<[string, Row[] | SqlLookupError, { field: string; reason: string; status: number }]>([
    ['no row', [], { field: 'From', reason: 'no pending payment found', status: 400 }],
    ['two rows (ambiguous)', [row, { ...row, order_ref: 'ORD-SQL-2' }], { field: 'From', reason: 'ambiguous: more than one pending payment matches; refused rather than guessing', status: 400 }],
    ['a bad amount', [{ ...row, amount: '14.999' }], { field: 'sql column amount', reason: 'must be a decimal number with at most 2 decimals', status: 400 }],
    ['a zero amount', [{ ...row, amount: '0.00' }], { field: 'sql column amount', reason: 'must be greater than 0', status: 400 }],
    ['no amount column', [{ ...row, amount: undefined }], { field: 'sql column amount', reason: 'missing', status: 400 }],
    ['a null currency', [{ ...row, currency: null }], { field: 'sql column currency', reason: 'missing', status: 400 }],
    ['an unknown currency', [{ ...row, currency: 'XXX' }], { field: 'sql column currency', reason: 'not an accepted ISO 4217 currency code', status: 400 }],
    ['a mobile that is not E.164', [{ ...row, customer_mobile: '9812340001' }], { field: 'sql column customer_mobile', reason: 'must be E.164, e.g. +919800000001', status: 400 }],
    ['an order ref with a space', [{ ...row, order_ref: 'ORD 1' }], { field: 'sql column order_ref', reason: 'must be 1-64 characters of A-Z a-z 0-9 . _ : / -', status: 400 }],
    ['a boolean merchant', [{ ...row, merchant_id: true }], { field: 'sql column merchant_id', reason: 'must be text or a number', status: 400 }],
    ['a row older than maxAgeSeconds', [{ ...row, created_at: new Date(NOW - 901_000) }], { field: 'sql column created_at', reason: 'older than 900 s (maxAgeSeconds)', status: 400 }],
    ['created_at not a timestamp', [{ ...row, created_at: 'yesterday' }], { field: 'sql column created_at', reason: 'must be a timestamp', status: 400 }],
    ['no created_at though maxAgeSeconds is set', [{ amount: '1.00', currency: 'INR', merchant_id: 'M', order_ref: 'O', customer_mobile: '+919812340001' }], { field: 'sql column created_at', reason: 'missing: the profile sets maxAgeSeconds, so the query must return created_at', status: 500 }],
    ['the database down', new SqlLookupError('unavailable', 'ECONNREFUSED'), { field: 'From', reason: 'the database is unavailable', status: 503 }],
    ['a statement timeout', new SqlLookupError('timeout', '57014'), { field: 'From', reason: 'the database lookup timed out', status: 503 }],
    ['a failing query', new SqlLookupError('query-failed', 'SQLSTATE 42P01'), { field: 'From', reason: 'the database lookup failed', status: 503 }],
  ])('%s is refused naming the field', async (_name, answer, error) => {
    const { r, failures } = await run(answer);
    expect(r).toEqual({ ok: false, error });
    expect(failures).toEqual(answer instanceof SqlLookupError ? [answer.failure] : []);
  });

  it('numbers (integer columns) become text; optional columns fill the transaction, headers fill what the row leaves out', async () => {
    const { r } = await run([{ ...row, amount: 250, agent_id: null, language: 'hi' }], { ...FROM, 'X-Pay-Agent-Id': 'agent-2', 'X-Pay-Language': 'en' });
    expect(r).toEqual({ ok: true, txn: { amount: '250', currency: 'INR', merchantId: 'M-DEMO-01', orderRef: 'ORD-SQL-1', customerMobile: '+919812340001', agentId: 'agent-2', language: 'hi' } });
  });

  it('without a database configured the profile answers 500 naming it', async () => {
    const r = await extractHandoff(CALLER, src(FROM), {});
    expect(r).toEqual({ ok: false, error: { field: 'profile sql-test', reason: 'no database configured (LOOKUP_DATABASE_URL)', status: 500 } });
  });

  it('a REFER reads the caller from the customer INVITE (callerHeaders), not the REFER', async () => {
    const { r, db } = await run([row], { From: '<sip:agent-1@gw>' }, CALLER, { callerHeaders: (n) => (n === 'From' ? '<sip:+919812340001@pbx>' : undefined) });
    expect(r.ok).toBe(true);
    expect(db.calls[0]!.values).toEqual(['+919812340001']);
  });
});

describe('profile kind sql: the profile file', () => {
  it.each([
    [{ name: 'x', kind: 'sql' }, /kind sql needs a sql section/],
    [{ name: 'x', kind: 'headers', sql: { query: 'SELECT 1 WHERE $caller = $caller' } }, /only kind sql has a sql section/],
    [{ name: 'x', kind: 'sql', sql: { query: 'SELECT * FROM r WHERE c = $1' } }, /sql\.query: "\$1" is not a parameter/],
    [{ name: 'x', kind: 'sql', sql: { query: 'SELECT * FROM r WHERE c = $caller', maxAgeSeconds: 0 } }, /sql\.maxAgeSeconds/],
    [{ name: 'x', kind: 'sql', sql: { query: 'SELECT * FROM r WHERE c = $caller', extra: 1 } }, /sql/],
  ])('%j is refused', (json, why) => {
    expect(() => parseSipProfile(json)).toThrow(why);
  });
});

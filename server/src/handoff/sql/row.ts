import type { FieldNames, RawFields, TxnField } from '../transaction.js';

/**
 * The columns a lookup's row may have, by transaction field (sip-profiles/README.md, "SQL
 * lookups"). Deployers alias their own columns to these names in the query (`amt AS amount`).
 */
export const SQL_COLUMNS: Readonly<Partial<Record<TxnField, string>>> = {
  amount: 'amount',
  currency: 'currency',
  merchantId: 'merchant_id',
  orderRef: 'order_ref',
  customerMobile: 'customer_mobile',
  agentId: 'agent_id',
  language: 'language',
  returnTo: 'return_to',
};
export const CREATED_AT = 'created_at';

/** How an error names a column: `sql column amount`. */
export const columnName = (column: string): string => `sql column ${column}`;

/**
 * One value of a row as text: strings as they are (PostgreSQL `numeric`, `text`, `bigint`), finite
 * numbers (`integer`, `real`) in their shortest form; null is absent. Anything else (boolean, a
 * date in a text field, JSON, bytea) is refused naming the column.
 */
function text(v: unknown): { ok: true; value: string | undefined } | { ok: false } {
  if (v === null || v === undefined) return { ok: true, value: undefined };
  if (typeof v === 'string') return { ok: true, value: v };
  if (typeof v === 'number' && Number.isFinite(v)) return { ok: true, value: String(v) };
  return { ok: false };
}

export type RowResult =
  | { ok: true; raw: RawFields; names: FieldNames }
  | { ok: false; field: string; reason: string; status: 400 | 500 };

/**
 * The raw transaction of a row, to be validated like headers (validateTransaction): each field of
 * the row by its column; `agentId`, `language` and `returnTo` fall back to the request's headers
 * (`headerRaw`) when the row has none. With `maxAgeSeconds` the row must have `created_at`
 * (timestamp) no older than that.
 */
export function rowToRaw(
  row: Readonly<Record<string, unknown>>, headerRaw: RawFields, headerNames: FieldNames,
  opts: { maxAgeSeconds?: number | undefined; nowMs: number },
): RowResult {
  const raw: RawFields = { ...headerRaw };
  const names: Record<TxnField, string> = { ...headerNames };
  for (const [field, column] of Object.entries(SQL_COLUMNS) as [TxnField, string][]) {
    if (!(column in row)) continue;
    const t = text(row[column]);
    if (!t.ok) return { ok: false, field: columnName(column), reason: 'must be text or a number', status: 400 };
    if (t.value === undefined) continue;
    raw[field] = t.value;
    names[field] = columnName(column);
  }
  // Required fields the row lacks are named by their column, not by a header nobody sent.
  for (const f of ['amount', 'currency', 'merchantId', 'orderRef', 'customerMobile'] as const) if (raw[f] === undefined) names[f] = columnName(SQL_COLUMNS[f]!);
  if (opts.maxAgeSeconds !== undefined) {
    const field = columnName(CREATED_AT);
    if (!(CREATED_AT in row)) return { ok: false, field, reason: 'missing: the profile sets maxAgeSeconds, so the query must return created_at', status: 500 };
    const c = row[CREATED_AT];
    const ms = c instanceof Date ? c.getTime() : typeof c === 'string' ? Date.parse(c) : NaN;
    if (!Number.isFinite(ms)) return { ok: false, field, reason: 'must be a timestamp', status: 400 };
    if (opts.nowMs - ms > opts.maxAgeSeconds * 1000) return { ok: false, field, reason: `older than ${opts.maxAgeSeconds} s (maxAgeSeconds)`, status: 400 };
  }
  return { ok: true, raw, names };
}

/**
 * The query of a profile of kind `sql` (sip-profiles/README.md, "SQL lookups"). It names its
 * parameters `$caller`, `$did` and `$reference`; they are bound as PostgreSQL parameters
 * (`$1`, `$2`, ...: the extended query protocol's Bind message), never written into the text. The
 * text is one statement, wrapped as `SELECT * FROM (<query>) AS tonegate_lookup LIMIT 2`, so it
 * can only read (a data-modifying WITH must be at the top level) and never returns more than the
 * two rows that tell "one" from "ambiguous".
 */
export const SQL_PARAMETERS = ['caller', 'did', 'reference'] as const;
export type SqlParameter = (typeof SQL_PARAMETERS)[number];

export interface CompiledQuery {
  /** The wrapped text with positional parameters. */
  readonly text: string;
  /** The named parameter of each position: `params[0]` is `$1`. */
  readonly params: readonly SqlParameter[];
}

export const MAX_QUERY = 4000;

/**
 * Compiles a profile's query, or answers what is wrong with it. Refused: any `$` other than the
 * three named parameters (positional `$1`, dollar quoting), `;` (one statement only), comments
 * (they could hide the rest of the wrapper), control characters other than tab/CR/LF, no
 * parameter at all (a lookup keyed by nothing would pay the first pending row for any caller).
 */
export function compileSqlQuery(query: string): CompiledQuery | { problem: string } {
  if (query.length > MAX_QUERY) return { problem: `longer than ${MAX_QUERY} characters` };
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f]/.test(query)) return { problem: 'holds control characters' };
  if (query.includes(';')) return { problem: 'must be one statement, without ;' };
  if (query.includes('--') || query.includes('/*')) return { problem: 'may not hold comments (-- or /*)' };
  if (!/^\s*(select|with|values)\b/i.test(query)) return { problem: 'must be a SELECT (or WITH ... SELECT, VALUES)' };
  const params: SqlParameter[] = [];
  let bad: string | undefined;
  const text = query.replace(/\$([A-Za-z_][A-Za-z0-9_]*|\d+|\$)?/g, (all, name: string | undefined) => {
    if (name === undefined || !(SQL_PARAMETERS as readonly string[]).includes(name)) {
      bad ??= all;
      return all;
    }
    const p = name as SqlParameter;
    if (!params.includes(p)) params.push(p);
    return `$${params.indexOf(p) + 1}`;
  });
  if (bad !== undefined) return { problem: `"${bad.slice(0, 20)}" is not a parameter: use $caller, $did or $reference (no positional $1, no dollar quoting)` };
  if (params.length === 0) return { problem: 'names no parameter: key it by $caller, $did or $reference' };
  return { text: `SELECT * FROM (${text.trim()}) AS tonegate_lookup LIMIT 2`, params };
}

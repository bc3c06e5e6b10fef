import { z } from 'zod/v4';

/**
 * The number plan (README, "Routing"): which Request-URI users (DIDs) the gateway answers and how.
 * An entry matches a number exactly, by prefix or by pattern, and names what the call is: a
 * payment (`pay`, read with the entry's SIP profile), `support` (any free agent) or one named
 * agent. Numbers are compared in E.164 form (ITU-T E.164): `+<country><national>`; a number dialled
 * in national form (national trunk prefix, e.g. `0` in India) or with the country code but no `+`
 * is normalised first, so `02240000000`, `912240000000` and `+912240000000` are one number.
 * Pure: no I/O; the settings table (schema.ts) validates entries with {@link numberPlanProblems}.
 */

export const ROUTE_KINDS = ['pay', 'support', 'agent'] as const;
export type RouteKind = (typeof ROUTE_KINDS)[number];

/** One entry as written in the file (`routing.numbers`), or parsed from the environment form. */
export interface NumberEntry {
  readonly number?: string;
  readonly prefix?: string;
  readonly pattern?: string;
  readonly kind: RouteKind;
  /** kind `agent`: the agent's id. */
  readonly agent?: string;
  /** kind `pay`: the SIP profile (a file in sip-profiles/); unset: sip.profile. */
  readonly profile?: string;
}

/** How national numbers become E.164: country code and national trunk prefix. */
export interface Numbering {
  readonly countryCode: string;
  readonly nationalPrefix: string;
}

/** Where a matched call goes. */
export type Route =
  | { readonly kind: 'pay'; readonly profile: string | undefined; readonly number: string }
  | { readonly kind: 'support'; readonly number: string }
  | { readonly kind: 'agent'; readonly agent: string; readonly number: string }
  /** A DID of the pool (`routing.didPool`): pays with the transaction reserved on it by `POST /api/handoffs` `"via": "did"`. */
  | { readonly kind: 'pool'; readonly number: string };

/** RFC 3966 5.1.1 visual separators, which a dialled number may carry in the user part. */
const VISUAL = /[-.()]/g;
const E164 = /^\+[1-9]\d{6,14}$/;
const AGENT_ID = /^[A-Za-z0-9._-]{1,64}$/;
const PROFILE = /^[a-z0-9-]{1,32}$/;
const MAX_PATTERN = 200;

/**
 * The E.164 form of a dialled user part, or undefined when it is not a number: `+...` as is,
 * `<nationalPrefix><national>` becomes `+<cc><national>`, `<cc><national>` gains the `+`.
 * `partial` allows any length (prefixes); otherwise the result must be a whole E.164 number.
 */
export function normaliseNumber(user: string, n: Numbering, partial = false): string | undefined {
  const s = user.replace(VISUAL, '');
  if (!/^\+?\d{1,20}$/.test(s)) return undefined;
  let e: string;
  if (s.startsWith('+')) e = s;
  else if (n.nationalPrefix && s.startsWith(n.nationalPrefix) && s.length > n.nationalPrefix.length) e = `+${n.countryCode}${s.slice(n.nationalPrefix.length)}`;
  else if (s.startsWith(n.countryCode)) e = `+${s}`;
  else return undefined;
  if (partial) return /^\+\d{1,15}$/.test(e) ? e : undefined;
  return E164.test(e) ? e : undefined;
}

/** The environment form of one entry: `<number> <kind> [<profile>]`, number `+9122...`, `+9122*` (prefix) or `~<regex>` (pattern); kind `pay`, `support` or `agent:<id>`. */
export function parseEntryText(text: string): NumberEntry | string {
  const parts = text.trim().split(/\s+/);
  if (parts.length < 2 || parts.length > 3) return `"${text.slice(0, 80)}" must be "<number|prefix*|~pattern> <pay|support|agent:<id>> [profile]"`;
  const [m, k, profile] = parts as [string, string, string | undefined];
  const match = m.startsWith('~') ? { pattern: m.slice(1) } : m.endsWith('*') ? { prefix: m.slice(0, -1) } : { number: m };
  const agent = k.startsWith('agent:') ? k.slice('agent:'.length) : undefined;
  const kind = agent !== undefined ? 'agent' : k;
  if (!(ROUTE_KINDS as readonly string[]).includes(kind)) return `"${k.slice(0, 40)}" is not pay, support or agent:<id>`;
  return { ...match, kind: kind as RouteKind, ...(agent !== undefined ? { agent } : {}), ...(profile !== undefined ? { profile } : {}) };
}

/** The entry's own mistakes, each `[field, message]`, with its normalised match when valid. */
function entryProblems(e: NumberEntry, n: Numbering): { problems: [string, string][]; key?: string } {
  const out: [string, string][] = [];
  const given = (['number', 'prefix', 'pattern'] as const).filter((f) => e[f] !== undefined);
  if (given.length !== 1) out.push([given[1] ?? 'number', 'give exactly one of number, prefix or pattern']);
  let key: string | undefined;
  if (given.length === 1 && e.number !== undefined) {
    const v = normaliseNumber(e.number, n);
    if (v) key = `=${v}`;
    else out.push(['number', `"${e.number.slice(0, 40)}" is not an E.164 number (+${n.countryCode}...) or a national one (${n.nationalPrefix || 'no prefix'}...)`]);
  }
  if (given.length === 1 && e.prefix !== undefined) {
    const v = normaliseNumber(e.prefix, n, true);
    if (v) key = `^${v}`;
    else out.push(['prefix', `"${e.prefix.slice(0, 40)}" is not the start of a number (+<digits> or national form)`]);
  }
  if (given.length === 1 && e.pattern !== undefined) {
    if (e.pattern.length > MAX_PATTERN) out.push(['pattern', `is longer than ${MAX_PATTERN} characters`]);
    else {
      try {
        new RegExp(e.pattern);
        key = `~${e.pattern}`;
      } catch (err) {
        out.push(['pattern', `is not a regular expression: ${(err as Error).message}`]);
      }
    }
  }
  if (e.kind === 'agent' && (e.agent === undefined || !AGENT_ID.test(e.agent))) out.push(['agent', 'kind agent needs agent: <agent id> ([A-Za-z0-9._-], up to 64)']);
  if (e.kind !== 'agent' && e.agent !== undefined) out.push(['agent', `only kind agent names an agent, not kind ${e.kind}`]);
  if (e.profile !== undefined && e.kind !== 'pay') out.push(['profile', `only kind pay reads a handoff profile, not kind ${e.kind}`]);
  if (e.profile !== undefined && !PROFILE.test(e.profile)) out.push(['profile', `"${e.profile.slice(0, 40)}" is not a profile name ([a-z0-9-], a file in sip-profiles/)`]);
  return { problems: out, ...(key !== undefined ? { key } : {}) };
}

/** Every problem of a plan, `[index, field, message]`; a repeated number or prefix is one too. */
export function numberPlanProblems(entries: readonly NumberEntry[], n: Numbering): [number, string, string][] {
  const out: [number, string, string][] = [];
  const seen = new Map<string, number>();
  entries.forEach((e, i) => {
    const r = entryProblems(e, n);
    for (const [f, m] of r.problems) out.push([i, f, m]);
    if (r.key === undefined) return;
    const first = seen.get(r.key);
    const field = r.key[0] === '=' ? 'number' : r.key[0] === '^' ? 'prefix' : 'pattern';
    if (first !== undefined) out.push([i, field, `repeats entry ${first} (${r.key.slice(1)})`]);
    else seen.set(r.key, i);
  });
  return out;
}

/** A checked plan, ready to route Request-URI users. */
export interface NumberPlan {
  /** Where a Request-URI user goes; undefined when no entry matches (the caller answers 480). */
  route(user: string): Route | undefined;
  /** The distinct profiles the pay entries name. */
  readonly profiles: readonly string[];
  /** The DID pool, E.164, in the order configured (empty: none). */
  readonly pool: readonly string[];
}

/**
 * Builds the plan. Pool DIDs first, then exact numbers, then the longest matching prefix, then
 * patterns in the order written (matched against the whole E.164 form). Throws on a plan with
 * problems: the settings table refuses those first, with one line each.
 */
export function compileNumberPlan(entries: readonly NumberEntry[], n: Numbering, poolItems: readonly string[] = []): NumberPlan {
  const problems = [...numberPlanProblems(entries, n), ...didPoolProblems(poolItems, n, entries)];
  if (problems.length) throw new Error(`invalid number plan: ${problems.map(([i, f, m]) => `${i}.${f}: ${m}`).join('; ')}`);
  const pool = expandDidPool(poolItems, n);
  const pooled = new Set(pool);
  const exact = new Map<string, NumberEntry>();
  const prefixes: [string, NumberEntry][] = [];
  const patterns: [RegExp, NumberEntry][] = [];
  for (const e of entries) {
    if (e.number !== undefined) exact.set(normaliseNumber(e.number, n)!, e);
    else if (e.prefix !== undefined) prefixes.push([normaliseNumber(e.prefix, n, true)!, e]);
    else patterns.push([new RegExp(`^(?:${e.pattern!})$`), e]);
  }
  prefixes.sort((a, b) => b[0].length - a[0].length);
  const toRoute = (e: NumberEntry, number: string): Route =>
    e.kind === 'pay' ? { kind: 'pay', profile: e.profile, number } : e.kind === 'agent' ? { kind: 'agent', agent: e.agent!, number } : { kind: 'support', number };
  return {
    profiles: [...new Set(entries.flatMap((e) => (e.profile !== undefined ? [e.profile] : [])))],
    pool,
    route(user) {
      const number = normaliseNumber(user, n);
      if (!number) return undefined;
      if (pooled.has(number)) return { kind: 'pool', number };
      const hit = exact.get(number) ?? prefixes.find(([p]) => number.startsWith(p))?.[1] ?? patterns.find(([re]) => re.test(number))?.[1];
      return hit ? toRoute(hit, number) : undefined;
    },
  };
}

/** The settings-table type of `routing.numbers`: a YAML list of entries, or the comma-separated environment form. */
const entryObject = z.strictObject({
  number: z.string({ error: 'must be a quoted string (YAML reads +91... and 0... as numbers)' }).optional(),
  prefix: z.string({ error: 'must be a quoted string (YAML reads +91... and 0... as numbers)' }).optional(),
  pattern: z.string().optional(),
  kind: z.enum(ROUTE_KINDS),
  agent: z.string().optional(),
  profile: z.string().optional(),
});
export const numberEntries = z
  .union([z.array(z.unknown()), z.string().transform((s) => s.split(',').map((x) => x.trim()).filter(Boolean))], { error: 'must be a list of entries (number|prefix|pattern, kind, agent, profile)' })
  .transform((items, ctx): NumberEntry[] => {
    const out: NumberEntry[] = [];
    items.forEach((item, i) => {
      if (typeof item === 'string') {
        const r = parseEntryText(item);
        if (typeof r === 'string') ctx.addIssue({ code: 'custom', message: r, path: [i] });
        else out.push(r);
        return;
      }
      const r = entryObject.safeParse(item);
      if (r.success) return void out.push(Object.fromEntries(Object.entries(r.data).filter(([, v]) => v !== undefined)) as unknown as NumberEntry);
      for (const issue of r.error.issues) {
        const message = issue.code === 'unrecognized_keys' ? `unknown key ${issue.keys.join(', ')}` : issue.message;
        ctx.addIssue({ code: 'custom', message, path: [i, ...issue.path] });
      }
    });
    return out;
  });

/** Demo mode's plan when none is configured: the demo DID pays with the generic profile. */
export const DEMO_NUMBER_PLAN: readonly NumberEntry[] = [{ number: '+912240000000', kind: 'pay', profile: 'generic' }];
/** Demo mode's DID pool when none is configured: ten numbers. */
export const DEMO_DID_POOL: readonly string[] = ['+912240000100..+912240000109'];

/** The plan's settings (schema.ts): entries and DID pool, else demo mode's; production has none unless configured. */
export function planSettings(c: {
  readonly ROUTING_NUMBERS?: readonly NumberEntry[] | undefined; readonly ROUTING_DID_POOL?: readonly string[] | undefined;
  readonly TONEGATE_MODE: string; readonly ROUTING_COUNTRY_CODE: string; readonly ROUTING_NATIONAL_PREFIX: string;
}): {
  entries: readonly NumberEntry[];
  pool: readonly string[];
  numbering: Numbering;
} {
  const demo = c.TONEGATE_MODE === 'demo';
  return {
    entries: c.ROUTING_NUMBERS ?? (demo ? DEMO_NUMBER_PLAN : []),
    pool: c.ROUTING_DID_POOL ?? (demo ? DEMO_DID_POOL : []),
    numbering: { countryCode: c.ROUTING_COUNTRY_CODE, nationalPrefix: c.ROUTING_NATIONAL_PREFIX },
  };
}

/** DIDs a pool may hold at most: every reservation tries them all in one Redis script. */
export const MAX_POOL_DIDS = 1000;

/** One pool item: a number, or a range `first..last` of numbers of the same length (both ends included). */
function poolItem(item: string, n: Numbering): string[] | string {
  const [a, b, ...rest] = item.split('..');
  if (rest.length || a === undefined) return `"${item.slice(0, 60)}" must be a number or first..last`;
  const first = normaliseNumber(a.trim(), n);
  if (!first) return `"${a.slice(0, 40)}" is not an E.164 number (+${n.countryCode}...) or a national one (${n.nationalPrefix || 'no prefix'}...)`;
  if (b === undefined) return [first];
  const last = normaliseNumber(b.trim(), n);
  if (!last) return `"${b.slice(0, 40)}" is not an E.164 number (+${n.countryCode}...) or a national one (${n.nationalPrefix || 'no prefix'}...)`;
  if (last.length !== first.length) return `${first}..${last}: both ends must have as many digits`;
  const [lo, hi] = [BigInt(first.slice(1)), BigInt(last.slice(1))];
  if (hi < lo) return `${first}..${last}: the last number is below the first`;
  if (hi - lo >= BigInt(MAX_POOL_DIDS)) return `${first}..${last}: more than ${MAX_POOL_DIDS} numbers`;
  const out: string[] = [];
  for (let v = lo; v <= hi; v++) out.push(`+${v.toString().padStart(first.length - 1, '0')}`);
  return out;
}

/**
 * Every problem of the DID pool (`routing.didPool`), `[index, 'didPool', message]`: an item that
 * is no number or range, a DID listed twice, one that is also an exact `number` entry of the plan
 * (pool DIDs are matched first, so the entry would never be reached), more than {@link MAX_POOL_DIDS}.
 */
export function didPoolProblems(items: readonly string[], n: Numbering, entries: readonly NumberEntry[] = []): [number, string, string][] {
  const out: [number, string, string][] = [];
  const exact = new Map<string, number>();
  entries.forEach((e, i) => {
    const v = e.number !== undefined ? normaliseNumber(e.number, n) : undefined;
    if (v) exact.set(v, i);
  });
  const seen = new Map<string, number>();
  items.forEach((item, i) => {
    const r = poolItem(item, n);
    if (typeof r === 'string') return void out.push([i, 'didPool', r]);
    const twice = r.find((d) => seen.has(d));
    if (twice) out.push([i, 'didPool', `${twice} is also in item ${seen.get(twice)}`]);
    const planned = r.find((d) => exact.has(d));
    if (planned) out.push([i, 'didPool', `${planned} is also routing.numbers entry ${exact.get(planned)}; a pool DID is matched first`]);
    for (const d of r) if (!seen.has(d)) seen.set(d, i);
  });
  if (seen.size > MAX_POOL_DIDS) out.push([items.length - 1, 'didPool', `the pool has ${seen.size} DIDs, more than ${MAX_POOL_DIDS}`]);
  return out;
}

/** The pool's DIDs, E.164, each once, in the order configured. The items must be free of {@link didPoolProblems}. */
export function expandDidPool(items: readonly string[], n: Numbering): string[] {
  const out = new Set<string>();
  for (const item of items) {
    const r = poolItem(item, n);
    if (typeof r !== 'string') for (const d of r) out.add(d);
  }
  return [...out];
}

import { readFileSync } from 'node:fs';
import { parseDocument } from 'yaml';
import type { z } from 'zod/v4';
import { fileSchema, SECRET_NAMES } from './schema.js';

/**
 * The YAML configuration file (`TONEGATE_CONFIG`, docs/operations.md "Configuration file"):
 * parsed, checked against the file schema, and searched for secrets, which are refused
 * (docs/security.md, "Secrets": they come from the environment or `<NAME>_FILE`).
 */
export interface ConfigFile {
  /** The file as parsed (native YAML values); undefined when it could not be read or parsed. */
  readonly raw: Record<string, unknown> | undefined;
  /** One line per problem, each naming the key path. */
  readonly errors: string[];
}

const norm = (k: string): string => k.toLowerCase().replace(/[^a-z0-9]/g, '');
/** Keys that name a secret setting, by normalized name (`supervisorToken`, `supervisor_token`, ...). */
const SECRET_KEYS = new Map<string, string>([
  ...SECRET_NAMES.map((n) => [norm(n), n] as const),
  // Other names a deployer may reach for.
  ['hmackey', 'HANDOFF_HMAC_KEY'],
  ['signingkey', 'HANDOFF_HMAC_KEY'],
  ['supervisors', 'SUPERVISOR_TOKEN'],
]);
/** Keys that look like a secret whatever section they are in. */
const SECRET_WORDS = /^(password|passwords|passwd|secret|secrets|token|tokens|apikey|privatekey|credentials?)$/;

/** Where the file puts a secret: one line per key. */
export function secretsIn(raw: unknown, path: string[] = []): string[] {
  if (raw === null || typeof raw !== 'object') return [];
  const out: string[] = [];
  const entries = Array.isArray(raw) ? raw.map((v, i) => [String(i), v] as const) : Object.entries(raw as Record<string, unknown>);
  const isMerchantIds = path.join('.') === 'capture.merchants';
  for (const [k, v] of entries) {
    const here = [...path, k];
    const n = norm(k);
    const named = Array.isArray(raw) || isMerchantIds ? undefined : SECRET_KEYS.get(n) ?? [...SECRET_KEYS.entries()].find(([s]) => n.endsWith(s))?.[1];
    if (named) {
      out.push(`${here.join('.')}: is a secret and may not be in the configuration file; set ${named} or ${named}_FILE in the environment`);
    } else if (!Array.isArray(raw) && !isMerchantIds && SECRET_WORDS.test(n)) {
      out.push(`${here.join('.')}: looks like a secret and may not be in the configuration file; secrets come from the environment or <NAME>_FILE`);
    } else {
      out.push(...secretsIn(v, here));
    }
  }
  return out;
}

/** A `redis://user:password@host` URL carries a secret. */
function urlPasswords(raw: Record<string, unknown>): string[] {
  const store = raw['store'];
  const url = store && typeof store === 'object' ? (store as Record<string, unknown>)['redisUrl'] : undefined;
  if (typeof url !== 'string') return [];
  try {
    if (new URL(url).password) return ['store.redisUrl: carries a password and may not be in the configuration file; set REDIS_URL or REDIS_URL_FILE in the environment'];
  } catch {
    // the schema reports a malformed URL
  }
  return [];
}

/** Formats zod issues as `path: message`, one line each; unknown keys one line per key. */
export function formatIssues(issues: readonly z.core.$ZodIssue[], name: (path: PropertyKey[]) => string): string[] {
  const out: string[] = [];
  for (const i of issues) {
    if (i.code === 'unrecognized_keys') {
      for (const k of i.keys) out.push(`${name([...i.path, k])}: unknown key`);
    } else {
      out.push(`${name(i.path)}: ${i.message}`);
    }
  }
  return out;
}

/** `key:` with no value (null) is the same as leaving the key out, so a section of commented keys is fine. */
function withoutNulls(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(withoutNulls);
  if (v === null || typeof v !== 'object') return v;
  return Object.fromEntries(Object.entries(v).filter(([, x]) => x !== null).map(([k, x]) => [k, withoutNulls(x)]));
}

/** Parses and checks YAML text (`where` names it in messages). */
export function parseConfigText(text: string, where: string): ConfigFile {
  const doc = parseDocument(text, { prettyErrors: true, uniqueKeys: true });
  if (doc.errors.length) {
    return { raw: undefined, errors: doc.errors.map((e) => `${where}:${e.linePos?.[0] ? `${e.linePos[0].line}:${e.linePos[0].col}` : ''} ${e.message.split('\n')[0]}`) };
  }
  const raw: unknown = withoutNulls(doc.toJS() ?? {});
  if (typeof raw !== 'object' || Array.isArray(raw) || raw === null) return { raw: undefined, errors: [`${where}: must be a mapping of keys (mode:, sip:, http:, ...)`] };
  const obj = raw as Record<string, unknown>;
  const errors = [...secretsIn(obj), ...urlPasswords(obj)];
  const r = fileSchema.safeParse(obj);
  if (!r.success) {
    // A secret key is reported once, as a secret, not again as an unknown key.
    const said = new Set(errors.map((e) => e.slice(0, e.indexOf(':'))));
    errors.push(...formatIssues(r.error.issues, (p) => p.map(String).join('.') || '(file)').filter((e) => !said.has(e.slice(0, e.indexOf(':')))));
  }
  return { raw: obj, errors };
}

/** Reads and checks the file at `path`. */
export function readConfigFile(path: string): ConfigFile {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    return { raw: undefined, errors: [`TONEGATE_CONFIG: cannot read ${path} (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`] };
  }
  return parseConfigText(text, path);
}

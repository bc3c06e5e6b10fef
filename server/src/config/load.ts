import { readFileSync } from 'node:fs';
import { configSchema, fileKeyOf, SECRET_NAMES, SETTING_NAMES, SETTINGS, type Config, type SettingName } from './schema.js';
import { numberPlanProblems, type NumberEntry } from './number-plan.js';
import { formatIssues, readConfigFile } from './file.js';
import { capturePolicySchema } from './capture-policy.js';
import { resolveSms } from './sms.js';
import { productionProblems, realmProblems } from './production.js';
import { providerPlan } from './provider-plan.js';

export class ConfigError extends Error {
  constructor(readonly issues: string[]) {
    super(`invalid configuration:\n  ${issues.join('\n  ')}`);
    this.name = 'ConfigError';
  }
}

/** Settings that may also be given as `<NAME>_FILE` (Docker secrets): the secrets, and a Redis URL with its password. */
export const FILE_VARIANTS: readonly SettingName[] = [...SECRET_NAMES, 'REDIS_URL'];

type Source = { kind: 'env' } | { kind: 'env-file'; path: string } | { kind: 'file' };

/** Reads a `<NAME>_FILE` secret: the file's content with one trailing newline trimmed. */
function readSecretFile(path: string): string | Error {
  try {
    return readFileSync(path, 'utf8').replace(/\r?\n$/, '');
  } catch (err) {
    return new Error(`cannot read ${path} (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`);
  }
}

function flatten(raw: Record<string, unknown> | undefined): Map<SettingName, unknown> {
  const out = new Map<SettingName, unknown>();
  if (!raw) return out;
  for (const name of SETTING_NAMES) {
    const key = fileKeyOf(name);
    if (!key) continue;
    let v: unknown = raw;
    for (const p of key.split('.')) v = v && typeof v === 'object' ? (v as Record<string, unknown>)[p] : undefined;
    if (v !== undefined && v !== null) out.set(name, v);
  }
  return out;
}

/**
 * The number plan's problems when another setting failed: the table's refinements (schema.ts) run
 * only on a valid whole, and a bad plan entry should not wait for the next start to be reported.
 */
function planIssues(picked: Record<string, unknown>, failed: readonly PropertyKey[]): { path: PropertyKey[]; message: string }[] {
  const names = ['ROUTING_NUMBERS', 'ROUTING_COUNTRY_CODE', 'ROUTING_NATIONAL_PREFIX'] as const;
  if (picked['ROUTING_NUMBERS'] === undefined || names.some((n) => failed.includes(n))) return [];
  const [entries, countryCode, nationalPrefix] = names.map((n) => SETTINGS[n].schema.parse(picked[n]));
  return numberPlanProblems(entries as NumberEntry[], { countryCode: countryCode as string, nationalPrefix: nationalPrefix as string }).map(([i, field, message]) => ({ path: ['ROUTING_NUMBERS', i, field], message }));
}

/**
 * The configuration (docs/operations.md, "Configuration"): the YAML file named by
 * `TONEGATE_CONFIG` if any, overridden by environment variables, secrets from the environment or
 * `<NAME>_FILE`; in production also the start requirements (production.ts). Throws ConfigError
 * with one line per problem, each naming the file key or the variable (fail fast).
 */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const file = env['TONEGATE_CONFIG'] ? readConfigFile(env['TONEGATE_CONFIG']) : undefined;
  if (file?.errors.length) throw new ConfigError(file.errors);

  const errors: string[] = [];
  const picked: Record<string, unknown> = {};
  const source = new Map<SettingName, Source>();
  for (const [name, v] of flatten(file?.raw)) {
    picked[name] = v;
    source.set(name, { kind: 'file' });
  }
  for (const name of SETTING_NAMES) {
    const v = env[name];
    const fileVar = FILE_VARIANTS.includes(name) ? env[`${name}_FILE`] : undefined;
    if (v !== undefined && v !== '' && fileVar) {
      errors.push(`${name}: set either ${name} or ${name}_FILE, not both`);
    } else if (fileVar) {
      const content = readSecretFile(fileVar);
      if (content instanceof Error) errors.push(`${name}_FILE: ${content.message}`);
      else if (content === '') errors.push(`${name}_FILE: ${fileVar} is empty`);
      else {
        picked[name] = content;
        source.set(name, { kind: 'env-file', path: fileVar });
      }
    } else if (v !== undefined && v !== '') {
      picked[name] = v;
      source.set(name, { kind: 'env' });
    }
  }

  const r = configSchema.safeParse(picked);
  if (!r.success) {
    const name = (path: PropertyKey[]): string => {
      const [head, ...rest] = path.map(String);
      const s = head ? source.get(head as SettingName) : undefined;
      const base = s?.kind === 'file' ? `${fileKeyOf(head as SettingName)} (${env['TONEGATE_CONFIG']})` : s?.kind === 'env-file' ? `${head}_FILE` : head ?? '(config)';
      return [base, ...rest].join('.');
    };
    errors.push(...formatIssues(r.error.issues, name));
    const plan = planIssues(picked, r.error.issues.map((i) => i.path[0]!));
    if (!r.error.issues.some((i) => i.path[0] === 'ROUTING_NUMBERS' && i.code === 'custom' && i.path.length === 3)) errors.push(...plan.map((i) => `${name(i.path)}: ${i.message}`));
  }
  if (errors.length) throw new ConfigError(errors);
  const capture = file?.raw?.['capture'] !== undefined ? capturePolicySchema.parse(file.raw['capture']) : undefined;
  const sms = file?.raw?.['sms'] !== undefined ? resolveSms(file.raw['sms'], env, { defaultLanguage: r.data!.DEFAULT_LANGUAGE, receipts: r.data!.RECEIPT_SMS === 'on' }) : undefined;
  if (sms?.errors.length) throw new ConfigError(sms.errors);
  const base: Config = { ...r.data!, ...(capture ? { capture } : {}), ...(sms?.sms ? { sms: sms.sms } : {}) };
  const providers = providerPlan(base, env); // the named providers, their credentials resolved from the environment
  const config: Config = { ...base, ...(providers.plan ? { providerPlan: providers.plan, providerSecrets: providers.secrets } : {}) };
  const where = env['TONEGATE_CONFIG'] ? ` (${env['TONEGATE_CONFIG']})` : '';
  const problems = [
    ...providers.errors.map((e) => (e.startsWith('providers') ? e.replace(/^([^:]+):/, `$1${where}:`) : e)),
    ...realmProblems(config),
    ...(config.TONEGATE_MODE === 'production' ? productionProblems(config) : []),
  ];
  if (problems.length) throw new ConfigError(problems);
  return config;
}

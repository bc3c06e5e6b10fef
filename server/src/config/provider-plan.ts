import { readFileSync } from 'node:fs';
import { z } from 'zod/v4';
import { filePath } from './fields.js';

/**
 * Named payment providers (docs/operations.md, "Several payment providers"): the file's
 * `providers:` list and `providerRouting:` section, checked here, and the one provider the
 * single-provider settings (`provider.*`, PAYMENT_*) describe, named `default`. Secrets are never
 * in the file: an entry names the environment variable holding its credential (`secretEnv`, or
 * `<secretEnv>_FILE`, the Docker secrets convention).
 */

const NAME = /^[a-z0-9][a-z0-9-]{0,31}$/;
const ENV_NAME = /^[A-Z][A-Z0-9_]{0,63}$/;
const ms = (max: number) => z.number().int().min(1).max(max);

export const providerNameSchema = z.string().regex(NAME, 'a provider name: lower-case letters, digits and -, at most 32');

/** One `providers:` entry as the file (or the PROVIDERS variable, as JSON) gives it. */
export const providerEntrySchema = z.strictObject({
  name: providerNameSchema,
  url: z.url().meta({ description: 'Base URL of the provider API (https: in production).' }),
  auth: z
    .strictObject({
      kind: z.enum(['none', 'apiKey', 'bearer']).meta({ description: 'apiKey: the secret in a header (header, default X-API-Key); bearer: Authorization: Bearer; none: no credential (mutual TLS alone, say).' }),
      header: z.string().regex(/^[A-Za-z0-9-]{1,64}$/, 'an HTTP header name').optional(),
      secretEnv: z.string().regex(ENV_NAME, 'an environment variable name (A-Z, 0-9, _)').optional().meta({ description: 'The environment variable holding the credential (or <secretEnv>_FILE): never the secret itself.' }),
    })
    .optional(),
  tls: z
    .strictObject({ certFile: filePath.optional(), keyFile: filePath.optional(), caFile: filePath.optional() })
    .optional()
    .meta({ description: 'TLS to the provider: certFile + keyFile (PEM, both or neither) for mutual TLS; caFile (PEM), alone or with them, for a provider whose certificate comes from a private CA (it replaces the system CAs for that provider).' }),
  cardKeyFile: filePath.optional().meta({ description: 'The provider\'s card-encryption public key (PEM), pinned.' }),
  cardKeySha256: z.string().min(1).optional().meta({ description: 'SHA-256 fingerprint the key the provider publishes must have.' }),
  merchants: z.array(z.string().regex(/^[A-Za-z0-9._-]{1,128}$/, 'a merchant ID')).optional().meta({ description: 'Merchant IDs routed to this provider.' }),
  timeouts: z
    .strictObject({
      lookupMs: ms(60_000).optional(), otpMs: ms(60_000).optional(), validateMs: ms(60_000).optional(),
      payMs: ms(120_000).optional(), confirmMs: ms(60_000).optional(), statusMs: ms(60_000).optional(),
    })
    .optional()
    .meta({ description: 'Per-call timeouts (ms): lookupMs (transaction, card key), otpMs (OTP request, issuer start/resend), validateMs, payMs (the charge, issuer OTP submit), confirmMs, statusMs.' }),
  retry: z
    .strictObject({ attempts: z.number().int().min(1).max(10), baseMs: z.number().int().min(0).max(60_000), maxMs: z.number().int().min(0).max(60_000) })
    .optional()
    .meta({ description: 'Retries of the calls that are safe to repeat (lookup, OTP, validate, confirm, status); never the charge, which keeps its own rules.' }),
  breaker: z
    .strictObject({ failures: z.number().int().min(1).max(1000), windowSeconds: z.number().int().min(1).max(3600), openSeconds: z.number().int().min(1).max(3600) })
    .optional()
    .meta({ description: 'Circuit breaker: this many failures within windowSeconds open it for openSeconds.' }),
});
export type ProviderEntry = z.output<typeof providerEntrySchema>;

/** The `providers:` list; the environment form (PROVIDERS) is the same list as JSON. */
export const providerListSchema = z.preprocess((v) => {
  if (typeof v !== 'string') return v;
  try {
    return JSON.parse(v) as unknown;
  } catch {
    return v; // refused below, in one line
  }
}, z.array(providerEntrySchema, { error: 'must be a list of providers: a YAML list in the file, a JSON list in the environment' }).min(1));

/** A provider ready to be built (providers/ and calls/payment/setup.ts): credentials resolved. */
export interface ProviderSpec {
  readonly name: string;
  /** Undefined only for the single-provider `default` without PAYMENT_API_URL: the embedded demo provider. */
  readonly url: string | undefined;
  /** Where it was configured, for error messages (`providers.1`, or `PAYMENT_*`). */
  readonly where: string;
  readonly apiKey?: { readonly header: string; readonly value: string };
  readonly bearer?: string;
  readonly tls: { readonly certFile?: string; readonly keyFile?: string; readonly caFile?: string };
  readonly cardKeyFile?: string;
  readonly cardKeySha256?: string;
  readonly merchants: readonly string[];
  readonly timeouts: NonNullable<ProviderEntry['timeouts']>;
  readonly retry?: NonNullable<ProviderEntry['retry']>;
  readonly breaker?: NonNullable<ProviderEntry['breaker']>;
}

export interface ProviderPlan {
  readonly providers: readonly ProviderSpec[];
  /** The provider of merchants no entry lists. */
  readonly defaultName: string;
  /** Ordered fallbacks, tried before any charge was sent (providers/failover.ts). */
  readonly failover: readonly string[];
}

/** What the plan reads from the settings (a subset of Config). */
export interface ProviderSettings {
  PROVIDERS?: ProviderEntry[] | undefined;
  PROVIDER_DEFAULT?: string | undefined;
  PROVIDER_FAILOVER?: string[] | undefined;
  PAYMENT_API_URL?: string | undefined;
  PAYMENT_TLS_CERT_FILE?: string | undefined;
  PAYMENT_TLS_KEY_FILE?: string | undefined;
  PAYMENT_TLS_CA_FILE?: string | undefined;
  PAYMENT_CARD_KEY_FILE?: string | undefined;
  PAYMENT_CARD_KEY_SHA256?: string | undefined;
  PAYMENT_API_KEY?: string | undefined;
  PAYMENT_API_BEARER?: string | undefined;
}

type Env = Readonly<Record<string, string | undefined>>;
type Read = (path: string) => string;

/** The credential an entry names: `<secretEnv>` or `<secretEnv>_FILE` (one trailing newline trimmed). */
function secretOf(name: string, env: Env, read: Read, where: string, errors: string[]): string | undefined {
  const direct = env[name];
  const file = env[`${name}_FILE`];
  if (direct && file) return void errors.push(`${where}: set ${name} or ${name}_FILE, not both`);
  if (direct) return direct;
  if (!file) return void errors.push(`${where}: ${name} is not set (nor ${name}_FILE) in the environment`);
  try {
    const v = read(file).replace(/\r?\n$/, '');
    if (v && !/[\r\n]/.test(v)) return v;
    errors.push(`${where}: ${name}_FILE ${file} must hold one non-empty line`);
  } catch (err) {
    errors.push(`${where}: cannot read ${name}_FILE ${file} (${(err as NodeJS.ErrnoException).code ?? 'error'})`);
  }
  return undefined;
}

function fromEntry(e: ProviderEntry, i: number, env: Env, read: Read, errors: string[], secrets: Record<string, string>): ProviderSpec {
  const where = `providers.${i}`;
  const auth = e.auth ?? { kind: 'none' as const };
  let secret: string | undefined;
  if (auth.kind !== 'none') {
    if (!auth.secretEnv) errors.push(`${where}.auth.secretEnv: required with auth kind ${auth.kind} (the environment variable holding the credential)`);
    else {
      secret = secretOf(auth.secretEnv, env, read, `${where}.auth.secretEnv`, errors);
      if (secret !== undefined) secrets[auth.secretEnv] = secret;
    }
  } else if (auth.secretEnv || auth.header) {
    errors.push(`${where}.auth: kind none takes no ${auth.secretEnv ? 'secretEnv' : 'header'}`);
  }
  if (auth.header && auth.kind === 'bearer') errors.push(`${where}.auth.header: only with kind apiKey (bearer uses Authorization)`);
  const tls = e.tls ?? {};
  if (!!tls.certFile !== !!tls.keyFile) {
    const [set, missing] = tls.certFile ? ['certFile', 'keyFile'] : ['keyFile', 'certFile'];
    errors.push(`${where}.tls.${missing}: mutual TLS needs both tls.certFile and tls.keyFile: ${set} is set, ${missing} is not (tls.caFile alone is enough to trust a private CA)`);
  }
  return {
    name: e.name,
    url: e.url,
    where,
    ...(auth.kind === 'apiKey' && secret ? { apiKey: { header: auth.header ?? 'X-API-Key', value: secret } } : {}),
    ...(auth.kind === 'bearer' && secret ? { bearer: secret } : {}),
    tls,
    ...(e.cardKeyFile ? { cardKeyFile: e.cardKeyFile } : {}),
    ...(e.cardKeySha256 ? { cardKeySha256: e.cardKeySha256 } : {}),
    merchants: e.merchants ?? [],
    timeouts: e.timeouts ?? {},
    ...(e.retry ? { retry: e.retry } : {}),
    ...(e.breaker ? { breaker: e.breaker } : {}),
  };
}

const LEGACY = ['PAYMENT_API_URL', 'PAYMENT_TLS_CERT_FILE', 'PAYMENT_TLS_KEY_FILE', 'PAYMENT_TLS_CA_FILE', 'PAYMENT_CARD_KEY_FILE', 'PAYMENT_CARD_KEY_SHA256', 'PAYMENT_API_KEY', 'PAYMENT_API_BEARER'] as const;

/**
 * The single-provider settings as the provider `default`, over `base` (the list's own `default`
 * entry, if any) key by key: the environment overrides the file as everywhere.
 */
function legacyDefault(s: ProviderSettings, base: ProviderSpec | undefined): ProviderSpec {
  const b = base;
  return {
    name: 'default',
    url: s.PAYMENT_API_URL ?? b?.url,
    where: b?.where ?? 'PAYMENT_*',
    ...(s.PAYMENT_API_KEY ? { apiKey: { header: 'X-API-Key', value: s.PAYMENT_API_KEY } } : b?.apiKey ? { apiKey: b.apiKey } : {}),
    ...(s.PAYMENT_API_BEARER ? { bearer: s.PAYMENT_API_BEARER } : b?.bearer ? { bearer: b.bearer } : {}),
    tls: {
      ...b?.tls,
      ...(s.PAYMENT_TLS_CERT_FILE ? { certFile: s.PAYMENT_TLS_CERT_FILE } : {}),
      ...(s.PAYMENT_TLS_KEY_FILE ? { keyFile: s.PAYMENT_TLS_KEY_FILE } : {}),
      ...(s.PAYMENT_TLS_CA_FILE ? { caFile: s.PAYMENT_TLS_CA_FILE } : {}),
    },
    ...(s.PAYMENT_CARD_KEY_FILE ?? b?.cardKeyFile ? { cardKeyFile: s.PAYMENT_CARD_KEY_FILE ?? b?.cardKeyFile } : {}),
    ...(s.PAYMENT_CARD_KEY_SHA256 ?? b?.cardKeySha256 ? { cardKeySha256: s.PAYMENT_CARD_KEY_SHA256 ?? b?.cardKeySha256 } : {}),
    merchants: b?.merchants ?? [],
    timeouts: b?.timeouts ?? {},
    ...(b?.retry ? { retry: b.retry } : {}),
    ...(b?.breaker ? { breaker: b.breaker } : {}),
  };
}

/**
 * The providers, routing and failover from the settings, or one line per problem naming the key
 * path (`providers.1.name: ...`, `providerRouting.default: ...`). Without `providers:` it is
 * today's single provider `default`.
 */
export function providerPlan(
  s: ProviderSettings, env: Env = {}, read: Read = (p) => readFileSync(p, 'utf8'),
): { plan?: ProviderPlan; errors: string[]; secrets: Record<string, string> } {
  const errors: string[] = [];
  /** The credentials read, by variable name: what loadConfig keeps (Config.providerSecrets). */
  const secrets: Record<string, string> = {};
  const entries = s.PROVIDERS ?? [];
  const listed = entries.map((e, i) => fromEntry(e, i, env, read, errors, secrets));
  entries.forEach((e, i) => {
    const first = entries.findIndex((x) => x.name === e.name);
    if (first !== i) errors.push(`providers.${i}.name: repeats providers.${first} (${e.name})`);
  });
  const legacySet = LEGACY.some((k) => s[k] !== undefined);
  const ownDefault = listed.find((p) => p.name === 'default');
  const providers = listed.filter((p) => p !== ownDefault);
  if (!entries.length || ownDefault || legacySet) providers.unshift(legacyDefault(s, ownDefault));
  const names = providers.map((p) => p.name);

  const seen = new Map<string, string>();
  for (const p of providers) {
    p.merchants.forEach((m, j) => {
      const other = seen.get(m);
      if (other && other !== p.name) errors.push(`${p.where}.merchants.${j}: ${m} is already routed to ${other}`);
      seen.set(m, p.name);
    });
  }
  const defaultName = s.PROVIDER_DEFAULT ?? (names.includes('default') ? 'default' : names.length === 1 ? names[0]! : undefined);
  if (defaultName === undefined) errors.push(`providerRouting.default: required with several providers (one of ${names.join(', ')})`);
  else if (!names.includes(defaultName)) errors.push(`providerRouting.default: ${defaultName} is not a configured provider (${names.join(', ')})`);
  const failover = s.PROVIDER_FAILOVER ?? [];
  failover.forEach((n, i) => {
    if (!names.includes(n)) errors.push(`providerRouting.failover.${i}: ${n} is not a configured provider (${names.join(', ')})`);
    else if (failover.indexOf(n) !== i) errors.push(`providerRouting.failover.${i}: ${n} is listed twice`);
  });
  return errors.length ? { errors, secrets } : { plan: { providers, defaultName: defaultName!, failover }, errors, secrets };
}

/** Production: every provider has an https: URL (the embedded demo provider is demo only). */
export function providerUrlProblems(plan: ProviderPlan | undefined): string[] {
  const out: string[] = [];
  for (const p of plan?.providers ?? []) {
    const key = p.where === 'PAYMENT_*' ? 'PAYMENT_API_URL' : `${p.where}.url`;
    if (!p.url) out.push(`${key}: required in production: the provider's https: URL (the embedded demo provider is demo only)`);
    else if (!p.url.startsWith('https:')) out.push(`${key}: must be an https: URL in production`);
  }
  return out;
}

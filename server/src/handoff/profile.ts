import { CODE_FORMATS } from './codes.js';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import type { TxnField } from './transaction.js';
import { compileSqlQuery, MAX_QUERY } from './sql/query.js';
import type { SqlLookupDeps } from './sql/lookup.js';

/**
 * A SIP profile says where a peer puts the transaction (sip-profiles/README.md has the documented
 * form). Kinds:
 * - `headers`: X-Pay-* headers on the INVITE or REFER, else the same names as URI headers of the
 *   REFER's Refer-To (RFC 3515 §2.1, RFC 3261 §19.1.1), when `referToFallback`;
 * - `refer-to`: only Refer-To URI headers;
 * - `uui`: a User-to-User header (RFC 7433) carrying hex of `key=value&...`;
 * - `reference`: only a transaction reference; the details come from the provider;
 * - `api`: only a single-use code from `POST /api/handoffs`, as a header or Request-URI user;
 * - `sql`: one row of a parameterised query against the lookup database (handoff/sql/), keyed by
 *   the caller's number, the dialled DID or a reference header.
 */
export const PROFILE_KINDS = ['headers', 'refer-to', 'uui', 'reference', 'api', 'sql'] as const;
export type ProfileKind = (typeof PROFILE_KINDS)[number];

const headerName = z.string().regex(/^[A-Za-z0-9!#$%&'*+.^_`|~-]{1,64}$/, 'an RFC 3261 token');
const uuiKey = z.string().regex(/^[A-Za-z0-9._-]{1,32}$/);

/** Where each transaction field (and the signature) is read from: header names, or UUI keys. */
const fieldMap = z
  .object({
    amount: z.string(),
    currency: z.string(),
    merchantId: z.string(),
    orderRef: z.string(),
    customerMobile: z.string(),
    agentId: z.string(),
    language: z.string(),
    returnTo: z.string(),
    txnRef: z.string(),
    signature: z.string(),
  })
  .strict();
export type FieldMap = z.infer<typeof fieldMap>;

/** The contract's header names (docs/architecture.md, "Handoff headers"). */
export const GENERIC_FIELDS: FieldMap = {
  amount: 'X-Pay-Amount',
  currency: 'X-Pay-Currency',
  merchantId: 'X-Pay-Merchant-Id',
  orderRef: 'X-Pay-Order-Ref',
  customerMobile: 'X-Pay-Customer-Mobile',
  agentId: 'X-Pay-Agent-Id',
  language: 'X-Pay-Language',
  returnTo: 'X-Pay-Return-To',
  txnRef: 'X-Pay-Txn-Ref',
  signature: 'X-Pay-Signature',
};

export const sipProfileSchema = z
  .object({
    name: z.string().regex(/^[a-z0-9-]{1,32}$/),
    description: z.string().max(500).optional(),
    kind: z.enum(PROFILE_KINDS),
    /** Header names (or UUI keys for `uui`); fields left out keep the contract's X-Pay-* names. */
    fields: fieldMap.partial().default({}),
    /** `headers`: also read Refer-To URI headers when the request lacks a header. Default true. */
    referToFallback: z.boolean().default(true),
    uui: z
      .object({
        header: headerName.default('User-to-User'),
        purpose: z.string().regex(/^[A-Za-z0-9._-]{1,32}$/).optional(),
        discriminator: z.string().regex(/^[0-9a-fA-F]{2}$/).optional(),
        maxOctets: z.number().int().min(16).max(4096).default(1024),
      })
      .strict()
      .optional(),
    api: z
      .object({
        codeHeader: headerName.default('X-Pay-Handoff'),
        requestUriPrefix: z.string().regex(/^[a-z0-9]{1,16}-?$/).default('pay-'),
        /** Codes `POST /api/handoffs` gives: `alnum` (12 characters) or `numeric` (16 digits, for IVRs that dial digits only). */
        codeFormat: z.enum(CODE_FORMATS).default('alnum'),
        /** Whether `POST /api/handoffs` may ask the other format with `"format"`. */
        formatChoice: z.boolean().default(false),
      })
      .strict()
      .default({}),
    signature: z
      .object({
        mode: z.enum(['required', 'optional', 'off']).default('optional'),
        /** Environment variable that holds the HMAC key (never the key itself in the file). */
        keyEnv: z.string().regex(/^[A-Z][A-Z0-9_]{0,63}$/).default('HANDOFF_HMAC_KEY'),
        windowSeconds: z.number().int().min(10).max(3600).default(300),
      })
      .strict()
      .default({}),
    /** Kind `sql`: the query (named parameters $caller, $did, $reference) and the row's freshness. */
    sql: z
      .object({
        query: z.string().min(1).max(MAX_QUERY),
        /** The row's `created_at` may be at most this old (seconds); the query must then return it. */
        maxAgeSeconds: z.number().int().min(1).max(31 * 86_400).optional(),
      })
      .strict()
      .optional(),
    /** How card data goes to the provider: in the HTTPS body, or RSA-OAEP with the provider's key. */
    cardEncryption: z.enum(['plain', 'provider-key']).default('plain'),
  })
  .strict()
  .superRefine((p, ctx) => {
    if (p.kind === 'uui' && !p.uui) ctx.addIssue({ code: z.ZodIssueCode.custom, path: ['uui'], message: 'kind uui needs a uui section' });
    if (p.kind === 'sql' && !p.sql) ctx.addIssue({ code: z.ZodIssueCode.custom, path: ['sql'], message: 'kind sql needs a sql section with a query' });
    if (p.kind !== 'sql' && p.sql) ctx.addIssue({ code: z.ZodIssueCode.custom, path: ['sql'], message: 'only kind sql has a sql section' });
    const compiled = p.sql ? compileSqlQuery(p.sql.query) : undefined;
    if (compiled && 'problem' in compiled) ctx.addIssue({ code: z.ZodIssueCode.custom, path: ['sql', 'query'], message: compiled.problem });
    const names = p.kind === 'uui' ? uuiKey : headerName;
    for (const [k, v] of Object.entries(p.fields)) {
      if (!names.safeParse(v).success) ctx.addIssue({ code: z.ZodIssueCode.custom, path: ['fields', k], message: 'not a valid name' });
    }
  });

export type SipProfileInput = z.input<typeof sipProfileSchema>;
type Parsed = z.output<typeof sipProfileSchema>;
/** A parsed profile with every field name resolved. */
export type SipProfile = Omit<Parsed, 'fields'> & { readonly fields: FieldMap };

/** Fields of a transaction, in the order the canonical string and the docs list them. */
export const TXN_FIELDS: readonly TxnField[] = ['amount', 'currency', 'merchantId', 'orderRef', 'customerMobile', 'agentId', 'language', 'returnTo', 'txnRef'];

/** Parses a profile (the JSON of a sip-profiles/ file). Throws with the paths of what is wrong. */
export function parseSipProfile(json: unknown): SipProfile {
  const r = sipProfileSchema.safeParse(json);
  if (!r.success) {
    const where = r.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; ');
    throw new Error(`invalid SIP profile: ${where}`);
  }
  return { ...r.data, fields: { ...GENERIC_FIELDS, ...r.data.fields } };
}

/** The setting that names the lookup database of profiles of kind `sql` (config/schema.ts). */
export const LOOKUP_DATABASE_ENV = 'LOOKUP_DATABASE_URL';

/**
 * The environment profiles are loaded with: the process's, plus the secrets that may have come
 * from `<NAME>_FILE` (config/load.ts): the signing key and the lookup database URL.
 */
export function profileEnv(
  config: { readonly HANDOFF_HMAC_KEY?: string | undefined; readonly LOOKUP_DATABASE_URL?: string | undefined }, env: NodeJS.ProcessEnv = process.env,
): Record<string, string | undefined> {
  return {
    ...env,
    ...(config.HANDOFF_HMAC_KEY ? { HANDOFF_HMAC_KEY: config.HANDOFF_HMAC_KEY } : {}),
    ...(config.LOOKUP_DATABASE_URL ? { [LOOKUP_DATABASE_ENV]: config.LOOKUP_DATABASE_URL } : {}),
  };
}

export interface LoadedProfile {
  readonly profile: SipProfile;
  /** The HMAC key from `signature.keyEnv`, when set. */
  readonly signingKey: string | undefined;
  /** Kind `sql`: the lookup database, attached at start (handoff/sql/open.ts). */
  readonly sql?: SqlLookupDeps;
}

/**
 * Loads `<dir>/<name>.json` and fails fast: a bad file, or a profile that requires signatures
 * without its key in the environment, throws at start-up rather than on the first call.
 */
export function loadSipProfile(dir: string, name: string, env: Readonly<Record<string, string | undefined>> = process.env): LoadedProfile {
  if (!/^[a-z0-9-]{1,32}$/.test(name)) throw new Error(`SIP profile name "${name.slice(0, 40)}" is not [a-z0-9-]`);
  const file = join(dir, `${name}.json`);
  let json: unknown;
  try {
    json = JSON.parse(readFileSync(file, 'utf8'));
  } catch (err) {
    throw new Error(`cannot read SIP profile ${file}: ${(err as Error).message}`);
  }
  const profile = parseSipProfile(json);
  if (profile.name !== name) throw new Error(`SIP profile ${file} is named "${profile.name}", not "${name}"`);
  const signingKey = env[profile.signature.keyEnv] || undefined;
  if (profile.signature.mode === 'required' && !signingKey) {
    throw new Error(`SIP profile ${name} requires signatures but ${profile.signature.keyEnv} is not set`);
  }
  if (signingKey !== undefined && signingKey.length < 16) throw new Error(`${profile.signature.keyEnv} must be at least 16 characters`);
  if (profile.kind === 'sql' && !env[LOOKUP_DATABASE_ENV]) throw new Error(`SIP profile ${name} looks transactions up by SQL but ${LOOKUP_DATABASE_ENV} is not set`);
  return { profile, signingKey };
}

/**
 * The profiles the number plan's pay entries name (config/number-plan.ts), each loaded once with
 * {@link loadSipProfile}. A missing or bad file, or a required signature key that is not set, is
 * one line naming the entry: `routing.numbers.<i>.profile: ...` (start and `npm run config:check`;
 * `ROUTING_NUMBERS.<i>.profile` when the plan comes from the environment).
 */
export function loadPlanProfiles(
  dir: string, entries: readonly { readonly profile?: string | undefined }[], env: Readonly<Record<string, string | undefined>> = process.env,
  /** How lines name the plan: the file key, or `ROUTING_NUMBERS` when the environment set it. */
  where = env['ROUTING_NUMBERS'] ? 'ROUTING_NUMBERS' : 'routing.numbers',
): { profiles: Map<string, LoadedProfile>; problems: string[] } {
  const profiles = new Map<string, LoadedProfile>();
  const failed = new Map<string, string>();
  const problems: string[] = [];
  entries.forEach((e, i) => {
    if (e.profile === undefined) return;
    if (!profiles.has(e.profile) && !failed.has(e.profile)) {
      try {
        profiles.set(e.profile, loadSipProfile(dir, e.profile, env));
      } catch (err) {
        failed.set(e.profile, (err as Error).message);
      }
    }
    const why = failed.get(e.profile);
    if (why !== undefined) problems.push(`${where}.${i}.profile: ${why}`);
  });
  return { profiles, problems };
}

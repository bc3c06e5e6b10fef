import type { Transaction as ProviderTransaction } from '../providers/schemas.js';
import { HandoffCodeError, HandoffStoreUnavailable, type HandoffCodeStore } from './codes.js';
import type { SipProfile } from './profile.js';
import { TXN_FIELDS } from './profile.js';
import { verifyHandoff, type ReplayGuard, type SignatureProblem } from './signature.js';
import { isV2, verifyHandoffV2, type NonceGuard, type V2Problem } from './signature-v2.js';
import {
  hasControl,
  validateTransaction,
  type FieldNames,
  type HandoffError,
  type RawFields,
  type Transaction,
  type TransactionLimits,
  type TxnField,
} from './transaction.js';
import { parseUui } from './uui.js';
import { bySql, type SqlLookupDeps } from './sql/lookup.js';

/** What calls/ hands over from an INVITE or REFER. */
export interface HandoffSource {
  /** A header's value by name (case-insensitive); undefined when absent. */
  readonly headers: (name: string) => string | undefined;
  /** The Refer-To URI headers, %-decoded (calls/b2bua/refer.ts `parseRefer`). */
  readonly referToHeaders?: Readonly<Record<string, string>>;
  /** The Request-URI user part (`pay-<code>` for profile kind `api`). */
  readonly requestUriUser?: string;
  /** The whole Request-URI and the Call-ID, which a v2 signature covers (signature-v2.ts). */
  readonly requestUri?: string;
  readonly callId?: string;
  /**
   * Headers that identify the caller (P-Asserted-Identity, From) for profile kind `sql`: the
   * INVITE's own (the default, `headers`), or for a REFER the customer's original INVITE.
   */
  readonly callerHeaders?: (name: string) => string | undefined;
}

export interface HandoffDeps {
  readonly limits?: TransactionLimits;
  /** HMAC key (from the profile's `signature.keyEnv`). */
  readonly signingKey?: string;
  /** Makes each signature single-use inside its window. */
  readonly replay?: ReplayGuard;
  /** Makes each v2 nonce single-use (in Redis when configured: docs/security.md). */
  readonly nonces?: NonceGuard;
  /**
   * Production (docs/security.md): every profile but `api` must carry a v2 signature, whatever
   * the profile's own `signature.mode` says.
   */
  readonly requireSignatureV2?: boolean;
  readonly nowEpochMs?: () => number;
  /** Profile kind `reference`: PaymentProviderClient.lookupTransaction. */
  readonly lookupTransaction?: (ref: string) => Promise<ProviderTransaction | null>;
  /** Profile kind `api`. */
  readonly codes?: HandoffCodeStore;
  /** Profile kind `sql`: the lookup database and the number plan's numbering. */
  readonly sql?: SqlLookupDeps;
}

export type HandoffResult = { ok: true; txn: Transaction } | { ok: false; error: HandoffError };

/** The header carrying a v2 signature's nonce. */
export const NONCE_HEADER = 'X-Pay-Nonce';

/** Longest raw value we look at (a REFER's X- headers are already capped at 512 by calls/). */
const MAX_VALUE = 512;

const SIGNATURE_REASON: Record<SignatureProblem, string> = {
  malformed: 'must be t=<unix seconds>,v1=<64 hex>',
  stale: 'timestamp outside the replay window',
  mismatch: 'does not match the signed fields',
  replayed: 'already used',
};

const V2_REASON: Record<V2Problem, string> = {
  ...SIGNATURE_REASON,
  'bad-nonce': 'needs X-Pay-Nonce of 16-64 characters of A-Z a-z 0-9 _ -',
};

const fail = (field: string, reason: string, status: HandoffError['status'] = 400): HandoffResult => ({ ok: false, error: { field, reason, status } });

function lookupCi(rec: Readonly<Record<string, string>> | undefined, name: string): string | undefined {
  if (!rec) return undefined;
  const lower = name.toLowerCase();
  for (const [k, v] of Object.entries(rec)) if (k.toLowerCase() === lower) return v;
  return undefined;
}

/**
 * Reads and validates the transaction of an INVITE or REFER per profile. An error names the field
 * as the peer spelt it, for `400` + `Warning` (design.md: "Missing or invalid fields ... 400 with a
 * Warning naming the field"; on a REFER the call goes on untouched).
 */
export async function extractHandoff(profile: SipProfile, source: HandoffSource, deps: HandoffDeps = {}): Promise<HandoffResult> {
  const f = profile.fields;
  let names: FieldNames = f;
  let raw: RawFields = {};
  let signature: string | undefined;

  if (profile.kind === 'api') return redeemCode(profile, source, deps);

  if (profile.kind === 'uui') {
    const uui = profile.uui!;
    const header = source.headers(uui.header);
    if (header === undefined) return fail(uui.header, 'missing');
    if (header.length > uui.maxOctets * 2 + 256) return fail(uui.header, 'too long');
    const parsed = parseUui(header, uui);
    if (!parsed.ok) return fail(uui.header, parsed.reason);
    names = Object.fromEntries(TXN_FIELDS.map((k) => [k, `${uui.header} ${f[k]}`])) as FieldNames;
    for (const k of TXN_FIELDS) raw[k] = parsed.values.get(f[k]);
    signature = parsed.values.get(f.signature);
  } else {
    const read = (name: string): string | undefined => {
      if (profile.kind === 'refer-to') return lookupCi(source.referToHeaders, name);
      return source.headers(name) ?? (profile.referToFallback ? lookupCi(source.referToHeaders, name) : undefined);
    };
    const byLookup = profile.kind === 'reference' || profile.kind === 'sql';
    const wanted: readonly TxnField[] = byLookup ? ['txnRef', 'agentId', 'language', 'returnTo'] : TXN_FIELDS;
    for (const k of wanted) raw[k] = read(f[k]);
    signature = read(f.signature);
  }

  for (const k of TXN_FIELDS) {
    const v = raw[k];
    if (v !== undefined && (v.length > MAX_VALUE || hasControl(v))) return fail(names[k], 'too long or holds control characters');
  }
  raw = Object.fromEntries(Object.entries(raw).filter(([, v]) => v !== undefined && v.trim() !== ''));

  const sigField = profile.kind === 'uui' ? `${profile.uui!.header} ${f.signature}` : f.signature;
  const mode = deps.requireSignatureV2 ? 'required' : profile.signature.mode;
  if (signature !== undefined && (isV2(signature) || deps.requireSignatureV2)) {
    if (!deps.signingKey) return fail(sigField, 'no signing key configured', 500);
    if (!deps.nonces || source.requestUri === undefined || source.callId === undefined) return fail(sigField, 'a v2 signature is not accepted here', 403);
    const now = Math.floor((deps.nowEpochMs ?? Date.now)() / 1000);
    const bound = { requestUri: source.requestUri, callId: source.callId, nonce: source.headers(NONCE_HEADER) };
    const v = await verifyHandoffV2(signature, raw, bound, { key: deps.signingKey, nowSeconds: now, windowSeconds: profile.signature.windowSeconds, guard: deps.nonces });
    if (!v.ok) return fail(v.problem === 'bad-nonce' ? NONCE_HEADER : sigField, V2_REASON[v.problem], 403);
  } else if (mode !== 'off' && signature !== undefined) {
    if (!deps.signingKey) return fail(sigField, 'no signing key configured', 500);
    const now = Math.floor((deps.nowEpochMs ?? Date.now)() / 1000);
    const v = verifyHandoff(signature, raw, { key: deps.signingKey, nowSeconds: now, windowSeconds: profile.signature.windowSeconds, ...(deps.replay ? { replay: deps.replay } : {}) });
    if (!v.ok) return fail(sigField, SIGNATURE_REASON[v.problem]);
  } else if (mode === 'required') {
    return fail(sigField, deps.requireSignatureV2 ? 'missing (required in production)' : 'missing (required by this profile)', deps.requireSignatureV2 ? 403 : 400);
  }

  if (profile.kind === 'reference') return byReference(raw, names, deps);
  if (profile.kind === 'sql') {
    const sqlSource = { callerHeaders: source.callerHeaders ?? source.headers, ...(source.requestUriUser !== undefined ? { requestUriUser: source.requestUriUser } : {}) };
    return bySql(profile, sqlSource, raw, names, deps.sql, deps.limits);
  }
  return validateTransaction(raw, names, deps.limits);
}

async function byReference(raw: RawFields, names: FieldNames, deps: HandoffDeps): Promise<HandoffResult> {
  const ref = raw.txnRef;
  if (!ref) return fail(names.txnRef, 'missing');
  if (!/^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/.test(ref)) return fail(names.txnRef, 'must be 1-64 characters of A-Z a-z 0-9 . _ -');
  if (!deps.lookupTransaction) return fail(names.txnRef, 'no provider lookup configured', 500);
  let t: ProviderTransaction | null;
  try {
    t = await deps.lookupTransaction(ref);
  } catch {
    return fail(names.txnRef, 'the provider lookup failed', 503);
  }
  if (!t) return fail(names.txnRef, 'unknown reference');
  // The provider's answer passed its zod schema; our limits apply to it as to any other source.
  const fromProvider = `${names.txnRef} (provider)`;
  const n: FieldNames = { ...names, amount: fromProvider, currency: fromProvider, merchantId: fromProvider, orderRef: fromProvider, customerMobile: fromProvider };
  const merged: RawFields = { ...raw, amount: t.amount, currency: t.currency, merchantId: t.merchantId, orderRef: t.orderRef, customerMobile: t.customerMobile };
  return validateTransaction(merged, n, deps.limits);
}

async function redeemCode(profile: SipProfile, source: HandoffSource, deps: HandoffDeps): Promise<HandoffResult> {
  const { codeHeader, requestUriPrefix } = profile.api;
  let code = source.headers(codeHeader)?.trim();
  let field = codeHeader;
  if (code === undefined && source.requestUriUser?.toLowerCase().startsWith(requestUriPrefix)) {
    code = source.requestUriUser.slice(requestUriPrefix.length);
    field = 'Request-URI';
  }
  if (!code) return fail(codeHeader, 'missing');
  if (!/^[A-Za-z0-9]{8,32}$/.test(code)) return fail(field, 'not a handoff code');
  if (!deps.codes) return fail(field, 'no handoff code store configured', 500);
  let txn: Transaction | undefined;
  try {
    txn = await deps.codes.redeem(code);
  } catch (err) {
    // A stored value that is no transaction (handoff/stored-txn.ts): our fault, said plainly.
    if (err instanceof HandoffCodeError) return fail(field, err.message, 500);
    // Redis not answering: transient, and the code is still there (redis-script.ts), so 503.
    if (err instanceof HandoffStoreUnavailable) return fail(field, `${err.message}; try again`, 503);
    throw err;
  }
  return txn ? { ok: true, txn } : fail(field, 'unknown, used or expired code');
}

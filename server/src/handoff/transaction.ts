import { e164 } from '../providers/schemas.js';
import { minorUnits } from './currencies.js';
import { PROMPT_LANGUAGES, type PromptLanguage } from '../contract/events.js';

/** The transaction a capture runs for, validated at the edge (design.md practice 2). */
export interface Transaction {
  /** Decimal string, > 0, at most 2 decimals (none for 0-exponent currencies), e.g. `1499.00`. */
  readonly amount: string;
  /** ISO 4217. */
  readonly currency: string;
  readonly merchantId: string;
  readonly orderRef: string;
  /** E.164 (ITU-T E.164 §6: `+`, country code, at most 15 digits). */
  readonly customerMobile: string;
  readonly agentId?: string;
  /** Prompt language; the config default when absent. */
  readonly language?: Language;
  /** SIP URI to send the customer back to afterwards (transfer mode). */
  readonly returnTo?: string;
  /** The provider's reference the details were fetched by (profile `reference`). */
  readonly txnRef?: string;
}

/** The built-in prompt languages (the wire contract's list); a gateway may configure others (limits.languages). */
export const LANGUAGES: readonly Language[] = PROMPT_LANGUAGES;
export type Language = PromptLanguage;

/** Why a handoff was refused. `field` is what the peer sent (a header name, a UUI key): it goes into the Warning. */
export interface HandoffError {
  readonly field: string;
  readonly reason: string;
  /** 400 bad input; 404 a pool DID with no pending reservation; 503 the provider lookup could not be done; 500 our own configuration. */
  readonly status: 400 | 403 | 404 | 500 | 503;
}

export interface TransactionLimits {
  /** Largest amount accepted, as a decimal string. Default `1000000.00`. */
  readonly maxAmount?: string;
  /** Per-currency maximum, overriding maxAmount. */
  readonly maxAmountByCurrency?: Readonly<Record<string, string>>;
  /** Only these ISO 4217 codes (default: every active one). */
  readonly currencies?: readonly string[];
  /**
   * Tighter length limits for fields that travel further, with the reason for the error: e.g. an
   * order reference that fills a `{#var#}` of the DLT-registered OTP SMS may not exceed 30
   * characters, and is better refused now than after the customer has keyed the card.
   */
  /** The prompt languages a handoff may ask for (`prompts.languages`); default the built-in en, hi, ta. */
  readonly languages?: readonly Language[];
  readonly maxLength?: Readonly<Partial<Record<'orderRef' | 'merchantId', { readonly max: number; readonly why: string }>>>;
}

export const DEFAULT_MAX_AMOUNT = '1000000.00';

/** Raw values by transaction field, before validation. */
export type RawFields = Partial<Record<TxnField, string>>;
export type TxnField = 'amount' | 'currency' | 'merchantId' | 'orderRef' | 'customerMobile' | 'agentId' | 'language' | 'returnTo' | 'txnRef';

const AMOUNT = /^(0|[1-9]\d{0,11})(?:\.(\d{1,2}))?$/;
/** Merchant ids and order references: what providers and DLT variables (30 chars) take safely. */
const REF = /^[A-Za-z0-9][A-Za-z0-9._:/-]{0,63}$/;
const AGENT = /^[A-Za-z0-9._-]{1,64}$/;
const TXN_REF = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;
/** A SIP or SIPS URI (RFC 3261 §19.1) without angle brackets, quotes or spaces (controls: {@link hasControl}). */
const SIP_URI = /^sips?:[^\s<>"\\]{3,252}$/i;

/** True when `s` holds a C0 control character or DEL (or U+FFFD, a decoding failure). */
export function hasControl(s: string): boolean {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x20 || c === 0x7f || c === 0xfffd) return true;
  }
  return false;
}

/** Amount in minor units (hundredths) as an integer; the regex above bounds it below 2^53. */
function cents(amount: string): number {
  const m = AMOUNT.exec(amount);
  if (!m) return NaN;
  return Number(m[1]) * 100 + Number((m[2] ?? '').padEnd(2, '0'));
}

export type FieldNames = Readonly<Record<TxnField, string>>;

/**
 * Validates raw values into a {@link Transaction}. `names` maps each field to what the peer calls
 * it, for the error. Required: amount, currency, merchantId, orderRef, customerMobile.
 */
export function validateTransaction(raw: RawFields, names: FieldNames, limits: TransactionLimits = {}): { ok: true; txn: Transaction } | { ok: false; error: HandoffError } {
  const bad = (f: TxnField, reason: string) => ({ ok: false as const, error: { field: names[f], reason, status: 400 as const } });
  const v = (f: TxnField) => raw[f]?.trim();

  const amount = v('amount');
  if (!amount) return bad('amount', 'missing');
  const amountCents = cents(amount);
  if (Number.isNaN(amountCents)) return bad('amount', 'must be a decimal number with at most 2 decimals');
  if (amountCents <= 0) return bad('amount', 'must be greater than 0');

  const currency = v('currency');
  if (!currency) return bad('currency', 'missing');
  const exponent = minorUnits(currency);
  if (exponent === undefined || (limits.currencies && !limits.currencies.includes(currency))) {
    return bad('currency', 'not an accepted ISO 4217 currency code');
  }
  const decimals = amount.split('.')[1]?.length ?? 0;
  if (decimals > exponent && /[1-9]/.test(amount.split('.')[1] ?? '')) return bad('amount', `${currency} takes at most ${exponent} decimals`);
  const max = limits.maxAmountByCurrency?.[currency] ?? limits.maxAmount ?? DEFAULT_MAX_AMOUNT;
  if (amountCents > cents(max)) return bad('amount', `exceeds the maximum of ${max}`);

  const merchantId = v('merchantId');
  if (!merchantId) return bad('merchantId', 'missing');
  if (!REF.test(merchantId)) return bad('merchantId', 'must be 1-64 characters of A-Z a-z 0-9 . _ : / -');
  const merchantMax = limits.maxLength?.merchantId;
  if (merchantMax && merchantId.length > merchantMax.max) return bad('merchantId', `longer than ${merchantMax.max} characters (${merchantMax.why})`);
  const orderRef = v('orderRef');
  if (!orderRef) return bad('orderRef', 'missing');
  if (!REF.test(orderRef)) return bad('orderRef', 'must be 1-64 characters of A-Z a-z 0-9 . _ : / -');
  const orderMax = limits.maxLength?.orderRef;
  if (orderMax && orderRef.length > orderMax.max) return bad('orderRef', `longer than ${orderMax.max} characters (${orderMax.why})`);
  const customerMobile = v('customerMobile');
  if (!customerMobile) return bad('customerMobile', 'missing');
  if (!e164.safeParse(customerMobile).success) return bad('customerMobile', 'must be E.164, e.g. +919800000001');

  const agentId = v('agentId') || undefined;
  if (agentId !== undefined && !AGENT.test(agentId)) return bad('agentId', 'must be 1-64 characters of A-Z a-z 0-9 . _ -');
  const wantedLanguage = v('language')?.toLowerCase() || undefined;
  const languages = limits.languages ?? LANGUAGES;
  const language = languages.find((l) => l === wantedLanguage);
  if (wantedLanguage !== undefined && !language) return bad('language', languages.length === 1 ? `must be ${languages[0]}` : `must be ${languages.slice(0, -1).join(', ')} or ${languages.at(-1)}`);
  const returnTo = v('returnTo') || undefined;
  if (returnTo !== undefined && (!SIP_URI.test(returnTo) || hasControl(returnTo))) return bad('returnTo', 'must be a sip: or sips: URI');
  const txnRef = v('txnRef') || undefined;
  if (txnRef !== undefined && !TXN_REF.test(txnRef)) return bad('txnRef', 'must be 1-64 characters of A-Z a-z 0-9 . _ -');

  const txn: Transaction = {
    amount,
    currency,
    merchantId,
    orderRef,
    customerMobile,
    ...(agentId !== undefined ? { agentId } : {}),
    ...(language !== undefined ? { language } : {}),
    ...(returnTo !== undefined ? { returnTo } : {}),
    ...(txnRef !== undefined ? { txnRef } : {}),
  };
  return { ok: true, txn };
}

/**
 * The value of a SIP `Warning` header for a refused handoff (RFC 3261 §20.43: warn-code 399
 * "Miscellaneous warning", warn-agent = our host, warn-text a quoted-string, §25.1 escaping).
 */
export function warningHeader(error: HandoffError, agent: string): string {
  const text = `${error.field}: ${error.reason}`.replace(/[\r\n]/g, ' ').replace(/["\\]/g, (c) => `\\${c}`);
  return `399 ${agent} "${text}"`;
}

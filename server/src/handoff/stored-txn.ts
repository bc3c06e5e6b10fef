import { HandoffCodeError } from './codes.js';
import { LANGUAGE_CODE } from '../contract/events.js';
import { validateTransaction, type FieldNames, type RawFields, type Transaction, type TxnField } from './transaction.js';

/** A Transaction's JSON names: the field names themselves (`POST /api/handoffs` and stored handoffs). */
export const TXN_JSON_NAMES: FieldNames = {
  amount: 'amount', currency: 'currency', merchantId: 'merchantId', orderRef: 'orderRef', customerMobile: 'customerMobile',
  agentId: 'agentId', language: 'language', returnTo: 'returnTo', txnRef: 'txnRef',
};
const FIELDS = new Set<string>(Object.keys(TXN_JSON_NAMES));

/** Longest stored value read back: a transaction's JSON is a few hundred bytes. */
export const MAX_STORED_TXN = 4096;

/**
 * The JSON a handoff store keeps (Redis). A Transaction holds no card data (handoff/transaction.ts),
 * so none can reach Redis this way.
 */
export function encodeTransaction(txn: Transaction): string {
  return JSON.stringify(txn);
}

/**
 * Parse at the edge (design.md practice 2): a value read back from a shared store is checked like
 * any other input, field by field with the same rules as a SIP handoff. Anything else is a
 * HandoffCodeError('corrupt') naming what is wrong (never the value itself), not a crash.
 */
export function decodeTransaction(json: string): Transaction {
  if (json.length > MAX_STORED_TXN) throw new HandoffCodeError('corrupt', `longer than ${MAX_STORED_TXN} characters`);
  let value: unknown;
  try {
    value = JSON.parse(json);
  } catch {
    throw new HandoffCodeError('corrupt', 'not JSON');
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new HandoffCodeError('corrupt', 'not a JSON object');
  const raw: RawFields = {};
  for (const [k, v] of Object.entries(value)) {
    if (!FIELDS.has(k)) throw new HandoffCodeError('corrupt', `unknown field ${k.slice(0, 32)}`);
    if (typeof v !== 'string') throw new HandoffCodeError('corrupt', `${k} is not a string`);
    raw[k as TxnField] = v;
  }
  // The language was checked against prompts.languages when the code was issued (a language of
  // recorded prompts too); read back, only its form is (contract/events.ts LANGUAGE_CODE).
  const language = raw.language?.toLowerCase();
  const r = validateTransaction(raw, TXN_JSON_NAMES, language !== undefined && LANGUAGE_CODE.test(language) ? { languages: [language] } : {});
  if (!r.ok) throw new HandoffCodeError('corrupt', `${r.error.field}: ${r.error.reason}`);
  return r.txn;
}

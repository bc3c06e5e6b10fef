export {
  validateTransaction,
  warningHeader,
  LANGUAGES,
  DEFAULT_MAX_AMOUNT,
  type Transaction,
  type Language,
  type HandoffError,
  type TransactionLimits,
  type RawFields,
  type TxnField,
  type FieldNames,
} from './transaction.js';
export { ISO_4217, isIso4217, minorUnits } from './currencies.js';
export {
  canonicalString,
  signHandoff,
  verifyHandoff,
  ReplayGuard,
  CANONICAL_VERSION,
  CANONICAL_FIELDS,
  DEFAULT_WINDOW_SECONDS,
  type SignatureProblem,
  type VerifyOptions,
} from './signature.js';
export { parseUui, encodeUui, type UuiOptions, type UuiResult } from './uui.js';
export {
  MemoryHandoffCodeStore,
  HandoffCodeError,
  HandoffStoreUnavailable,
  CODE_ALPHABET,
  CODE_PATTERN,
  CODE_FORMATS,
  HANDOFF_TTL_MS,
  newCode,
  type CodeFormat,
  type HandoffCodeStore,
  type IssuedCode,
  type MemoryHandoffCodeStoreOptions,
} from './codes.js';
export {
  sipProfileSchema,
  parseSipProfile,
  loadPlanProfiles,
  loadSipProfile,
  profileEnv,
  LOOKUP_DATABASE_ENV,
  GENERIC_FIELDS,
  PROFILE_KINDS,
  TXN_FIELDS,
  type SipProfile,
  type SipProfileInput,
  type ProfileKind,
  type FieldMap,
  type LoadedProfile,
} from './profile.js';
export { extractHandoff, type HandoffSource, type HandoffDeps, type HandoffResult } from './extract.js';
export { loadNumberPlan } from './plan.js';
export { openSqlLookups, type ProfileSet, type SqlLookupSettings } from './sql/open.js';
export { compileSqlQuery, SQL_PARAMETERS, type CompiledQuery, type SqlParameter } from './sql/query.js';
export { bySql, SqlLookupError, type SqlDatabase, type SqlFailure, type SqlLookupDeps } from './sql/lookup.js';
export { RedisHandoffCodeStore, type RedisHandoffCodeStoreOptions } from './redis-codes.js';
export { MemoryDidPool, DidPoolError, type DidPool, type DidReservation, type MemoryDidPoolOptions } from './did-pool.js';
export { RedisDidPool, type RedisDidPoolOptions } from './redis-did-pool.js';
export { decodeTransaction, encodeTransaction, TXN_JSON_NAMES } from './stored-txn.js';
export { openHandoffStores, type HandoffStoresOptions } from './stores.js';

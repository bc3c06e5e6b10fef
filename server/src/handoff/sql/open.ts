import type { Numbering } from '../../config/number-plan.js';
import type { LoadedProfile } from '../profile.js';
import type { SqlDatabase, SqlFailure } from './lookup.js';
import { PgLookupDatabase } from './pg.js';

/** The profiles a gate reads with (calls/payment/gate.ts GateProfiles). */
export interface ProfileSet {
  readonly configured: LoadedProfile;
  readonly api: LoadedProfile;
  readonly named?: ReadonlyMap<string, LoadedProfile>;
}

export interface SqlLookupSettings {
  readonly LOOKUP_DATABASE_URL?: string | undefined;
  readonly LOOKUP_TIMEOUT_MS: number;
  readonly LOOKUP_POOL_MAX: number;
}

/**
 * Opens the lookup database when a profile of kind `sql` is in use (one pool for all of them) and
 * attaches it to those profiles; without one nothing is opened. A `sql` profile without
 * LOOKUP_DATABASE_URL, or a URL with a refused parameter, stops the start.
 */
export function openSqlLookups(
  set: ProfileSet, settings: SqlLookupSettings, numbering: Numbering,
  onFailure: (e: { profile: string; failure: SqlFailure; detail: string }) => void,
  open: (s: SqlLookupSettings & { LOOKUP_DATABASE_URL: string }) => SqlDatabase = (s) =>
    new PgLookupDatabase({ url: s.LOOKUP_DATABASE_URL, timeoutMs: s.LOOKUP_TIMEOUT_MS, poolMax: s.LOOKUP_POOL_MAX }),
): { profiles: ProfileSet; close: () => Promise<void> } {
  const all = [set.configured, set.api, ...(set.named?.values() ?? [])];
  const sql = all.filter((l) => l.profile.kind === 'sql');
  if (sql.length === 0) return { profiles: set, close: async () => {} };
  const url = settings.LOOKUP_DATABASE_URL;
  if (!url) throw new Error(`LOOKUP_DATABASE_URL: required by SIP profile ${sql[0]!.profile.name} (kind sql)`);
  const db = open({ ...settings, LOOKUP_DATABASE_URL: url });
  const attach = (l: LoadedProfile): LoadedProfile => (l.profile.kind === 'sql' ? { ...l, sql: { db, numbering, onFailure } } : l);
  const named = set.named ? new Map([...set.named].map(([k, l]) => [k, attach(l)])) : undefined;
  return {
    profiles: { configured: attach(set.configured), api: set.api, ...(named ? { named } : {}) },
    close: () => db.close(),
  };
}

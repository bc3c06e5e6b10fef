import { fileURLToPath } from 'node:url';
import type { SessionEvent } from '../capture/events.js';
import { planSettings } from '../config/number-plan.js';
import type { Config } from '../config/schema.js';
import { loadNumberPlan, loadSipProfile, openHandoffStores, openSqlLookups, profileEnv } from '../handoff/index.js';
import type { Clock } from '../lib/clock.js';
import type { Logger } from '../observability/logger.js';
import type { StoreBackend } from '../store/index.js';

/**
 * What decides where a call goes and which handoff it carries (README, "Routing"): the SIP
 * profiles, the number plan (pay DIDs, support, agents, the DID pool), the handoff codes and DID
 * reservations (in Redis with REDIS_URL, so any instance redeems them, once), and the read-only
 * lookup database of `sql` profiles (closed with the gateway).
 */
export function openRouting(o: { readonly config: Config; readonly backend: StoreBackend<SessionEvent>; readonly clock: Clock; readonly logger: Logger }) {
  const { config } = o;
  const profilesDir = fileURLToPath(new URL('../../../sip-profiles', import.meta.url));
  // The signing key and lookup database URL may come from <NAME>_FILE (config/load.ts); profiles read them by name.
  const env = profileEnv(config);
  const api = loadSipProfile(profilesDir, 'api', env);
  const configured = loadSipProfile(profilesDir, config.SIP_PROFILE, env);
  const { plan, profiles: named } = loadNumberPlan(config, profilesDir, env);
  const { codes, pool } = openHandoffStores({ redis: o.backend.shared, dids: plan.pool, poolTtlMs: config.ROUTING_DID_POOL_TTL_S * 1000, codeFormat: api.profile.api.codeFormat, clock: o.clock });
  const sql = openSqlLookups({ configured, api, named }, config, planSettings(config).numbering, (e) => o.logger.warn(e, 'payment lookup by SQL failed'));
  return { api, configured, plan, codes, pool, profiles: sql.profiles, close: sql.close };
}

export type Routing = ReturnType<typeof openRouting>;

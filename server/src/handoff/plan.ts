import { ConfigError } from '../config/load.js';
import { compileNumberPlan, planSettings, type NumberPlan } from '../config/number-plan.js';
import { loadPlanProfiles, type LoadedProfile } from './profile.js';

/**
 * The number plan of a configuration (README, "Routing"): DIDs to pay, each with its profile,
 * support or an agent. Every profile a pay entry names is loaded here, so a missing one stops the
 * start with one line per entry ({@link ConfigError}).
 */
export function loadNumberPlan(
  config: Parameters<typeof planSettings>[0], dir: string, env: Readonly<Record<string, string | undefined>>,
): { plan: NumberPlan; profiles: Map<string, LoadedProfile> } {
  const planned = planSettings(config);
  const plan = compileNumberPlan(planned.entries, planned.numbering, planned.pool);
  const named = loadPlanProfiles(dir, planned.entries, env);
  if (named.problems.length) throw new ConfigError(named.problems);
  return { plan, profiles: named.profiles };
}

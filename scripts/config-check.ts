// npm run config:check -- FILE: checks a configuration file as the gateway would at start
// (the file, then the environment over it, then production's requirements), starting nothing.
import { fileURLToPath } from 'node:url';
import { ConfigError, loadConfig } from '../server/src/config/load.js';
import { planSettings } from '../server/src/config/number-plan.js';
import { loadPlanProfiles, profileEnv } from '../server/src/handoff/index.js';
import { recordedLanguages } from '../server/src/calls/payment/recorded-languages.js';

const file = process.argv[2];
if (!file || file.startsWith('-')) {
  process.stderr.write('usage: npm run config:check -- FILE\n');
  process.exit(2);
}
try {
  const c = loadConfig({ ...process.env, TONEGATE_CONFIG: file });
  // The number plan's profiles, as the start loads them (gateway.ts): a missing file is one line per entry.
  const env = profileEnv(c);
  const { problems } = loadPlanProfiles(fileURLToPath(new URL('../sip-profiles', import.meta.url)), planSettings(c).entries, env);
  // Languages of recorded prompts: their clips, as the start checks them (calls/payment/recorded-languages.ts).
  const promptsDir = c.PROMPTS_DIR ?? fileURLToPath(new URL('../server/prompts', import.meta.url));
  problems.push(...recordedLanguages(promptsDir, [...new Set([...c.PROMPT_LANGUAGES, c.DEFAULT_LANGUAGE])]).problems);
  if (problems.length) throw new ConfigError(problems);
  process.stdout.write(`OK ${file} (mode ${c.TONEGATE_MODE})\n`);
} catch (err) {
  if (!(err instanceof ConfigError)) throw err;
  process.stdout.write(`${err.issues.join('\n')}\n`);
  process.exit(1);
}

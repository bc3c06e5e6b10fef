// npm run config:check -- FILE: checks a configuration file as the gateway would at start
// (the file, then the environment over it, then production's requirements), starting nothing.
import { ConfigError, loadConfig } from '../server/src/config/load.js';

const file = process.argv[2];
if (!file || file.startsWith('-')) {
  process.stderr.write('usage: npm run config:check -- FILE\n');
  process.exit(2);
}
try {
  const c = loadConfig({ ...process.env, TONEGATE_CONFIG: file });
  process.stdout.write(`OK ${file} (mode ${c.TONEGATE_MODE})\n`);
} catch (err) {
  if (!(err instanceof ConfigError)) throw err;
  process.stdout.write(`${err.issues.join('\n')}\n`);
  process.exit(1);
}

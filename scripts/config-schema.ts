// npm run config:schema: writes docs/config.schema.json from the zod schema (server/src/config/json-schema.ts).
import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { configJsonSchemaText } from '../server/src/config/json-schema.js';

const out = fileURLToPath(new URL('../docs/config.schema.json', import.meta.url));
writeFileSync(out, configJsonSchemaText());
process.stdout.write(`wrote ${out}\n`);

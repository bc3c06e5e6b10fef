// npm run audit:verify [file]: checks the audit trail's hash chain (server/src/observability/audit.ts).
import { readFileSync } from 'node:fs';
import { verifyAuditText } from '../server/src/observability/audit.js';

const file = process.argv[2] ?? process.env.AUDIT_LOG ?? './data/audit.jsonl';
let text: string;
try {
  text = readFileSync(file, 'utf8');
} catch (err) {
  process.stderr.write(`audit:verify: cannot read ${file}: ${(err as Error).message}\n`);
  process.exit(2);
}
// AUDIT_KEY_FILE: the HMAC key the gateway keyed the chain with (docs/security.md).
let key: Buffer | undefined;
if (process.env.AUDIT_KEY_FILE) {
  try {
    key = readFileSync(process.env.AUDIT_KEY_FILE);
  } catch (err) {
    process.stderr.write(`audit:verify: cannot read AUDIT_KEY_FILE: ${(err as Error).message}\n`);
    process.exit(2);
  }
}
const r = verifyAuditText(text, key);
if (r.ok) {
  process.stdout.write(`OK ${file}: ${r.entries} entries, chain intact\n`);
} else {
  process.stdout.write(`BROKEN ${file}: line ${r.line}: ${r.reason}\n`);
  process.exit(1);
}

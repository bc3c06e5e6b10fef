// npm run audit:verify -- [file] [--key-file K]: checks the audit trail's chain
// (server/src/observability/audit-chain.ts). A keyed trail (AUDIT_KEY_FILE) verifies only with its key.
import { readFileSync } from 'node:fs';
import { parseAuditKey, verifyAuditText } from '../server/src/observability/audit-chain.js';

const args = process.argv.slice(2);
const k = args.indexOf('--key-file');
const keyFile = k >= 0 ? args[k + 1] : process.env.AUDIT_KEY_FILE;
if (k >= 0) args.splice(k, 2);
const file = args[0] ?? process.env.AUDIT_LOG ?? './data/audit.jsonl';
const read = (path: string, what: string): Buffer => {
  try {
    return readFileSync(path);
  } catch (err) {
    process.stderr.write(`audit:verify: cannot read ${what} ${path}: ${(err as Error).message}\n`);
    process.exit(2);
  }
};
let key: Buffer | undefined;
if (keyFile) {
  try {
    key = parseAuditKey(read(keyFile, 'key file'), keyFile);
  } catch (err) {
    process.stderr.write(`audit:verify: ${(err as Error).message}\n`);
    process.exit(2);
  }
}
const r = verifyAuditText(read(file, 'audit log').toString('utf8'), key);
if (r.ok) {
  process.stdout.write(`OK ${file}: ${r.entries} entries, chain intact${r.keyed ? ' (HMAC-SHA256, key checked)' : ''}\n`);
} else {
  process.stdout.write(`BROKEN ${file}: line ${r.line}: ${r.reason}\n`);
  process.exit(1);
}

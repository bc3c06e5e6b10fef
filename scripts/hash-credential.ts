// npm run credential:hash -- <agent-id> [--realm REALM]: prints the AGENTS entry `id:$tg1$...`
// (scrypt for the HTTP login, digest HA1 for SIP; server/src/security/credentials.ts). The
// password is read from standard input (first line), never from the command line.
import { hashCredential, MIN_PASSWORD_LENGTH } from '../server/src/security/credentials.js';

const args = process.argv.slice(2);
const id = args.find((a, i) => !a.startsWith('--') && args[i - 1] !== '--realm');
const realmAt = args.indexOf('--realm');
const realm = realmAt >= 0 ? args[realmAt + 1] : process.env['SIP_REALM'] ?? 'tonegate';
if (!id || !/^[A-Za-z0-9._-]{1,64}$/.test(id) || !realm) {
  process.stderr.write('usage: npm run -s credential:hash -- <id> [--realm REALM]   (password on standard input)\n');
  process.exit(2);
}

async function readPassword(): Promise<string> {
  const stdin = process.stdin;
  if (stdin.isTTY) process.stderr.write(`password for ${id} (at least ${MIN_PASSWORD_LENGTH} characters): `);
  if (stdin.isTTY) stdin.setRawMode(true);
  let text = '';
  for await (const chunk of stdin) {
    const s = String(chunk);
    if (stdin.isTTY && s === '\u0003') process.exit(130); // Ctrl-C in raw mode
    text += s;
    if (/[\r\n]/.test(text)) break;
  }
  if (stdin.isTTY) {
    stdin.setRawMode(false);
    process.stderr.write('\n');
  }
  return text.split(/\r?\n|\r/)[0] ?? '';
}

const password = await readPassword();
try {
  process.stdout.write(`${id}:${hashCredential(id, realm, password)}\n`);
} catch (err) {
  process.stderr.write(`credential:hash: ${(err as Error).message}\n`);
  process.exit(1);
}

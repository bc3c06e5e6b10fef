// npm run credential:hash -- <agent-id> [--realm REALM]: prints the AGENTS entry `id:$tg1$...`
// (scrypt for the HTTP login, digest HA1 for SIP; server/src/security/credentials.ts).
// npm run credential:hash -- --supervisor <name> [--totp-secret BASE32]: prints the SUPERVISORS
// entry `name:$tg1$...:BASE32SECRET` (scrypt only, no digest HA1: supervisors never use SIP) with a
// new 160-bit TOTP secret (RFC 6238, RFC 4226 4 R6), or the one given; the otpauth:// URI for the
// authenticator app goes to standard error. The password is read from standard input (first
// line), never from the command line.
import { randomBytes } from 'node:crypto';
import { hashCredential, MIN_PASSWORD_LENGTH } from '../server/src/security/credentials.js';
import { base32Decode, base32Encode } from '../server/src/security/totp.js';

const args = process.argv.slice(2);
const valued = new Set(['--realm', '--totp-secret']);
const id = args.find((a, i) => !a.startsWith('--') && !valued.has(args[i - 1] ?? ''));
const option = (name: string): string | undefined => (args.includes(name) ? args[args.indexOf(name) + 1] : undefined);
const supervisor = args.includes('--supervisor');
const realm = option('--realm') ?? process.env['SIP_REALM'] ?? 'tonegate';
const given = option('--totp-secret');
if (!id || !/^[A-Za-z0-9._-]{1,64}$/.test(id) || !realm) {
  process.stderr.write(
    'usage: npm run -s credential:hash -- <agent-id> [--realm REALM]\n' +
      '       npm run -s credential:hash -- --supervisor <name> [--totp-secret BASE32]   (password on standard input)\n',
  );
  process.exit(2);
}

let totpSecret: string | undefined;
if (supervisor) {
  try {
    totpSecret = given !== undefined ? base32Encode(base32Decode(given)) : base32Encode(randomBytes(20));
  } catch {
    totpSecret = undefined;
  }
  if (!totpSecret || base32Decode(totpSecret).length < 10) {
    process.stderr.write('credential:hash: --totp-secret must be base32 of at least 16 characters (10 bytes)\n');
    process.exit(2);
  }
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
  if (supervisor) {
    process.stdout.write(`${id}:${hashCredential(id, realm, password, undefined, { digest: false })}:${totpSecret}\n`);
    if (given === undefined) process.stderr.write(`TOTP for the authenticator app: otpauth://totp/tonegate:${encodeURIComponent(id)}?secret=${totpSecret}&issuer=tonegate\n`);
  } else {
    process.stdout.write(`${id}:${hashCredential(id, realm, password)}\n`);
  }
} catch (err) {
  process.stderr.write(`credential:hash: ${(err as Error).message}\n`);
  process.exit(1);
}

import { createHash, createHmac, timingSafeEqual } from 'node:crypto';

/**
 * The audit trail's chain (PCI DSS v4.0.1 10.3.2 / 10.3.4: audit logs protected from modification,
 * changes detected). Each entry carries `prev`, the `hash` of the entry before it (64 zeros for the
 * first), and its own `hash` over `prev` + "\n" + the entry's JSON without `hash`:
 *
 * - unkeyed (demo): SHA-256. Anyone can recompute it, so it only shows accidental or naive edits.
 * - keyed (`AUDIT_KEY_FILE`, required in production): HMAC-SHA256 with the audit key, and the entry
 *   says `"alg":"hmac-sha256"`. Without the key an edited line cannot be given a valid MAC, and a
 *   keyed trail is verified only with the key (`npm run audit:verify -- FILE --key-file K`), which
 *   refuses any entry that is not keyed, so stripping the MACs is caught too.
 */
export const GENESIS = '0'.repeat(64);
export const HMAC_ALG = 'hmac-sha256';

/** The smallest audit key accepted: 32 bytes (256 bits), as for the HMAC's own output. */
export const MIN_KEY_BYTES = 32;

export interface ChainFields {
  readonly n: number;
  readonly prev: string;
  readonly hash: string;
  readonly alg?: typeof HMAC_ALG;
}

export function entryHash(prev: string, body: object, key?: Buffer): string {
  const h = key ? createHmac('sha256', key) : createHash('sha256');
  return h.update(prev).update('\n').update(JSON.stringify(body)).digest('hex');
}

/** Reads an audit key: hex or base64 text (or raw bytes from a file); at least 32 bytes. Throws with the reason. */
export function parseAuditKey(content: Buffer, path: string): Buffer {
  const text = content.toString('utf8').trim();
  let key = content;
  if (/^[0-9a-fA-F]+$/.test(text) && text.length % 2 === 0) key = Buffer.from(text, 'hex');
  else if (/^[A-Za-z0-9+/]+={0,2}$/.test(text)) key = Buffer.from(text, 'base64');
  if (key.length < MIN_KEY_BYTES) {
    throw new Error(`${path}: the audit key has ${key.length} bytes; at least ${MIN_KEY_BYTES} are needed (e.g. \`openssl rand -hex 32 > ${path}\`)`);
  }
  return key;
}

export type VerifyResult =
  | { readonly ok: true; readonly entries: number; readonly keyed: boolean }
  | { readonly ok: false; readonly line: number; readonly reason: string };

/** Checks the chain of a file's text; `line` is 1-based. With a key every entry must be keyed and its MAC right. */
export function verifyAuditText(text: string, key?: Buffer): VerifyResult {
  const lines = text.split('\n');
  if (lines.at(-1) === '') lines.pop();
  let prev = GENESIS;
  let n = 0;
  let keyed = false;
  for (let i = 0; i < lines.length; i++) {
    const line = i + 1;
    let e: ChainFields & Record<string, unknown>;
    try {
      e = JSON.parse(lines[i]!) as ChainFields & Record<string, unknown>;
    } catch {
      return { ok: false, line, reason: 'not JSON' };
    }
    if (typeof e !== 'object' || e === null || typeof e.hash !== 'string') return { ok: false, line, reason: 'not an audit entry' };
    if (e.alg !== undefined && e.alg !== HMAC_ALG) return { ok: false, line, reason: `unknown alg ${JSON.stringify(e.alg).slice(0, 40)}` };
    if (key && e.alg !== HMAC_ALG) return { ok: false, line, reason: 'entry is not keyed (its MAC was stripped or it was written without AUDIT_KEY_FILE)' };
    if (!key && e.alg === HMAC_ALG) return { ok: false, line, reason: 'entry is keyed (HMAC-SHA256): verify with --key-file' };
    if (e.prev !== prev) return { ok: false, line, reason: 'prev does not match the previous entry (a line was deleted, inserted or moved)' };
    if (e.n !== n + 1) return { ok: false, line, reason: `entry number ${String(e.n)} where ${n + 1} was expected` };
    const { hash, ...body } = e;
    if (!sameHex(entryHash(prev, body, key), hash)) {
      return { ok: false, line, reason: key ? 'MAC does not match the entry (the line was edited, or the key is not the one it was written with)' : 'hash does not match the entry (the line was edited)' };
    }
    keyed ||= e.alg === HMAC_ALG;
    prev = hash;
    n = e.n;
  }
  return { ok: true, entries: lines.length, keyed };
}

function sameHex(a: string, b: string): boolean {
  const x = Buffer.from(a, 'utf8');
  const y = Buffer.from(b, 'utf8');
  return x.length === y.length && timingSafeEqual(x, y);
}

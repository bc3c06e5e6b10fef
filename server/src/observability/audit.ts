import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, writeSync } from 'node:fs';
import { dirname } from 'node:path';

/**
 * The audit trail (issue 6): append-only JSON Lines, one entry per security-relevant action, with
 * the fields PCI DSS v4.0 req. 10.2.2 asks for: who (`actor`), what (`action`, `target`), when
 * (`ts`), where (`instance`, `source`), and the `outcome`. Never sensitive authentication data:
 * entries carry ids, names and status codes, and `details` is restricted to short scalar values.
 *
 * Tamper evidence (req. 10.3.2/10.3.4): a hash chain. Each entry carries `prev`, the `hash` of the
 * entry before it (64 zeros for the first), and its own `hash` = SHA-256 of `prev` + the entry's
 * JSON without `hash`. Editing, deleting or reordering any line breaks the chain from there on,
 * and `npm run audit:verify` names the first broken line. (Cutting lines off the end leaves a
 * shorter valid chain: anchor the latest hash elsewhere, e.g. in the logs, to catch that.)
 */
export type AuditActor =
  | { readonly kind: 'agent'; readonly id: string }
  | { readonly kind: 'supervisor' | 'handoff-client' | 'system' | 'customer' | 'anonymous'; readonly id?: string };

export interface AuditRecord {
  readonly actor: AuditActor;
  /** `session.start`, `session.end`, `agent.login`, `agent.logout`, `agent.command`, `api.sessions.read`, ... */
  readonly action: string;
  readonly target?: { readonly type: string; readonly id?: string };
  readonly outcome: 'success' | 'failure' | 'denied';
  /** Where the request came from (remote address), when there was one. */
  readonly source?: string;
  readonly details?: Readonly<Record<string, string | number | boolean | null>>;
}

export interface AuditEntry extends AuditRecord {
  readonly n: number;
  readonly ts: string;
  readonly instance: string;
  readonly prev: string;
  /** Present (true) when `hash` is an HMAC-SHA256 with the audit key (AUDIT_KEY_FILE; docs/security.md). */
  readonly keyed?: true;
  readonly hash: string;
}

export const GENESIS = '0'.repeat(64);
const DETAIL_MAX = 128;

/**
 * SHA-256, or with `key` HMAC-SHA256 (RFC 2104), of `prev` + LF + the entry's JSON without `hash`.
 * Keyed, an attacker who can write the file cannot rebuild a valid chain without the key
 * (PCI DSS 10.3.2; docs/security.md).
 */
export function entryHash(prev: string, body: Omit<AuditEntry, 'hash'>, key?: Buffer): string {
  const h = key ? createHmac('sha256', key) : createHash('sha256');
  return h.update(prev).update('\n').update(JSON.stringify(body)).digest('hex');
}

/** Appends entries synchronously (in order, on disk before the call returns); continues an existing file's chain. */
export class AuditLog {
  #fd: number | undefined;
  #prev = GENESIS;
  #n = 0;

  constructor(
    readonly path: string,
    private readonly instance: string,
    private readonly now: () => Date = () => new Date(),
    /** HMAC key (AUDIT_KEY_FILE): every entry from now on is keyed. */
    private readonly key?: Buffer,
  ) {
    mkdirSync(dirname(path), { recursive: true });
    if (existsSync(path)) {
      const last = readFileSync(path, 'utf8').trimEnd().split('\n').at(-1);
      if (last) {
        const e = JSON.parse(last) as AuditEntry;
        this.#prev = e.hash;
        this.#n = e.n;
      }
    }
    this.#fd = openSync(path, 'a', 0o600);
  }

  record(r: AuditRecord): AuditEntry | undefined {
    if (this.#fd === undefined) return undefined;
    const body: Omit<AuditEntry, 'hash'> = {
      n: this.#n + 1,
      ts: this.now().toISOString(),
      instance: this.instance,
      actor: r.actor,
      action: r.action,
      ...(r.target ? { target: r.target } : {}),
      outcome: r.outcome,
      ...(r.source ? { source: r.source } : {}),
      ...(r.details ? { details: cleanDetails(r.details) } : {}),
      prev: this.#prev,
      ...(this.key ? { keyed: true as const } : {}),
    };
    const entry: AuditEntry = { ...body, hash: entryHash(this.#prev, body, this.key) };
    writeSync(this.#fd, `${JSON.stringify(entry)}\n`);
    this.#prev = entry.hash;
    this.#n = entry.n;
    return entry;
  }

  /** Idempotent; later records are ignored. */
  close(): void {
    if (this.#fd !== undefined) closeSync(this.#fd);
    this.#fd = undefined;
  }
}

/** Short scalars only: a stray long digit string (a PAN, say) is never written. */
function cleanDetails(d: Readonly<Record<string, string | number | boolean | null>>): Record<string, string | number | boolean | null> {
  const out: Record<string, string | number | boolean | null> = {};
  for (const [k, v] of Object.entries(d)) {
    if (typeof v === 'string') out[k] = /\d{7,}/.test(v) ? '[removed]' : v.slice(0, DETAIL_MAX);
    else out[k] = v;
  }
  return out;
}

export type VerifyResult = { readonly ok: true; readonly entries: number } | { readonly ok: false; readonly line: number; readonly reason: string };

/**
 * Checks the chain of a file's text; `line` is 1-based. Keyed entries need `key`; once a keyed
 * entry has been seen, an unkeyed one after it is refused (a forger cannot drop back to plain SHA-256).
 */
export function verifyAuditText(text: string, key?: Buffer): VerifyResult {
  const lines = text.split('\n');
  if (lines.at(-1) === '') lines.pop();
  let prev = GENESIS;
  let n = 0;
  let keyedSeen = false;
  for (let i = 0; i < lines.length; i++) {
    const line = i + 1;
    let e: AuditEntry;
    try {
      e = JSON.parse(lines[i]!) as AuditEntry;
    } catch {
      return { ok: false, line, reason: 'not JSON' };
    }
    if (typeof e !== 'object' || e === null || typeof e.hash !== 'string') return { ok: false, line, reason: 'not an audit entry' };
    if (e.prev !== prev) return { ok: false, line, reason: 'prev does not match the previous entry (a line was deleted, inserted or moved)' };
    if (e.n !== n + 1) return { ok: false, line, reason: `entry number ${e.n} where ${n + 1} was expected` };
    const { hash, ...body } = e;
    if (e.keyed === true) {
      if (!key) return { ok: false, line, reason: 'the entry is keyed (HMAC): verify with AUDIT_KEY_FILE set' };
      keyedSeen = true;
    } else if (keyedSeen) return { ok: false, line, reason: 'an unkeyed entry after keyed ones (the chain was rewritten without the key)' };
    const want = Buffer.from(entryHash(prev, body, e.keyed === true ? key : undefined), 'hex');
    const got = /^[0-9a-f]{64}$/.test(hash) ? Buffer.from(hash, 'hex') : Buffer.alloc(0);
    if (got.length !== want.length || !timingSafeEqual(got, want)) return { ok: false, line, reason: 'hash does not match the entry (the line was edited, or the key is not the one it was written with)' };
    prev = hash;
    n = e.n;
  }
  return { ok: true, entries: lines.length };
}

import { closeSync, existsSync, mkdirSync, openSync, readFileSync, writeSync } from 'node:fs';
import { dirname } from 'node:path';
import { entryHash, GENESIS, HMAC_ALG, type ChainFields } from './audit-chain.js';

export { entryHash, GENESIS, verifyAuditText, type VerifyResult } from './audit-chain.js';

/**
 * The audit trail: append-only JSON Lines, one entry per security-relevant action, with the fields
 * PCI DSS v4.0.1 10.2.2 asks for: who (`actor`), what (`action`, `target`), when (`ts`), where
 * (`instance`, `source`, `transport`), and the `outcome`. Never sensitive authentication data:
 * entries carry ids, names and status codes, and `details` is restricted to short scalar values.
 *
 * Tamper evidence: a hash chain, keyed with HMAC-SHA256 when an audit key is given
 * (`audit-chain.ts`); `npm run audit:verify` names the first broken line. Cutting lines off the end
 * leaves a shorter valid chain: the copy sent to syslog (`audit-syslog.ts`, RFC 5425) catches that.
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
  /** The transport it came over (`udp`, `tcp`, `tls`, `ws`, `wss`, `http`, `https`), when known. */
  readonly transport?: string;
  readonly details?: Readonly<Record<string, string | number | boolean | null>>;
}

export interface AuditEntry extends AuditRecord, ChainFields {
  readonly ts: string;
  readonly instance: string;
}

/** Receives every entry after it is on disk (the syslog export); must not throw. */
export type AuditSink = (entry: AuditEntry, line: string) => void;

export interface AuditLogOptions {
  /** HMAC-SHA256 key of the chain (AUDIT_KEY_FILE); unset: plain SHA-256. */
  readonly key?: Buffer;
  readonly sinks?: readonly AuditSink[];
}

const DETAIL_MAX = 128;

/** Appends entries synchronously (in order, on disk before the call returns); continues an existing file's chain. */
export class AuditLog {
  #fd: number | undefined;
  #prev = GENESIS;
  #n = 0;

  constructor(
    readonly path: string,
    private readonly instance: string,
    private readonly now: () => Date = () => new Date(),
    private readonly options: AuditLogOptions = {},
  ) {
    mkdirSync(dirname(path), { recursive: true });
    if (existsSync(path)) {
      const last = readFileSync(path, 'utf8').trimEnd().split('\n').at(-1);
      if (last) {
        const e = parseLast(path, last);
        checkContinuation(path, e, options.key);
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
      ...(r.transport ? { transport: r.transport } : {}),
      ...(r.details ? { details: cleanDetails(r.details) } : {}),
      ...(this.options.key ? { alg: HMAC_ALG } : {}),
      prev: this.#prev,
    };
    const entry: AuditEntry = { ...body, hash: entryHash(this.#prev, body, this.options.key) };
    const line = JSON.stringify(entry);
    writeSync(this.#fd, `${line}\n`);
    this.#prev = entry.hash;
    this.#n = entry.n;
    for (const sink of this.options.sinks ?? []) {
      try {
        sink(entry, line);
      } catch {
        // an export failing never stops the file, which stays the record
      }
    }
    return entry;
  }

  /** Idempotent; later records are ignored. */
  close(): void {
    if (this.#fd !== undefined) closeSync(this.#fd);
    this.#fd = undefined;
  }
}

function parseLast(path: string, last: string): AuditEntry {
  try {
    const e = JSON.parse(last) as AuditEntry;
    if (typeof e.hash === 'string' && typeof e.n === 'number') return e;
  } catch {
    // reported below
  }
  throw new Error(`audit log ${path}: the last line is not an audit entry; run npm run audit:verify -- ${path}`);
}

/** A trail is continued only with the key it was written with: no silent switch between keyed and plain. */
function checkContinuation(path: string, last: AuditEntry, key: Buffer | undefined): void {
  if (last.alg === HMAC_ALG && !key) throw new Error(`audit log ${path} is keyed (HMAC-SHA256): set AUDIT_KEY_FILE, or use another AUDIT_LOG`);
  if (last.alg !== HMAC_ALG && key) throw new Error(`audit log ${path} is not keyed: a keyed trail needs its own file (set AUDIT_LOG to a new path)`);
  if (key) {
    const { hash, ...body } = last;
    if (entryHash(last.prev, body, key) !== hash) throw new Error(`audit log ${path}: its last entry's MAC does not match AUDIT_KEY_FILE (wrong key, or the file was edited)`);
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

import { isIP } from 'node:net';
import { hostname } from 'node:os';
import { connect, type ConnectionOptions, type TLSSocket } from 'node:tls';
import type { AuditEntry } from './audit.js';

/**
 * The audit trail's copy to a syslog collector over TLS (RFC 5425), beside the file (PCI DSS v4.0.1
 * 10.3.3: audit logs promptly backed up to a central log server that is difficult to alter).
 *
 * - Each entry becomes one RFC 5424 message: `<PRI>1 TIMESTAMP HOSTNAME tonegate PROCID MSGID - JSON`,
 *   facility authpriv (10), severity notice for a success and warning otherwise (RFC 5424 6.2.1),
 *   MSGID the action (printable US-ASCII, at most 32 characters, RFC 5424 6.2.7).
 * - Framing is octet counting, `MSG-LEN SP SYSLOG-MSG` (RFC 5425 4.3).
 * - TLS 1.2 or later, the collector's certificate checked against the system CAs or `caFile`
 *   (RFC 5425 5.1 certificate-based authentication), with an optional client certificate.
 * - The file is the record; the export never blocks or fails a request. While the collector is
 *   unreachable, entries wait in a bounded queue (oldest dropped beyond it, counted) and the
 *   connection is retried with backoff (1 s doubling to 30 s). `close()` flushes for up to 2 s.
 */
export interface SyslogTarget {
  readonly host: string;
  readonly port: number;
}

export interface AuditSyslogOptions {
  readonly target: SyslogTarget;
  readonly tls: Pick<ConnectionOptions, 'ca' | 'cert' | 'key' | 'servername'>;
  readonly queueLimit?: number;
  readonly log?: (level: 'info' | 'warn' | 'error', msg: string) => void;
  readonly hostname?: string;
}

export interface AuditSyslogStats {
  sent: number;
  dropped: number;
  queued: number;
  connected: boolean;
  lastError: string | undefined;
  /** When the export stopped reaching the collector (ISO time of the first failed attempt or lost connection); undefined while connected or before the first attempt ends. */
  downSince: string | undefined;
}


const FACILITY_AUTHPRIV = 10;
const SEVERITY_NOTICE = 5;
const SEVERITY_WARNING = 4;
const RETRY_MIN_MS = 1000;
const RETRY_MAX_MS = 30_000;

/** Parses `tls://host:port` (port 6514 by default, RFC 5425 4.1). Throws with the reason. */
export function parseSyslogUrl(url: string): SyslogTarget {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    throw new Error(`AUDIT_SYSLOG_URL "${url.slice(0, 100)}" is not a URL; use tls://host:6514`);
  }
  if (u.protocol !== 'tls:') throw new Error(`AUDIT_SYSLOG_URL must use tls:// (RFC 5425); plain UDP/TCP syslog is not offered`);
  if (!u.hostname || u.pathname.replace(/^\/+/, '') !== '' || u.username || u.search) throw new Error(`AUDIT_SYSLOG_URL "${url.slice(0, 100)}" must be tls://host:port`);
  const port = u.port ? Number(u.port) : 6514;
  return { host: u.hostname.replace(/^\[|\]$/g, ''), port };
}

/** One RFC 5424 message for an entry, framed per RFC 5425 4.3. */
export function frameEntry(entry: AuditEntry, line: string, host: string, pid: number): Buffer {
  const severity = entry.outcome === 'success' ? SEVERITY_NOTICE : SEVERITY_WARNING;
  const pri = FACILITY_AUTHPRIV * 8 + severity;
  const msgId = printable(entry.action, 32);
  const msg = Buffer.from(`<${pri}>1 ${entry.ts} ${printable(host, 255)} tonegate ${pid} ${msgId} - ${line}`, 'utf8');
  return Buffer.concat([Buffer.from(`${msg.length} `, 'ascii'), msg]);
}

function printable(s: string, max: number): string {
  const v = s.replace(/[^\x21-\x7e]/g, '_').slice(0, max);
  return v === '' ? '-' : v;
}

export class AuditSyslog {
  readonly stats: AuditSyslogStats = { sent: 0, dropped: 0, queued: 0, connected: false, lastError: undefined, downSince: undefined };
  #queue: Buffer[] = [];
  #socket: TLSSocket | undefined;
  #retryMs = RETRY_MIN_MS;
  #timer: NodeJS.Timeout | undefined;
  #closed = false;
  #warnedFull = false;
  readonly #host: string;
  readonly #limit: number;

  constructor(private readonly options: AuditSyslogOptions) {
    this.#host = options.hostname ?? hostname();
    this.#limit = options.queueLimit ?? 10_000;
    this.#connect();
  }

  /** The AuditSink: queue the entry and write it when connected. */
  readonly sink = (entry: AuditEntry, line: string): void => {
    if (this.#closed) return;
    this.#queue.push(frameEntry(entry, line, this.#host, process.pid));
    if (this.#queue.length > this.#limit) {
      this.#queue.shift();
      this.stats.dropped++;
      if (!this.#warnedFull) {
        this.#warnedFull = true;
        this.options.log?.('error', `audit syslog: queue full (${this.#limit} entries); dropping the oldest until the collector is back (the file keeps every entry)`);
      }
    }
    this.#flush();
  };

  #connect(): void {
    if (this.#closed) return;
    const { host, port } = this.options.target;
    // SNI carries host names only (RFC 6066 3); an IP address is still checked against the certificate's IP SANs.
    const socket = connect({ host, port, minVersion: 'TLSv1.2', ...(isIP(host) ? {} : { servername: host }), ...this.options.tls });
    socket.setNoDelay(true);
    socket.once('secureConnect', () => {
      this.#socket = socket;
      this.stats.connected = true;
      this.stats.downSince = undefined;
      this.#retryMs = RETRY_MIN_MS;
      this.#warnedFull = false;
      this.options.log?.('info', `audit syslog: connected to ${host}:${port} (${socket.getProtocol() ?? 'TLS'})`);
      this.#flush();
    });
    socket.on('error', (err) => {
      this.stats.lastError = err.message;
    });
    socket.on('data', () => undefined); // RFC 5425: the collector sends nothing; read and ignore
    socket.once('close', () => {
      const wasConnected = this.#socket === socket;
      if (wasConnected) this.#socket = undefined;
      this.stats.connected = false;
      if (this.#closed) return;
      this.stats.downSince ??= new Date().toISOString();
      this.options.log?.('warn', `audit syslog: ${wasConnected ? 'connection lost' : 'cannot connect'} to ${host}:${port}${this.stats.lastError ? `: ${this.stats.lastError}` : ''}; retrying in ${this.#retryMs} ms`);
      this.#timer = setTimeout(() => this.#connect(), this.#retryMs);
      this.#timer.unref();
      this.#retryMs = Math.min(this.#retryMs * 2, RETRY_MAX_MS);
    });
  }

  #flush(): void {
    const s = this.#socket;
    while (s && this.#queue.length > 0 && !s.writableNeedDrain) {
      s.write(this.#queue.shift()!);
      this.stats.sent++;
    }
    if (s && this.#queue.length > 0) s.once('drain', () => this.#flush());
    this.stats.queued = this.#queue.length;
  }

  /**
   * The export's part of `/healthz` (PCI DSS 10.7: a failed security control is detected and
   * reported): while the collector cannot be reached, a reason naming it, since when and what
   * waits; the file still records every entry (docs/security.md, "Audit trail").
   */
  health(): { details: Record<string, unknown>; reason?: string } {
    const { sent, dropped, queued, connected, lastError, downSince } = this.stats;
    const target = `${this.options.target.host}:${this.options.target.port}`;
    const details = { auditSyslog: { target, connected, sent, queued, dropped, ...(downSince ? { downSince } : {}) } };
    if (downSince === undefined) return { details };
    const reason = `audit syslog: collector ${target} unreachable since ${downSince}${lastError ? ` (${lastError})` : ''}; ${queued} entries waiting, ${dropped} dropped from the queue (the file keeps every entry)`;
    return { details, reason };
  }

  /** Flushes what is queued (up to 2 s), then closes. Idempotent. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    clearTimeout(this.#timer);
    const s = this.#socket;
    if (!s) return;
    this.#flush();
    await new Promise<void>((resolve) => {
      const t = setTimeout(() => {
        s.destroy();
        resolve();
      }, 2000);
      s.end(() => {
        clearTimeout(t);
        resolve();
      });
    });
  }
}

import { readFileSync } from 'node:fs';
import type { Config } from '../config/schema.js';
import { parseAuditKey } from './audit-chain.js';
import { AuditLog } from './audit.js';
import { AuditSyslog, parseSyslogUrl } from './audit-syslog.js';
import type { Logger } from './logger.js';

export interface OpenedAudit {
  readonly audit: AuditLog;
  readonly syslog: AuditSyslog | undefined;
  /** Closes the file, then flushes and closes the syslog export. Idempotent. */
  close(): Promise<void>;
}

/**
 * Opens the audit trail from the settings: the file (`AUDIT_LOG`), its chain key (`AUDIT_KEY` or
 * `AUDIT_KEY_FILE`) and the syslog export over TLS (`AUDIT_SYSLOG_URL` with `AUDIT_SYSLOG_CA_FILE`, and a client
 * certificate when given). Throws with a message naming the setting when one is unusable, so the
 * gateway does not start with an audit trail it cannot keep.
 */
export function openAudit(config: Config, logger: Logger): OpenedAudit {
  const key = config.AUDIT_KEY ? parseAuditKey(Buffer.from(config.AUDIT_KEY, 'utf8'), 'AUDIT_KEY') : undefined;
  let syslog: AuditSyslog | undefined;
  if (config.AUDIT_SYSLOG_URL) {
    const target = parseSyslogUrl(config.AUDIT_SYSLOG_URL);
    const file = (name: string, path: string | undefined) => (path ? readSetting(name, path) : undefined);
    const ca = file('AUDIT_SYSLOG_CA_FILE', config.AUDIT_SYSLOG_CA_FILE);
    const cert = file('AUDIT_SYSLOG_CERT_FILE', config.AUDIT_SYSLOG_CERT_FILE);
    const tlsKey = file('AUDIT_SYSLOG_KEY_FILE', config.AUDIT_SYSLOG_KEY_FILE);
    if (!cert !== !tlsKey) throw new Error('AUDIT_SYSLOG_CERT_FILE and AUDIT_SYSLOG_KEY_FILE go together: set both or neither');
    syslog = new AuditSyslog({
      target,
      tls: { ...(ca ? { ca } : {}), ...(cert && tlsKey ? { cert, key: tlsKey } : {}) },
      log: (level, msg) => logger[level](msg),
    });
  }
  const audit = new AuditLog(config.AUDIT_LOG, config.INSTANCE_ID, undefined, { ...(key ? { key } : {}), sinks: syslog ? [syslog.sink] : [] });
  let closing: Promise<void> | undefined;
  return {
    audit,
    syslog,
    close: () =>
      (closing ??= (async () => {
        audit.close();
        await syslog?.close();
      })()),
  };
}

function readSetting(name: string, path: string): Buffer {
  try {
    return readFileSync(path);
  } catch (err) {
    throw new Error(`${name} ${path}: cannot read it: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
}

import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { entryHash, parseAuditKey, verifyAuditText } from '../../../src/observability/audit-chain.js';
import { AuditLog, type AuditEntry } from '../../../src/observability/audit.js';
import { frameEntry, parseSyslogUrl } from '../../../src/observability/audit-syslog.js';

const KEY = randomBytes(32);
const file = () => join(mkdtempSync(join(tmpdir(), 'audit-k-')), 'audit.jsonl');
function write(path: string, n: number, key: Buffer | null = KEY): string[] {
  const log = new AuditLog(path, 'gw-1', undefined, key ? { key } : {});
  for (let i = 1; i <= n; i++) log.record({ actor: { kind: 'agent', id: `agent-${i}` }, action: 'agent.login', outcome: i % 2 ? 'success' : 'failure', source: '10.0.0.9', transport: 'https' });
  log.close();
  return readFileSync(path, 'utf8').trimEnd().split('\n');
}
const text = (lines: string[]) => `${lines.join('\n')}\n`;

describe('audit trail keyed with HMAC-SHA256 (AUDIT_KEY_FILE)', () => {
  it('a keyed chain verifies with its key, says alg hmac-sha256 and records the transport', () => {
    const lines = write(file(), 4);
    expect(verifyAuditText(text(lines), KEY)).toEqual({ ok: true, entries: 4, keyed: true });
    expect(JSON.parse(lines[0]!)).toMatchObject({ alg: 'hmac-sha256', transport: 'https', source: '10.0.0.9' });
  });

  it('an edited line re-hashed with plain SHA-256 (all an attacker without the key can do) fails at that line', () => {
    const lines = write(file(), 4);
    const e = JSON.parse(lines[1]!) as AuditEntry;
    const { hash: _h, ...body } = { ...e, outcome: 'success' as const };
    lines[1] = JSON.stringify({ ...body, hash: entryHash(e.prev, body) });
    expect(verifyAuditText(text(lines), KEY)).toMatchObject({ ok: false, line: 2, reason: expect.stringContaining('MAC does not match') });
  });

  it('a keyed trail rewritten as a plain SHA-256 chain (MACs stripped) is refused when verified with the key', () => {
    const lines = write(file(), 3, null);
    expect(verifyAuditText(text(lines), KEY)).toMatchObject({ ok: false, line: 1, reason: expect.stringContaining('not keyed') });
  });

  it('a keyed trail is not reported as intact without the key, nor with another key', () => {
    const lines = write(file(), 3);
    expect(verifyAuditText(text(lines))).toMatchObject({ ok: false, line: 1, reason: expect.stringContaining('--key-file') });
    expect(verifyAuditText(text(lines), randomBytes(32))).toMatchObject({ ok: false, line: 1 });
  });

  it('reopening continues the keyed chain; the wrong key, no key, or a key on a plain file refuse to start', () => {
    const path = file();
    write(path, 2);
    expect(write(path, 2)).toHaveLength(4);
    expect(verifyAuditText(readFileSync(path, 'utf8'), KEY)).toMatchObject({ ok: true, entries: 4 });
    expect(() => new AuditLog(path, 'gw-1', undefined, { key: randomBytes(32) })).toThrow(/MAC does not match AUDIT_KEY_FILE/);
    expect(() => new AuditLog(path, 'gw-1')).toThrow(/is keyed.*set AUDIT_KEY_FILE/);
    const plain = file();
    write(plain, 1, null);
    expect(() => new AuditLog(plain, 'gw-1', undefined, { key: KEY })).toThrow(/is not keyed/);
  });

  it('a file whose last line is not an entry refuses to start with a pointer to audit:verify', () => {
    const path = file();
    writeFileSync(path, '{"half":\n');
    expect(() => new AuditLog(path, 'gw-1')).toThrow(/last line is not an audit entry/);
  });

  it('key files: hex, base64 or raw bytes of at least 32 bytes; shorter keys are refused with the reason', () => {
    expect(parseAuditKey(Buffer.from(`${KEY.toString('hex')}\n`), 'k')).toEqual(KEY);
    expect(parseAuditKey(Buffer.from(KEY.toString('base64')), 'k')).toEqual(KEY);
    expect(() => parseAuditKey(Buffer.from('abcd'), 'k.key')).toThrow(/k.key: the audit key has 2 bytes; at least 32.*openssl rand -hex 32/);
  });

  it('a sink that throws never stops the file', () => {
    const path = file();
    const log = new AuditLog(path, 'gw-1', undefined, { sinks: [() => { throw new Error('collector down'); }] });
    log.record({ actor: { kind: 'system' }, action: 'session.end', outcome: 'failure' });
    log.close();
    expect(readFileSync(path, 'utf8').trim().split('\n')).toHaveLength(1);
  });
});

describe('audit export framing (RFC 5424 message, RFC 5425 octet counting)', () => {
  const entry = (outcome: AuditEntry['outcome'], action = 'agent.login'): AuditEntry => ({ n: 1, ts: '2026-12-05T10:00:00.000Z', instance: 'gw-1', actor: { kind: 'system' }, action, outcome, prev: '0'.repeat(64), hash: 'a'.repeat(64) });

  it('frames MSG-LEN SP <PRI>1 TS HOST tonegate PID MSGID - JSON, authpriv notice for a success, warning otherwise', () => {
    const line = JSON.stringify(entry('success'));
    const framed = frameEntry(entry('success'), line, 'gw-host', 42).toString('utf8');
    const sp = framed.indexOf(' ');
    const msg = framed.slice(sp + 1);
    expect(Number(framed.slice(0, sp))).toBe(Buffer.byteLength(msg));
    expect(msg).toBe(`<85>1 2026-12-05T10:00:00.000Z gw-host tonegate 42 agent.login - ${line}`);
    expect(frameEntry(entry('denied'), '{}', 'h', 1).toString()).toContain('<84>1 ');
  });

  it('MSGID is printable US-ASCII of at most 32 characters; an empty host becomes -', () => {
    const framed = frameEntry(entry('failure', `weird action with spaces ${'x'.repeat(40)}`), '{}', '', 1).toString();
    expect(framed).toMatch(/ - tonegate 1 (\S+) - \{\}$/);
    expect(/ tonegate 1 (\S+) /.exec(framed)![1]).toBe(`weird_action_with_spaces_${'x'.repeat(7)}`);
  });

  it('only tls:// URLs are taken, port 6514 by default (RFC 5425 4.1)', () => {
    expect(parseSyslogUrl('tls://logs.example.com')).toEqual({ host: 'logs.example.com', port: 6514 });
    expect(parseSyslogUrl('tls://[::1]:7000')).toEqual({ host: '::1', port: 7000 });
    expect(() => parseSyslogUrl('udp://logs:514')).toThrow(/must use tls:\/\//);
    expect(() => parseSyslogUrl('logs:514')).toThrow();
    expect(() => parseSyslogUrl('tls://logs:6514/path')).toThrow(/must be tls:\/\/host:port/);
  });
});

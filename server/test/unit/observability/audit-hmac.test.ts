import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { AuditLog, entryHash, verifyAuditText, type AuditEntry } from '../../../src/observability/audit.js';

const KEY = Buffer.from('k'.repeat(32));
const dir = () => mkdtempSync(join(tmpdir(), 'audit-hmac-'));

function keyedLog(path: string, n: number, key: Buffer | undefined = KEY): string[] {
  const log = new AuditLog(path, 'gw-1', () => new Date('2025-01-01T10:00:00Z'), key);
  for (let i = 0; i < n; i++) log.record({ actor: { kind: 'system' }, action: 'test', outcome: 'success', details: { i } });
  log.close();
  return readFileSync(path, 'utf8').trimEnd().split('\n');
}

describe('audit chain keyed with AUDIT_KEY_FILE (HMAC-SHA256)', () => {
  it('verifies with the key, and not without it or with another key', () => {
    const path = join(dir(), 'a.jsonl');
    const lines = keyedLog(path, 3);
    expect(JSON.parse(lines[0]!)).toMatchObject({ keyed: true });
    const text = `${lines.join('\n')}\n`;
    expect(verifyAuditText(text, KEY)).toEqual({ ok: true, entries: 3 });
    expect(verifyAuditText(text)).toMatchObject({ ok: false, line: 1, reason: expect.stringContaining('AUDIT_KEY_FILE') });
    expect(verifyAuditText(text, Buffer.from('x'.repeat(32)))).toMatchObject({ ok: false, line: 1 });
  });

  it('an entry edited and re-hashed without the key (plain SHA-256, keyed flag dropped) is caught', () => {
    const path = join(dir(), 'a.jsonl');
    const lines = keyedLog(path, 3);
    const e = JSON.parse(lines[1]!) as AuditEntry;
    const { hash: _h, keyed: _k, ...body } = { ...e, outcome: 'failure' as const };
    lines[1] = JSON.stringify({ ...body, hash: entryHash(e.prev, body) });
    expect(verifyAuditText(`${lines.join('\n')}\n`, KEY)).toMatchObject({ ok: false, line: 2 });
  });

  it('a plain chain continued with a key verifies (the key arrives later), and npm run audit:verify reads AUDIT_KEY_FILE', () => {
    const d = dir();
    const path = join(d, 'a.jsonl');
    keyedLog(path, 2, undefined);
    keyedLog(path, 2);
    const keyFile = join(d, 'audit.key');
    writeFileSync(keyFile, KEY);
    const script = resolve(import.meta.dirname, '../../../../scripts/audit-verify.ts');
    const tsx = resolve(import.meta.dirname, '../../../../node_modules/.bin/tsx');
    expect(execFileSync(tsx, [script, path], { env: { ...process.env, AUDIT_KEY_FILE: keyFile } }).toString()).toMatch(/^OK .*4 entries/);
  });
});

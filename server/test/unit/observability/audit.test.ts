import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { AuditLog, GENESIS, verifyAuditText } from '../../../src/observability/audit.js';

const file = () => join(mkdtempSync(join(tmpdir(), 'audit-')), 'sub', 'audit.jsonl');
function write(path: string, n: number): string[] {
  const log = new AuditLog(path, 'gw-1');
  for (let i = 1; i <= n; i++) {
    log.record({ actor: { kind: 'agent', id: `agent-${i}` }, action: i % 2 ? 'agent.login' : 'api.sessions.read', outcome: 'success', source: '127.0.0.1', details: { status: 200 } });
  }
  log.close();
  return readFileSync(path, 'utf8').trimEnd().split('\n');
}
const text = (lines: string[]) => `${lines.join('\n')}\n`;

describe('audit trail: append-only JSONL with a SHA-256 hash chain', () => {
  it('a chain of entries verifies; each entry names who, what, when, where and the outcome, and links to the previous', () => {
    const lines = write(file(), 5);
    expect(verifyAuditText(text(lines))).toEqual({ ok: true, entries: 5, keyed: false });
    const [first, second] = lines.map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(first).toMatchObject({ n: 1, instance: 'gw-1', actor: { kind: 'agent', id: 'agent-1' }, action: 'agent.login', outcome: 'success', source: '127.0.0.1', prev: GENESIS });
    expect(first!.ts).toMatch(/^\d{4}-\d\d-\d\dT/);
    expect(second!.prev).toBe(first!.hash);
  });

  it('reopening the file continues the chain (the directory is created when missing)', () => {
    const path = file();
    write(path, 2);
    const lines = write(path, 3);
    expect(lines).toHaveLength(5);
    expect(verifyAuditText(text(lines))).toEqual({ ok: true, entries: 5, keyed: false });
  });

  it('an edited line is detected at that line', () => {
    const lines = write(file(), 5);
    lines[2] = lines[2]!.replace('"outcome":"success"', '"outcome":"failure"');
    expect(verifyAuditText(text(lines))).toMatchObject({ ok: false, line: 3, reason: expect.stringContaining('edited') });
  });

  it('a deleted line is detected at the line after the gap', () => {
    const lines = write(file(), 5);
    lines.splice(1, 1);
    expect(verifyAuditText(text(lines))).toMatchObject({ ok: false, line: 2 });
  });

  it('deleting the first line is detected too (the chain starts from 64 zeros)', () => {
    const lines = write(file(), 3);
    lines.shift();
    expect(verifyAuditText(text(lines))).toMatchObject({ ok: false, line: 1 });
  });

  it('two lines swapped are detected at the first of them', () => {
    const lines = write(file(), 5);
    [lines[2], lines[3]] = [lines[3]!, lines[2]!];
    expect(verifyAuditText(text(lines))).toMatchObject({ ok: false, line: 3 });
  });

  it('an entry edited and re-hashed still breaks the chain at the next line', () => {
    const lines = write(file(), 4);
    const e = JSON.parse(lines[1]!) as Record<string, unknown>;
    e.hash = 'f'.repeat(64);
    lines[1] = JSON.stringify(e);
    expect(verifyAuditText(text(lines))).toMatchObject({ ok: false, line: 2 });
  });

  it('details never carry a long digit string (a PAN passed by mistake)', () => {
    const path = file();
    const log = new AuditLog(path, 'gw-1');
    log.record({ actor: { kind: 'system' }, action: 'session.end', outcome: 'failure', details: { note: 'card 4111111111111111' } });
    log.close();
    expect(readFileSync(path, 'utf8')).not.toContain('4111111111111111');
  });

  it('npm run audit:verify reports OK, or the first broken line number', () => {
    const path = file();
    const lines = write(path, 4);
    const script = resolve(import.meta.dirname, '../../../../scripts/audit-verify.ts');
    const tsx = resolve(import.meta.dirname, '../../../../node_modules/.bin/tsx');
    expect(execFileSync(tsx, [script, path]).toString()).toMatch(/^OK .*4 entries/);
    lines.splice(2, 1);
    writeFileSync(path, text(lines));
    let out = '';
    let code = 0;
    try {
      execFileSync(tsx, [script, path]);
    } catch (err) {
      const e = err as { status: number; stdout: Buffer };
      code = e.status;
      out = e.stdout.toString();
    }
    expect(code).toBe(1);
    expect(out).toMatch(/^BROKEN .*line 3/);
  });
});

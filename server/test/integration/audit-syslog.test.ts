import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import type { Gateway } from '../../src/gateway.js';
import { startTestGateway } from '../support/gateway.js';
import { RsyslogServer } from '../support/rsyslog.js';
import { TestCa } from '../support/tls-certs.js';

// The audit trail keyed with AUDIT_KEY_FILE and copied to a real rsyslogd over TLS (RFC 5425):
// every entry the file holds reaches the collector byte for byte, also across a collector outage.
const ca = TestCa.create();
const dir = mkdtempSync(join(tmpdir(), 'tg-audit-it-'));
const keyFile = join(dir, 'audit.key');
const auditFile = join(dir, 'audit.jsonl');
let syslog: RsyslogServer;
let gw: Gateway;
let http: string;

beforeAll(async () => {
  writeFileSync(keyFile, `${randomBytes(32).toString('hex')}\n`, { mode: 0o600 });
  const server = ca.issue();
  syslog = await RsyslogServer.start({ caFile: ca.certFile, certFile: server.certFile, keyFile: server.keyFile });
  ({ gw } = await startTestGateway({ AUDIT_KEY_FILE: keyFile, AUDIT_SYSLOG_URL: syslog.url, AUDIT_SYSLOG_CA_FILE: ca.certFile }, { config: { AUDIT_LOG: auditFile } }));
  http = `http://127.0.0.1:${gw.httpPort}`;
});
afterAll(async () => {
  await gw?.close();
  await syslog?.stop();
});

const login = (password: string) =>
  fetch(`${http}/api/agents/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ agentId: 'agent-2', password }) });
const health = async () => (await (await fetch(`${http}/healthz`)).json()) as { status: string; details: { reasons?: string[] } & Record<string, unknown> };
/** One unlabelled sample from /metrics (demo mode serves it without a token). */
async function metric(name: string): Promise<number> {
  const text = await (await fetch(`${http}/metrics`)).text();
  const m = new RegExp(`^${name} (\\S+)$`, 'm').exec(text);
  if (!m) throw new Error(`${name} not in /metrics`);
  return Number(m[1]);
}
const fileLines = () => readFileSync(auditFile, 'utf8').split('\n').filter(Boolean);
/** The JSON of each entry as rsyslogd received it (its `%msg%` keeps the leading space of the frame). */
const received = () => syslog.lines().map((l) => /^(\d+) (\S+) ?(.*)$/.exec(l)!).map((m) => ({ pri: Number(m[1]), msgid: m[2], json: m[3]!.trim() }));

describe('audit trail: HMAC-keyed chain exported to syslog over TLS', () => {
  it('a failed and a good agent login reach rsyslogd as RFC 5424 messages identical to the keyed file lines', async () => {
    expect((await login('wrong-password')).status).toBe(401);
    expect((await login('demo')).status).toBe(200);
    // Each login is two entries: the sign-in lockout's (shared with SIP REGISTER, with the failure
    // count) and the HTTP request's (docs/security.md).
    await vi.waitFor(() => expect(received().length).toBeGreaterThanOrEqual(4), { timeout: 5000 });
    const lines = fileLines();
    expect(received().map((r) => r.json)).toEqual(lines);
    const entries = lines.map((l) => JSON.parse(l) as Record<string, unknown>);
    const [bad, good] = entries.filter((e) => e.action === 'agent.login');
    expect(bad).toMatchObject({ action: 'agent.login', outcome: 'denied', alg: 'hmac-sha256', source: '127.0.0.1', transport: 'http' });
    expect(good).toMatchObject({ action: 'agent.login', outcome: 'success' });
    expect(entries.filter((e) => String(e.action).startsWith('signin.'))).toMatchObject([
      { action: 'signin.failure', outcome: 'denied', source: '127.0.0.1', details: { channel: 'http', failures: 1 } },
      { action: 'signin.success', outcome: 'success', details: { channel: 'http' } },
    ]);
    expect(received().map((r) => [r.pri, r.msgid])).toEqual([[84, 'signin.failure'], [84, 'agent.login'], [85, 'signin.success'], [85, 'agent.login']]);
  });

  it('entries written while the collector is down are delivered after it comes back, in order; /healthz and /metrics report the outage meanwhile', async () => {
    expect(await health()).toMatchObject({ status: 'ok', details: { auditSyslog: { connected: true, queued: 0, dropped: 0 } } });
    expect(await metric('tonegate_audit_syslog_up')).toBe(1);
    await syslog.stop();
    expect((await login('wrong-again')).status).toBe(401);
    expect((await login('still-wrong')).status).toBe(401);
    // PCI DSS 10.7: the failed export is reported, naming the collector; the entries wait.
    await vi.waitFor(async () => {
      const h = await health();
      expect(h.status).toBe('degraded');
      expect(h.details.reasons).toEqual([expect.stringMatching(new RegExp(`^audit syslog: collector 127\\.0\\.0\\.1:\\d+ unreachable since \\d{4}-\\d\\d-\\d\\dT[^;]*; [1-9]\\d* entries waiting, 0 dropped`))]);
    }, { timeout: 5000, interval: 100 });
    expect(await metric('tonegate_audit_syslog_up')).toBe(0);
    expect(await metric('tonegate_audit_syslog_queued')).toBeGreaterThan(0);
    await syslog.start();
    await vi.waitFor(() => expect(received().length).toBe(fileLines().length), { timeout: 15_000, interval: 200 });
    expect(received().map((r) => r.json)).toEqual(fileLines());
    expect(await health()).toMatchObject({ status: 'ok', details: { auditSyslog: { connected: true, queued: 0 } } });
    expect(await metric('tonegate_audit_syslog_up')).toBe(1);
  });

  it('npm run audit:verify checks the keyed file with --key-file and refuses it without the key', () => {
    const script = resolve(import.meta.dirname, '../../../scripts/audit-verify.ts');
    const tsx = resolve(import.meta.dirname, '../../../node_modules/.bin/tsx');
    expect(execFileSync(tsx, [script, auditFile, '--key-file', keyFile]).toString()).toMatch(/^OK .* chain intact \(HMAC-SHA256, key checked\)/);
    let out = '';
    try {
      execFileSync(tsx, [script, auditFile], { env: { ...process.env, AUDIT_KEY_FILE: '' } });
    } catch (err) {
      out = (err as { stdout: Buffer }).stdout.toString();
    }
    expect(out).toMatch(/^BROKEN .*line 1: entry is keyed/);
  });

  it('a collector whose certificate is not signed by AUDIT_SYSLOG_CA_FILE gets nothing; the file still records', async () => {
    const other = TestCa.create('someone else');
    const leaf = other.issue();
    const rogue = await RsyslogServer.start({ caFile: other.certFile, certFile: leaf.certFile, keyFile: leaf.keyFile });
    const file2 = join(dir, 'audit2.jsonl');
    const { gw: gw2 } = await startTestGateway({ AUDIT_KEY_FILE: keyFile, AUDIT_SYSLOG_URL: rogue.url, AUDIT_SYSLOG_CA_FILE: ca.certFile }, { config: { AUDIT_LOG: file2 } });
    try {
      const r = await fetch(`http://127.0.0.1:${gw2.httpPort}/api/agents/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"agentId":"agent-1","password":"nope"}' });
      expect(r.status).toBe(401);
      await new Promise((res) => setTimeout(res, 1500));
      expect(rogue.lines()).toEqual([]);
      // The lockout's signin.failure and the request's agent.login, both kept in the file.
      expect(readFileSync(file2, 'utf8').trim().split('\n').map((l) => (JSON.parse(l) as { action: string }).action)).toEqual(['signin.failure', 'agent.login']);
    } finally {
      await gw2.close();
      await rogue.stop();
    }
  });
});

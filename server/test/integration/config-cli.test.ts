import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/load.js';
import { verifyPassword } from '../../src/security/credentials.js';

/** The deployer's command-line tools, run as `npm run` runs them (tsx scripts/...). */
const REPO = fileURLToPath(new URL('../../..', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'tg-cli-'));
const run = (script: string, args: string[], input?: string) => {
  // A clean environment: the caller's TONEGATE_* or secrets must not leak into the check.
  const env = { PATH: process.env['PATH'] ?? '', HOME: process.env['HOME'] ?? '' };
  const r = spawnSync(process.execPath, ['--import', 'tsx', script, ...args], { cwd: REPO, env, input: input ?? '', encoding: 'utf8', timeout: 30_000 });
  return { code: r.status, out: r.stdout, err: r.stderr };
};

describe('npm run config:check -- FILE', () => {
  it('config/example.yaml is OK (exit 0)', () => {
    const r = run('scripts/config-check.ts', ['config/example.yaml']);
    expect(r.code).toBe(0);
    expect(r.out).toBe('OK config/example.yaml (mode demo)\n');
  });

  it('a broken file exits 1 with one line per problem, each naming the key', () => {
    const p = join(dir, 'broken.yaml');
    writeFileSync(p, 'sip:\n  port: 0\nhttp:\n  prot: 80\nsupervisorToken: abcdefabcdefabcdefab\n');
    const r = run('scripts/config-check.ts', [p]);
    expect(r.code).toBe(1);
    const lines = r.out.trim().split('\n');
    expect(lines).toEqual([
      expect.stringMatching(/^supervisorToken: is a secret .*SUPERVISOR_TOKEN_FILE/),
      expect.stringMatching(/^sip\.port: /),
      'http.prot: unknown key',
    ]);
    expect(r.out).not.toContain('abcdef');
  });

  it('a production file checked without its secrets lists what the start would refuse', () => {
    const p = join(dir, 'prod.yaml');
    writeFileSync(p, 'mode: production\nsip:\n  trustedPeers: [10.0.0.0/8]\nprovider:\n  url: https://pg.example.com/v1\n');
    const r = run('scripts/config-check.ts', [p]);
    expect(r.code).toBe(1);
    expect(r.out.trim().split('\n').map((l) => l.slice(0, l.indexOf(':')))).toEqual(['TLS_CERT_FILE', 'TLS_KEY_FILE', 'AGENTS', 'SUPERVISOR_TOKEN', 'HANDOFF_API_KEY', 'HANDOFF_HMAC_KEY', 'AUDIT_KEY']);
  });

  it('a bad number plan exits 1 with one line per bad entry, naming entry and field', () => {
    const p = join(dir, 'plan.yaml');
    writeFileSync(p, [
      'routing:',
      '  numbers:',
      "    - { number: '+912240000000', kind: pay }",
      "    - { number: '02240000000', kind: support }",
      "    - { prefix: '+91x', kind: support }",
      "    - { number: '+912240000003', kind: support, profile: uui }",
      "    - { pattern: '(', kind: agent, agent: agent-2 }",
      '',
    ].join('\n'));
    const r = run('scripts/config-check.ts', [p]);
    expect(r.code).toBe(1);
    expect(r.out.trim().split('\n')).toEqual([
      `routing.numbers (${p}).1.number: repeats entry 0 (+912240000000)`,
      `routing.numbers (${p}).2.prefix: "+91x" is not the start of a number (+<digits> or national form)`,
      `routing.numbers (${p}).3.profile: only kind pay reads a handoff profile, not kind support`,
      expect.stringMatching(new RegExp(`^routing\\.numbers \\(${p.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}\\)\\.4\\.pattern: is not a regular expression`)),
    ]);
  });

  it('a pay entry whose profile file is missing, or whose signature key is not set, is named as the start would', () => {
    const p = join(dir, 'plan-profiles.yaml');
    writeFileSync(p, "routing:\n  numbers:\n    - { number: '+912240000000', kind: pay, profile: nope }\n    - { number: '+912240000001', kind: pay, profile: uui }\n");
    const r = run('scripts/config-check.ts', [p]);
    expect(r.code).toBe(1);
    expect(r.out.trim().split('\n')).toEqual([
      expect.stringMatching(/^routing\.numbers\.0\.profile: cannot read SIP profile .*nope\.json/),
      'routing.numbers.1.profile: SIP profile uui requires signatures but HANDOFF_HMAC_KEY is not set',
    ]);
  });

  it('without a file it prints its usage and exits 2', () => {
    const r = run('scripts/config-check.ts', []);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/usage: npm run config:check -- FILE/);
  });
});

describe('npm run credential:hash -- ID', () => {
  it('prints an AGENTS entry for the password on standard input, which the login and the config accept', () => {
    const r = run('scripts/hash-credential.ts', ['agent-7', '--realm', 'cc.example'], 'a long enough password\n');
    expect(r.code).toBe(0);
    const line = r.out.trim();
    expect(line).toMatch(/^agent-7:\$tg1\$/);
    expect(line).not.toContain('long enough');
    expect(verifyPassword('a long enough password', line.slice('agent-7:'.length))).toBe(true);
    const c = loadConfig({ AGENTS: line, SIP_REALM: 'cc.example' });
    expect(c.AGENTS).toEqual([{ id: 'agent-7', password: line.slice('agent-7:'.length) }]);
  });

  it('refuses a password under 12 characters (exit 1)', () => {
    const r = run('scripts/hash-credential.ts', ['agent-7'], 'short\n');
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/at least 12 characters/);
    expect(r.out).toBe('');
  });
});

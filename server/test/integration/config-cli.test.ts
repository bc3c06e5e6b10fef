import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../src/config/load.js';
import { parseHashed, verifyPassword } from '../../src/security/credentials.js';
import { base32Decode } from '../../src/security/totp.js';
import { PRODUCTION_SMS_YAML } from '../support/production-sms.js';

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
    writeFileSync(p, `mode: production\nsip:\n  trustedPeers: [10.0.0.0/8]\nprovider:\n  url: https://pg.example.com/v1\n${PRODUCTION_SMS_YAML}`);
    const r = run('scripts/config-check.ts', [p]);
    expect(r.code).toBe(1);
    expect(r.out.trim().split('\n').map((l) => l.slice(0, l.indexOf(':')))).toEqual(['TLS_CERT_FILE', 'TLS_KEY_FILE', 'AGENTS', 'SUPERVISORS', 'HANDOFF_API_KEY', 'HANDOFF_HMAC_KEY', 'AUDIT_KEY']);
    // Without its sms: section the OTP (otp.mode gateway-sms, the default) would go out on the demo DLT registration.
    writeFileSync(p, 'mode: production\nsip:\n  trustedPeers: [10.0.0.0/8]\nprovider:\n  url: https://pg.example.com/v1\n');
    const without = run('scripts/config-check.ts', [p]).out.trim().split('\n');
    expect(without.map((l) => l.slice(0, l.indexOf(':')))).toEqual(['TLS_CERT_FILE', 'TLS_KEY_FILE', 'AGENTS', 'SUPERVISORS', 'HANDOFF_API_KEY', 'HANDOFF_HMAC_KEY', 'AUDIT_KEY', 'sms']);
    expect(without.at(-1)).toMatch(/^sms: required in production with otp\.mode gateway-sms: /);
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

describe('npm run credential:hash -- --supervisor NAME', () => {
  it('prints a SUPERVISORS entry name:$tg1$...:SECRET with a new 160-bit TOTP secret and no digest HA1; production accepts it', () => {
    const r = run('scripts/hash-credential.ts', ['--supervisor', 'asha'], 'a long supervisor password\n');
    expect(r.code).toBe(0);
    const line = r.out.trim();
    const m = /^asha:(\$tg1\$[^:]+):([A-Z2-7]+)$/.exec(line);
    expect(m, line).not.toBeNull();
    expect(line).not.toContain('supervisor password');
    expect(verifyPassword('a long supervisor password', m![1]!)).toBe(true);
    expect(verifyPassword('another password entirely', m![1]!)).toBe(false);
    expect(parseHashed(m![1]!)!.ha1).toEqual({ 'MD5': '0'.repeat(32), 'SHA-256': '0'.repeat(64) });
    expect(base32Decode(m![2]!)).toHaveLength(20);
    expect(r.err).toContain(`otpauth://totp/tonegate:asha?secret=${m![2]}&issuer=tonegate`);
    const c = loadConfig({ SUPERVISORS: line });
    expect(c.SUPERVISORS).toEqual([{ name: 'asha', password: m![1], secret: base32Decode(m![2]!) }]);
    // Production names no SUPERVISORS problem for it (the other missing items are named).
    let problems: string[] = [];
    try {
      loadConfig({ TONEGATE_MODE: 'production', SUPERVISORS: line });
    } catch (err) {
      problems = (err as ConfigError).issues;
    }
    expect(problems.length).toBeGreaterThan(0);
    expect(problems.filter((l) => l.startsWith('SUPERVISORS'))).toEqual([]);
    // The entry is no agent credential: without an HA1 anyone could answer its digest challenge.
    expect(() => loadConfig({ AGENTS: `agent-7:${m![1]}` })).toThrow(/agent-7.*--supervisor/);
  });

  it('keeps a TOTP secret given with --totp-secret and refuses a bad one (exit 2)', () => {
    const r = run('scripts/hash-credential.ts', ['--supervisor', 'ravi', '--totp-secret', 'jbswy3dpehpk3pxp'], 'a long supervisor password\n');
    expect(r.code).toBe(0);
    expect(r.out.trim()).toMatch(/^ravi:\$tg1\$[^:]+:JBSWY3DPEHPK3PXP$/);
    const bad = run('scripts/hash-credential.ts', ['--supervisor', 'ravi', '--totp-secret', 'not base32!'], 'a long supervisor password\n');
    expect(bad.code).toBe(2);
    expect(bad.out).toBe('');
  });
});

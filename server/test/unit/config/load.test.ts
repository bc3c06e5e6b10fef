import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { configProblems, yamlFiles } from './config-problems.js';
import { loadConfig } from '../../../src/config/load.js';
import { hashCredential } from '../../../src/security/credentials.js';

const { dir, file } = yamlFiles('config');
const problems = configProblems;

describe('loadConfig: environment only (unchanged behaviour)', () => {
  it('an empty environment gives demo mode with the documented defaults', () => {
    const c = loadConfig({});
    expect(c).toMatchObject({ TONEGATE_MODE: 'demo', SIP_HOST: '127.0.0.1', SIP_PORT: 5060, SIP_TLS_PORT: 5061, HTTP_PORT: 8080, TLS_SELF_SIGNED: false });
    expect(c.SRTP).toBeUndefined(); // off in demo mode; production decides per peer (sdp/crypto.ts srtpPolicyFor)
    expect(c.TRUSTED_PEERS).toEqual([]);
    expect(c.AGENTS.map((a) => a.id)).toEqual(['agent-1', 'agent-2', 'agent-3']);
    expect(c.MAX_CALLS).toBeUndefined();
    expect(c.capture).toBeUndefined();
  });

  it('a bad variable is named, one line per problem', () => {
    expect(problems({ SIP_PORT: 'x', SRTP: 'maybe', MAX_CALLS: '0' })).toEqual([
      expect.stringMatching(/^SIP_PORT: /),
      expect.stringMatching(/^SRTP: /),
      expect.stringMatching(/^MAX_CALLS: /),
    ]);
  });

  it('TRUSTED_PEERS is parsed into CIDRs and normalized certificate fingerprints', () => {
    const fp = 'ab'.repeat(32);
    const c = loadConfig({ TRUSTED_PEERS: `10.0.0.0/8, 192.0.2.7 ,fd00::/8,sha256:${fp}` });
    expect(c.TRUSTED_PEERS).toEqual([
      { kind: 'cidr', text: '10.0.0.0/8', family: 4, address: '10.0.0.0', prefix: 8 },
      { kind: 'cidr', text: '192.0.2.7', family: 4, address: '192.0.2.7', prefix: 32 },
      { kind: 'cidr', text: 'fd00::/8', family: 6, address: 'fd00::', prefix: 8 },
      { kind: 'fingerprint', text: `sha256:${fp}`, sha256: Array(32).fill('AB').join(':') },
    ]);
  });

  it.each(['10.0.0.0/33', '10.0.0/8', 'example.com', 'sha256:AB:CD', 'fd00::/129', '10.0.0.0/8/1'])('TRUSTED_PEERS entry %s is refused, naming it', (bad) => {
    const p = problems({ TRUSTED_PEERS: `10.0.0.0/8,${bad}` });
    expect(p).toHaveLength(1);
    expect(p[0]).toMatch(/^TRUSTED_PEERS\.1: /);
    expect(p[0]).toContain(bad);
  });

  it('TLS_CERT_FILE without TLS_KEY_FILE, and METRICS_HOST without METRICS_PORT, are refused', () => {
    expect(problems({ TLS_CERT_FILE: '/x.pem' })).toEqual([expect.stringMatching(/^TLS_KEY_FILE: .*go together/)]);
    expect(problems({ METRICS_HOST: '127.0.0.1' })).toEqual([expect.stringMatching(/^METRICS_PORT: .*go together/)]);
  });
});

describe('loadConfig: the configuration file (TONEGATE_CONFIG)', () => {
  it('reads nested keys into the settings, and an environment variable overrides the file', () => {
    const p = file('mode: demo\nsip:\n  port: 5070\n  trustedPeers: [10.1.0.0/16]\nhttp:\n  port: 8181\nlimits:\n  maxCalls: 40\nmedia:\n  srtp: offer\n');
    const c = loadConfig({ TONEGATE_CONFIG: p, HTTP_PORT: '9191' });
    expect(c).toMatchObject({ SIP_PORT: 5070, HTTP_PORT: 9191, MAX_CALLS: 40, SRTP: 'offer' });
    expect(c.TRUSTED_PEERS).toMatchObject([{ kind: 'cidr', address: '10.1.0.0', prefix: 16 }]);
  });

  it('a bad value is reported with its key path, one line per problem, and an unknown key is an error', () => {
    const p = file('sip:\n  port: 70000\n  prot: 1\nmedia:\n  srtp: sometimes\ncapture:\n  maxAttempts: 0\n');
    expect(problems({ TONEGATE_CONFIG: p })).toEqual([
      expect.stringMatching(/^sip\.port: /),
      'sip.prot: unknown key',
      expect.stringMatching(/^media\.srtp: /),
      expect.stringMatching(/^capture\.maxAttempts: /),
    ]);
  });

  it('a cross-field problem of file values names the file key', () => {
    const p = file('media:\n  rtpPortMin: 30000\n  rtpPortMax: 20000\n');
    expect(problems({ TONEGATE_CONFIG: p })).toEqual([expect.stringMatching(/^media\.rtpPortMin \(.*\): RTP_PORT_MIN must be below RTP_PORT_MAX/)]);
  });

  it('a YAML syntax error names the file, line and column', () => {
    const p = file('sip:\n  port: [5060\n');
    const out = problems({ TONEGATE_CONFIG: p });
    expect(out.length).toBeGreaterThan(0);
    expect(out[0]).toMatch(new RegExp(`^${p}:\\d+:\\d+ `));
  });

  it('a missing file is named through TONEGATE_CONFIG', () => {
    expect(problems({ TONEGATE_CONFIG: join(dir, 'nope.yaml') })).toEqual([expect.stringMatching(/^TONEGATE_CONFIG: cannot read .*nope\.yaml \(ENOENT\)/)]);
  });

  it.each([
    ['agents: "a:b"', 'agents', 'AGENTS'],
    ['http:\n  supervisorToken: abcdefabcdefabcdef', 'http.supervisorToken', 'SUPERVISOR_TOKEN'],
    ['handoff_api_key: abcdefabcdefabcdef', 'handoff_api_key', 'HANDOFF_API_KEY'],
    ['sip:\n  hmacKey: abcdefabcdefabcdef', 'sip.hmacKey', 'HANDOFF_HMAC_KEY'],
    ['provider:\n  password: hunter2hunter2', 'provider.password', '<NAME>_FILE'],
    ['store:\n  redisUrl: redis://:pw@127.0.0.1:6379', 'store.redisUrl', 'REDIS_URL_FILE'],
  ])('a secret in the file (%s) is an error naming the key and where the secret belongs', (yaml, key, where) => {
    const out = problems({ TONEGATE_CONFIG: file(`${yaml}\n`) });
    expect(out).toHaveLength(1);
    expect(out[0]!.startsWith(`${key}: `)).toBe(true);
    expect(out[0]).toContain(where);
    expect(out[0]).not.toMatch(/abcdef|hunter2|:pw@/);
  });

  it('capture policy is read from the file', () => {
    const p = file('capture:\n  maxAttempts: 2\n  merchants:\n    M1: { firstDigitSeconds: 4, allowedBrands: [rupay] }\n');
    expect(loadConfig({ TONEGATE_CONFIG: p }).capture).toEqual({ maxAttempts: 2, merchants: { M1: { firstDigitSeconds: 4, allowedBrands: ['rupay'] } } });
  });
});

describe('loadConfig: secrets from <NAME>_FILE (Docker secrets)', () => {
  it('reads the file and trims one trailing newline', () => {
    const p = join(dir, 'sup');
    writeFileSync(p, 'a-supervisor-token-of-some-length\n');
    expect(loadConfig({ SUPERVISOR_TOKEN_FILE: p }).SUPERVISOR_TOKEN).toBe('a-supervisor-token-of-some-length');
  });

  it('both NAME and NAME_FILE, an unreadable file and an empty file are errors naming the variable', () => {
    const empty = join(dir, 'empty');
    writeFileSync(empty, '\n');
    expect(problems({ HANDOFF_API_KEY: 'x'.repeat(20), HANDOFF_API_KEY_FILE: empty, HANDOFF_HMAC_KEY_FILE: join(dir, 'missing'), METRICS_TOKEN_FILE: empty })).toEqual([
      'HANDOFF_API_KEY: set either HANDOFF_API_KEY or HANDOFF_API_KEY_FILE, not both',
      expect.stringMatching(/^HANDOFF_HMAC_KEY_FILE: cannot read .*missing \(ENOENT\)$/),
      expect.stringMatching(/^METRICS_TOKEN_FILE: .* is empty$/),
    ]);
  });

  it('a secret from a file that fails validation is named by its _FILE variable, without its value', () => {
    const p = join(dir, 'short');
    writeFileSync(p, 'tooshort\n');
    const out = problems({ SUPERVISOR_TOKEN_FILE: p });
    expect(out).toEqual([expect.stringMatching(/^SUPERVISOR_TOKEN_FILE: /)]);
    expect(out[0]).not.toContain('tooshort');
  });
});

describe('loadConfig: production requirements', () => {
  it('production with nothing set names every missing item, one line each', () => {
    const out = problems({ TONEGATE_MODE: 'production' });
    expect(out.map((l) => l.slice(0, l.indexOf(':')))).toEqual(['TLS_CERT_FILE', 'TLS_KEY_FILE', 'AGENTS', 'SUPERVISORS', 'HANDOFF_API_KEY', 'HANDOFF_HMAC_KEY', 'TRUSTED_PEERS', 'PAYMENT_API_URL', 'AUDIT_KEY', 'sms']);
  });

  const SMS_OWN = "sms:\n  peId: '1201000000000000001'\n  header: SHOPIN\n  templates:\n    otp:\n      en: { templateId: '1207000000000000001', text: '{#var#} is your OTP. - Shop', vars: [otp] }\n    receipt:\n      en: { templateId: '1207000000000000002', text: 'Paid, card {#var#}. - Shop', vars: [last4] }\n";
  const SMS_DEMO = SMS_OWN.replace('1201000000000000001', '1101159876543210987');
  const NEEDS = 'the configuration file\'s sms: section with your DLT PE ID, header and templates (the demo registration\'s messages are scrubbed)';
  it.each<[string, Record<string, string>, string, string[]]>([
    ['the default otp.mode (gateway-sms) without sms:', {}, '', [`sms: required in production with otp.mode gateway-sms: ${NEEDS}`]],
    ['issuer OTP, no receipts: nothing is texted, no sms: needed', { OTP_MODE: 'issuer' }, '', []],
    ['one merchant on gateway-sms', { OTP_MODE: 'issuer', OTP_MODE_MERCHANTS: 'M-1:none, M-2:gateway-sms,M-3:gateway-sms' }, '', [`sms: required in production with otp.merchants M-2, M-3: gateway-sms: ${NEEDS}`]],
    ['receipt SMS with no OTP SMS', { OTP_MODE: 'none', RECEIPT_SMS: 'on' }, '', [`sms: required in production with receipts.sms on: ${NEEDS}`]],
    ['every user named', { OTP_MODE_MERCHANTS: 'M-2:gateway-sms', RECEIPT_SMS: 'on' }, '', [`sms: required in production with otp.mode gateway-sms, otp.merchants M-2: gateway-sms, receipts.sms on: ${NEEDS}`]],
    ['the demo PE ID in sms:', { RECEIPT_SMS: 'on' }, SMS_DEMO, ['sms.peId: 1101159876543210987 is the demo DLT registration, refused in production; give your own PE ID, header and templates']],
    ['its own registration', { RECEIPT_SMS: 'on' }, SMS_OWN, []],
    ['demo mode keeps the demo registration without a word', { TONEGATE_MODE: 'demo', RECEIPT_SMS: 'on' }, '', []],
  ])('production and SMS under DLT: %s', (_name, env, yaml, expected) => {
    const p = file(`mode: production\n${yaml}`);
    expect(problems({ TONEGATE_CONFIG: p, ...env }).filter((l) => l.startsWith('sms'))).toEqual(expected);
  });

  it('plain supervisor passwords are refused in production with one line naming SUPERVISORS; hashed ones pass; REQUIRE_SIGNATURE_V2=false is refused', () => {
    const secret = 'JBSWY3DPEHPK3PXPJBSWY3DP';
    const hashed = hashCredential('asha', 'tonegate', 'a long supervisor password', undefined, { digest: false });
    const out = problems({ TONEGATE_MODE: 'production', SUPERVISORS: `asha:${hashed}:${secret},ravi:plain supervisor pw:${secret},mei:another plain pw:${secret}`, REQUIRE_SIGNATURE_V2: 'false' });
    const lines = out.filter((l) => l.startsWith('SUPERVISORS'));
    expect(lines).toEqual(['SUPERVISORS: ravi, mei have plain passwords; production takes hashed entries only (npm run credential:hash -- --supervisor <name>)']);
    expect(out.join('\n')).not.toMatch(/plain supervisor pw|another plain pw/);
    expect(out).toContain('REQUIRE_SIGNATURE_V2: production always requires v2 handoff signatures; unset it');
    expect(problems({ TONEGATE_MODE: 'production', SUPERVISORS: `asha:${hashed}:${secret}` }).filter((l) => /^(SUPERVISORS|SUPERVISOR_TOKEN|REQUIRE_SIGNATURE_V2)/.test(l))).toEqual([]);
  });

  it('plain-password agents, an http: provider and DEMO_OTP are refused in production', () => {
    const hashed = hashCredential('agent-9', 'tonegate', 'long-enough-password');
    const out = problems({ TONEGATE_MODE: 'production', AGENTS: `agent-9:${hashed},agent-8:plain-password-here`, PAYMENT_API_URL: 'http://pg.example.com', DEMO_OTP: '123456' });
    expect(out).toContain('AGENTS: agent-8 has a plain password; production takes hashed entries only (npm run credential:hash -- <id>)');
    expect(out).toContain('PAYMENT_API_URL: must be an https: URL in production');
    expect(out).toContain('DEMO_OTP: demo only; unset it in production');
    expect(out.join('\n')).not.toContain('plain-password-here');
  });

  it('a hashed entry made for another realm is refused in any mode', () => {
    const hashed = hashCredential('agent-9', 'other', 'long-enough-password');
    expect(problems({ AGENTS: `agent-9:${hashed}` })).toEqual(['AGENTS: agent-9 was hashed for realm "other" but SIP_REALM is "tonegate"; hash it again with --realm']);
  });

  it('a malformed hashed entry is refused', () => {
    expect(problems({ AGENTS: 'agent-9:$tg1$abc' })).toEqual([expect.stringMatching(/^AGENTS: entry "agent-9" looks like a hashed credential but is malformed/)]);
  });
});

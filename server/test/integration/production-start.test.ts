import { randomBytes } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hashCredential } from '../../src/security/credentials.js';
import { base32Encode, totp } from '../../src/security/totp.js';
import { GatewayChild } from '../support/gateway-process.js';
import { freePort } from '../../devtools/ports.js';
import { TestCa, type TlsResponse } from '../support/tls-certs.js';
import { PRODUCTION_SMS_YAML } from '../support/production-sms.js';

/**
 * Production mode (docs/security.md, "Production mode"): the real gateway process, as `npm start`
 * runs it, refuses to start without each required item, naming the variable, and a complete
 * production configuration, built by `npm run build` and run as `npm run start:production` runs it
 * (node server/dist/main.js), starts without tsx, demo routes, source maps or a printed secret.
 */
const REPO = fileURLToPath(new URL('../../..', import.meta.url));
/** Every file below `dir`, as paths relative to it. */
const filesBelow = (dir: string): string[] => readdirSync(dir, { recursive: true, withFileTypes: true }).filter((e) => e.isFile()).map((e) => join(e.parentPath, e.name));
const dir = mkdtempSync(join(tmpdir(), 'tg-prod-'));
const AGENT_PASSWORD = 'agent seven long password';
const SUPERVISOR_PASSWORD = 'supervisor asha long password';
const TOTP_SECRET = randomBytes(20);
const SECRETS = {
  SUPERVISOR_TOKEN: 'sup-6f1c2a9e0b7d4c3a8e5f',
  HANDOFF_API_KEY: 'hak-3d9b7e1f5a2c8e4b6d0a',
  HANDOFF_HMAC_KEY: 'hmac-8c2e4a6b0d1f3e5a7c9b',
};
let complete: Record<string, string>;
const ca = TestCa.create();

beforeAll(async () => {
  // A test CA and the gateway's certificate for 127.0.0.1, made by the real openssl.
  ca.issue('127.0.0.1', { certFile: join(dir, 'cert.pem'), keyFile: join(dir, 'key.pem') });
  // The supervisor token comes through the Docker secrets convention (NAME_FILE, trailing newline trimmed).
  writeFileSync(join(dir, 'supervisor_token'), `${SECRETS.SUPERVISOR_TOKEN}\n`);
  writeFileSync(join(dir, 'audit_key'), `${randomBytes(32).toString('hex')}\n`);
  // Named supervisors, hashed (npm run credential:hash -- --supervisor asha), from SUPERVISORS_FILE.
  writeFileSync(join(dir, 'supervisors'), `asha:${hashCredential('asha', 'tonegate', SUPERVISOR_PASSWORD, undefined, { digest: false })}:${base32Encode(TOTP_SECRET)}\n`);
  // The deployment's own DLT registration (docs/operations.md, "SMS under DLT"): the OTP is texted (otp.mode gateway-sms).
  writeFileSync(join(dir, 'tonegate.yaml'), PRODUCTION_SMS_YAML);
  const rtp = 36000 + 2 * Math.floor(Math.random() * 1500);
  complete = {
    TONEGATE_CONFIG: join(dir, 'tonegate.yaml'),
    TONEGATE_MODE: 'production',
    TLS_CERT_FILE: join(dir, 'cert.pem'),
    TLS_KEY_FILE: join(dir, 'key.pem'),
    TEST_CA_FILE: ca.certFile,
    AGENTS: `agent-7:${hashCredential('agent-7', 'tonegate', AGENT_PASSWORD)}`,
    SUPERVISOR_TOKEN_FILE: join(dir, 'supervisor_token'),
    SUPERVISORS_FILE: join(dir, 'supervisors'),
    HANDOFF_API_KEY: SECRETS.HANDOFF_API_KEY,
    HANDOFF_HMAC_KEY: SECRETS.HANDOFF_HMAC_KEY,
    TRUSTED_PEERS: '127.0.0.1/32',
    PAYMENT_API_URL: 'https://127.0.0.1:9/pg',
    SIP_PORT: String(await freePort()),
    SIP_TLS_PORT: String(await freePort()),
    HTTP_PORT: String(await freePort()),
    METRICS_HOST: '127.0.0.1',
    METRICS_PORT: String(await freePort()),
    RTP_PORT_MIN: String(rtp),
    RTP_PORT_MAX: String(rtp + 99),
    MEDIA_WORKERS: '1',
    AUDIT_LOG: join(dir, 'audit.jsonl'),
    AUDIT_KEY_FILE: join(dir, 'audit_key'),
  };
});

/** The same file with the demo registration's PE ID, which production refuses. */
const demoSmsFile = (): string => {
  writeFileSync(join(dir, 'demo-sms.yaml'), PRODUCTION_SMS_YAML.replace(/peId: "\d+"/, 'peId: "1101159876543210987"'));
  return join(dir, 'demo-sms.yaml');
};

const without = (name: string): Record<string, string> => {
  const env = { ...complete };
  delete env[name];
  return env;
};

/** The problem lines a refused start printed (`  NAME: ...` or `  file.key: ...` under "invalid configuration:"). */
const problemLines = (lines: string[]): string[] => lines.filter((l) => /^ {2}([A-Z_]+|[a-z][A-Za-z.]*): /.test(l)).map((l) => l.trim());

describe('production mode refuses to start, naming what is missing', () => {
  it.each([
    ['TLS_CERT_FILE', () => without('TLS_CERT_FILE')],
    ['TLS_KEY_FILE', () => without('TLS_KEY_FILE')],
    ['TLS_CERT_FILE', () => ({ ...complete, TLS_CERT_FILE: join(dir, 'no-such-cert.pem') })],
    ['AGENTS', () => without('AGENTS')],
    ['AGENTS', () => ({ ...complete, AGENTS: 'agent-7:a-plain-password-here' })],
    ['SUPERVISORS', () => without('SUPERVISORS_FILE')],
    ['SUPERVISORS', () => ({ ...without('SUPERVISORS_FILE'), SUPERVISORS: `asha:${SUPERVISOR_PASSWORD}:${base32Encode(TOTP_SECRET)}` })],
    ['HANDOFF_API_KEY', () => without('HANDOFF_API_KEY')],
    ['HANDOFF_HMAC_KEY', () => without('HANDOFF_HMAC_KEY')],
    ['TRUSTED_PEERS', () => without('TRUSTED_PEERS')],
    ['PAYMENT_API_URL', () => without('PAYMENT_API_URL')],
    ['PAYMENT_API_URL', () => ({ ...complete, PAYMENT_API_URL: 'http://127.0.0.1:9/pg' })],
    ['AUDIT_KEY', () => without('AUDIT_KEY_FILE')],
    ['sms', () => without('TONEGATE_CONFIG')],
    ['sms.peId', () => ({ ...complete, TONEGATE_CONFIG: demoSmsFile() })],
  ])('without a valid %s it exits non-zero with one line naming it', async (name, env) => {
    const { code, lines } = await GatewayChild.runUntilExit(env());
    expect(code).not.toBe(0);
    expect(code).not.toBeNull();
    const problems = problemLines(lines);
    expect(problems).toHaveLength(1);
    expect(problems[0]!.startsWith(`${name}: `)).toBe(true);
    const all = lines.join('\n');
    for (const s of [...Object.values(SECRETS), AGENT_PASSWORD, SUPERVISOR_PASSWORD, base32Encode(TOTP_SECRET), 'a-plain-password-here']) expect(all).not.toContain(s);
    expect(all).not.toMatch(/running/);
  }, 40_000);
});

describe('a complete production configuration, compiled', () => {
  let gw: GatewayChild;
  beforeAll(async () => {
    // The README's production build: server/dist (tsc, no source maps) and the widget bundle.
    execFileSync('npm', ['run', '-s', 'build'], { cwd: REPO, stdio: 'pipe' });
    gw = await GatewayChild.start(complete, { compiled: true });
  }, 180_000);
  afterAll(async () => {
    await gw?.stop();
  });

  it('starts, says production mode and prints no secret', () => {
    const out = gw.lines.join('\n');
    expect(out).toContain('tonegate is running (production mode)');
    for (const s of [...Object.values(SECRETS), AGENT_PASSWORD, complete['AGENTS']!.slice(9), SUPERVISOR_PASSWORD, base32Encode(TOTP_SECRET)]) expect(out).not.toContain(s);
  });

  it('runs the compiled JavaScript with node: no tsx in the process, its media worker up, no source map in the build', async () => {
    const cmdline = readFileSync(`/proc/${gw.child.pid}/cmdline`, 'utf8').split('\0');
    expect(cmdline.slice(1, 2)).toEqual(['server/dist/main.js']);
    // No module of tsx is mapped into the process (it would be, had anything loaded it).
    expect(readFileSync(`/proc/${gw.child.pid}/maps`, 'utf8')).not.toMatch(/tsx/);
    expect(gw.lines.join('\n')).not.toContain('from the TypeScript source');
    // The start waits for every media worker to answer (media/plane.ts ready()): a worker that could
    // not load its compiled entry would have failed it.
    const health = (await (await gw.fetch('/healthz')).json()) as { status: string };
    expect(health.status).toBe('ok');
    const built = filesBelow(join(REPO, 'server/dist'));
    expect(built.filter((f) => f.endsWith('.js')).length).toBeGreaterThan(100);
    expect(built.filter((f) => f.endsWith('.map') || f.endsWith('.ts'))).toEqual([]);
    expect(built.filter((f) => readFileSync(f, 'utf8').includes('sourceMappingURL'))).toEqual([]);
  });

  it('serves the widget bundle but not its source map', async () => {
    const assets = join(REPO, 'agent-widget/dist/assets');
    const map = readdirSync(assets).find((f) => f.startsWith('agent-') && f.endsWith('.js.map'));
    expect(map).toBeDefined();
    expect(existsSync(join(assets, map!))).toBe(true);
    expect((await gw.fetch(`/assets/${map!.slice(0, -'.map'.length)}`)).status).toBe(200);
    expect((await gw.fetch(`/assets/${map!}`)).status).toBe(404);
  });

  it.each(['/demo/sms', '/phone', '/agent-jssip'])('does not serve the demo route %s', async (path) => {
    const r = await gw.fetch(path);
    expect(r.status).toBe(404);
  });

  it('serves /metrics on the internal listener only', async () => {
    expect((await gw.fetch('/metrics')).status).toBe(404);
    const r = await fetch(`http://127.0.0.1:${complete['METRICS_PORT']}/metrics`);
    expect(r.status).toBe(200);
    expect(await r.text()).toMatch(/^# HELP /m);
  });

  it('an agent signs in with the password of its hashed entry, and the supervisor token from its _FILE works', async () => {
    const login = (password: string): Promise<TlsResponse> =>
      gw.fetch('/api/agents/login', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ agentId: 'agent-7', password }) });
    expect((await login('not the password at all')).status).toBe(401);
    expect((await login(AGENT_PASSWORD)).status).toBe(200);
    const sessions = await gw.fetch('/api/sessions', { headers: { authorization: `Bearer ${SECRETS.SUPERVISOR_TOKEN}` } });
    expect(sessions.status).toBe(200);
  });

  it('a named supervisor from SUPERVISORS_FILE (hashed password) signs in with password and TOTP code; a wrong password is 401', async () => {
    const login = (password: string): Promise<TlsResponse> =>
      gw.fetch('/api/supervisors/login', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ name: 'asha', password, code: totp(TOTP_SECRET, Date.now()) }) });
    expect((await login('not the supervisor password')).status).toBe(401);
    const ok = await login(SUPERVISOR_PASSWORD);
    expect(ok.status).toBe(200);
    const { token } = (await ok.json()) as { token: string };
    expect((await gw.fetch('/api/sessions', { headers: { authorization: `Bearer ${token}` } })).status).toBe(200);
  });
});

import { createHash, randomBytes } from 'node:crypto';
import { createSocket, type Socket } from 'node:dgram';
import { request } from 'node:https';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Gateway } from '../../src/gateway.js';
import { hashCredential } from '../../src/security/credentials.js';
import { base32Encode } from '../../src/security/totp.js';
import { sipvicious, wordList } from '../support/sipvicious.js';
import { startTestGateway, type LogSink } from '../support/gateway.js';
import { freePort } from '../../devtools/ports.js';
import { TestCa } from '../support/tls-certs.js';
import { PRODUCTION_SMS_YAML } from '../support/production-sms.js';

/**
 * Real attack tools against a gateway in production mode (docs/security.md, "Production mode" and
 * "Attacks tried"): the configuration production-start.test.ts proves complete, with the attacker
 * on 127.0.0.1 outside TRUSTED_PEERS (127.0.0.2 is the trusted PBX). SIPVicious OSS 0.3 from
 * Debian's `sipvicious` package (`svwar`, `svcrack`, `svmap`) and raw UDP probes.
 */
let gw: Gateway;
let logs: LogSink;
let sipPort: number;
let metricsPort: number;
const dir = mkdtempSync(join(tmpdir(), 'sipvicious-prod-'));
const AGENT = 'agent-7';
const AGENT_PASSWORD = 'agent-seven-long-password';
const SUPERVISOR_PASSWORD = 'supervisor asha long password';
const TOTP_SECRET = randomBytes(20);
const AUDIT_KEY = randomBytes(32).toString('hex');
const SECRETS = {
  SUPERVISOR_TOKEN: 'sup-6f1c2a9e0b7d4c3a8e5f',
  HANDOFF_API_KEY: 'hak-3d9b7e1f5a2c8e4b6d0a',
  HANDOFF_HMAC_KEY: 'hmac-8c2e4a6b0d1f3e5a7c9b',
};
const INVENTED = ['agent-8', 'agent-99', 'alice', 'admin', '100'];
const REGISTER_LIMIT = 10; // EDGE_LIMITS register:10/1s
const ca = TestCa.create();

beforeAll(async () => {
  ca.issue('127.0.0.1', { certFile: join(dir, 'cert.pem'), keyFile: join(dir, 'key.pem') });
  writeFileSync(join(dir, 'audit_key'), `${AUDIT_KEY}\n`);
  writeFileSync(join(dir, 'supervisors'), `asha:${hashCredential('asha', 'tonegate', SUPERVISOR_PASSWORD, undefined, { digest: false })}:${base32Encode(TOTP_SECRET)}\n`);
  writeFileSync(join(dir, 'tonegate.yaml'), PRODUCTION_SMS_YAML);
  metricsPort = await freePort();
  ({ gw, logs } = await startTestGateway({
    TONEGATE_CONFIG: join(dir, 'tonegate.yaml'),
    TONEGATE_MODE: 'production',
    TLS_CERT_FILE: join(dir, 'cert.pem'),
    TLS_KEY_FILE: join(dir, 'key.pem'),
    AGENTS: `${AGENT}:${hashCredential(AGENT, 'tonegate', AGENT_PASSWORD)}`,
    SUPERVISORS_FILE: join(dir, 'supervisors'),
    ...SECRETS,
    TRUSTED_PEERS: '127.0.0.2/32',
    PAYMENT_API_URL: 'https://127.0.0.1:9/pg',
    SIP_TLS_PORT: String(await freePort()),
    METRICS_HOST: '127.0.0.1',
    METRICS_PORT: String(metricsPort),
    AUDIT_KEY_FILE: join(dir, 'audit_key'),
    EDGE_LIMITS: `register:${REGISTER_LIMIT}/1s`,
  }));
  sipPort = gw.sipPort;
}, 60_000);
afterAll(async () => {
  await gw?.close();
});

const file = (name: string, lines: string[]): string => wordList(dir, name, lines);

async function udpSocket(address: string): Promise<{ sock: Socket; port: number }> {
  const sock = createSocket('udp4');
  await new Promise<void>((r) => sock.bind(0, address, () => r()));
  return { sock, port: sock.address().port };
}

/** One out-of-dialog request as raw SIP text (RFC 3261 8.1.1), from `from` (address:port). */
function requestText(method: 'INVITE' | 'REGISTER' | 'OPTIONS', user: string, from: string, extra: string[] = [], callId?: string, cseq = 1): string {
  const branch = `z9hG4bK-${randomBytes(6).toString('hex')}`;
  const msg = [
    `${method} sip:${user}@127.0.0.1:${sipPort} SIP/2.0`,
    `Via: SIP/2.0/UDP ${from};branch=${branch};rport`,
    `From: <sip:${user}@127.0.0.1>;tag=t${branch.slice(-6)}`,
    `To: <sip:${user}@127.0.0.1>`,
    `Call-ID: ${callId ?? branch}@probe`,
    `CSeq: ${cseq} ${method}`,
    `Contact: <sip:${user}@${from}>`,
    'Max-Forwards: 70',
    ...extra,
    ...(method === 'INVITE' ? ['Content-Type: application/sdp'] : []),
  ];
  const sdp = method === 'INVITE' ? `v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio 4000 RTP/AVP 0\r\n` : '';
  return `${msg.join('\r\n')}\r\nContent-Length: ${Buffer.byteLength(sdp)}\r\n\r\n${sdp}`;
}

/** The final answer (whole text) to one request sent from a fresh socket on `bind`. */
async function finalFor(method: 'INVITE' | 'REGISTER' | 'OPTIONS', user: string, opts: { bind?: string; extra?: string[]; callId?: string; cseq?: number } = {}): Promise<string> {
  const { sock, port } = await udpSocket(opts.bind ?? '127.0.0.1');
  const final = new Promise<string>((resolve, reject) => {
    const t = setTimeout(() => reject(new Error(`no final answer to ${method} ${user}`)), 5000);
    sock.on('message', (m) => {
      const text = m.toString();
      if (!/^SIP\/2\.0 1\d\d/.test(text)) {
        clearTimeout(t);
        resolve(text);
      }
    });
  });
  sock.send(requestText(method, user, `${opts.bind ?? '127.0.0.1'}:${port}`, opts.extra, opts.callId, opts.cseq), sipPort, '127.0.0.1');
  try {
    return await final;
  } finally {
    sock.close();
  }
}

const statusLine = (text: string): string => text.split('\r\n')[0]!;
const headers = (text: string, name: string): string[] =>
  text.split('\r\n\r\n')[0]!.split('\r\n').filter((l) => l.toLowerCase().startsWith(`${name.toLowerCase()}:`)).map((l) => l.slice(name.length + 1).trim());

/** GET over HTTPS, trusting only the test CA. */
function httpsGet(path: string, headers: Record<string, string> = {}): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port: gw.httpPort, path, ca: ca.cert, method: 'GET', headers }, (res) => {
      let body = '';
      res.on('data', (d: Buffer) => (body += d.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

const metrics = async (): Promise<string> => (await fetch(`http://127.0.0.1:${metricsPort}/metrics`)).text();
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('svwar (extension scanner) cannot tell the real agent id from invented ones', () => {
  it.each(['INVITE', 'REGISTER', 'OPTIONS'] as const)('every %s gets the same status line for the real and invented ids', async (method) => {
    const lines = new Set<string>();
    for (const user of [AGENT, ...INVENTED]) lines.add(statusLine(await finalFor(method, user)));
    // INVITE: 480 for an agent not registered as for an id that does not exist; REGISTER: 401; OPTIONS: 200.
    expect([...lines]).toEqual([{ INVITE: 'SIP/2.0 480 Temporarily Unavailable', REGISTER: 'SIP/2.0 401 Unauthorized', OPTIONS: 'SIP/2.0 200 OK' }[method]]);
  });

  it.each([
    ['INVITE', ['-m', 'INVITE']],
    ['REGISTER', ['--force']],
    ['OPTIONS', ['-m', 'OPTIONS']],
  ])('svwar -m %s over a dictionary of the real and invented ids lists none of them', async (m, extra) => {
    await sleep(1100); // a full REGISTER bucket (docs/security.md, "Limits at the edge")
    const before = gw.sip.stats().received;
    const out = await sipvicious('svwar', ['-d', file(`ids-${m}.txt`, [AGENT, ...INVENTED]), ...extra, `udp://127.0.0.1:${sipPort}`]);
    expect(gw.sip.stats().received, out).toBeGreaterThan(before); // it did talk to the gateway
    expect(out).not.toMatch(new RegExp(`\\|\\s*${AGENT}\\s*\\|`)); // its result table: extension | auth
    expect(out).toMatch(/found nothing/);
  });
});


type AuditEntry = { action: string; outcome?: string; source?: string; target?: { id?: string }; details?: { reason?: string; failures?: number } };
const auditEntries = (): AuditEntry[] => readFileSync(gw.config.AUDIT_LOG, 'utf8').trim().split('\n').filter(Boolean).map((l) => JSON.parse(l) as AuditEntry);
const sha256 = (s: string): string => createHash('sha256').update(s).digest('hex');
const md5 = (s: string): string => createHash('md5').update(s).digest('hex');
const param = (challenge: string, name: string): string => new RegExp(`${name}="?([^",]+)"?`).exec(challenge)![1]!;

/**
 * REGISTER, 401, then REGISTER with a digest response (RFC 7616 3.4.1, qop=auth) computed with
 * `hash` and labelled `algorithm` over `password`: the final answer to the second.
 */
async function registerWith(algorithm: 'SHA-256' | 'MD5', password: string): Promise<string> {
  const callId = randomBytes(6).toString('hex');
  const challenge = headers(await finalFor('REGISTER', AGENT, { callId }), 'WWW-Authenticate')[0]!;
  const hash = algorithm === 'MD5' ? md5 : sha256;
  const uri = `sip:${AGENT}@127.0.0.1:${sipPort}`;
  const [nonce, realm, opaque, cnonce, nc] = [param(challenge, 'nonce'), param(challenge, 'realm'), param(challenge, 'opaque'), randomBytes(8).toString('hex'), '00000001'];
  const response = hash(`${hash(`${AGENT}:${realm}:${password}`)}:${nonce}:${nc}:${cnonce}:auth:${hash(`REGISTER:${uri}`)}`);
  const authz = `Authorization: Digest username="${AGENT}", realm="${realm}", nonce="${nonce}", uri="${uri}", response="${response}", algorithm=${algorithm}, qop=auth, nc=${nc}, cnonce="${cnonce}", opaque="${opaque}"`;
  return finalFor('REGISTER', AGENT, { callId, cseq: 2, extra: [authz, 'Expires: 60'] });
}

describe('svcrack (digest password cracker) finds nothing: production challenges with SHA-256 only (RFC 8760)', () => {
  it('a REGISTER is challenged once, with algorithm=SHA-256 and qop="auth": no MD5 challenge', async () => {
    await sleep(1100);
    const res = await finalFor('REGISTER', AGENT);
    expect(statusLine(res)).toBe('SIP/2.0 401 Unauthorized');
    const challenges = headers(res, 'WWW-Authenticate');
    expect(challenges).toHaveLength(1);
    expect(challenges[0]).toMatch(/^Digest realm="tonegate", nonce="[^"]+", opaque="[^"]+", algorithm=SHA-256, qop="auth"$/);
    expect(res).not.toMatch(/MD5/i);
  });

  it('svcrack with the right password first in its word list finds nothing, sends no credentials, and the agent is not registered', async () => {
    await sleep(1100);
    const before = auditEntries().length;
    const out = await sipvicious('svcrack', ['-u', AGENT, '-d', file('pw.txt', [AGENT_PASSWORD, 'wrong-1', 'wrong-2']), `udp://127.0.0.1:${sipPort}`]);
    // SIPVicious 0.3 computes MD5 digests only: it gives up on the SHA-256 challenge.
    expect(out).toMatch(/Unknown algorithm: sha-256/);
    expect(out).toMatch(/found nothing/);
    expect(out).not.toMatch(new RegExp(`\\|\\s*${AGENT}\\s*\\|`));
    expect(gw.registrar.isRegistered(AGENT)).toBe(false);
    expect(auditEntries().slice(before).filter((e) => e.action.startsWith('signin.'))).toEqual([]); // no password was tried
  });

  it('the MD5 digest of the right password (what svcrack would send) is challenged again, registers nothing and is audited as a failed sign-in; a wrong SHA-256 one is 403 and audited too, with source 127.0.0.1', async () => {
    await sleep(1100);
    const md5Answer = await registerWith('MD5', AGENT_PASSWORD);
    expect(statusLine(md5Answer)).toBe('SIP/2.0 401 Unauthorized');
    expect(headers(md5Answer, 'WWW-Authenticate')).toEqual([expect.stringMatching(/algorithm=SHA-256, qop="auth"$/)]);
    expect(gw.registrar.isRegistered(AGENT)).toBe(false);
    const wrong = await registerWith('SHA-256', 'wrong-password-123');
    expect(statusLine(wrong)).toBe('SIP/2.0 403 Forbidden');
    expect(gw.registrar.isRegistered(AGENT)).toBe(false);
    // Both count towards the lockout of (agent, 127.0.0.1): the MD5 answer first, then the wrong password.
    const failures = auditEntries().filter((e) => e.action === 'signin.failure' && e.target?.id === AGENT);
    expect(failures.map((f) => [f.source, f.outcome, f.details?.failures])).toEqual([['127.0.0.1', 'denied', 1], ['127.0.0.1', 'denied', 2]]);
    expect(logs.lines.some((l) => l.includes('REGISTER answered in a digest algorithm not offered'))).toBe(true);
  });

  it('control: the right password with a SHA-256 digest registers the agent (the refusals above were not for a wrong password)', async () => {
    await sleep(1100);
    expect(statusLine(await registerWith('SHA-256', AGENT_PASSWORD))).toBe('SIP/2.0 200 OK');
    expect(gw.registrar.isRegistered(AGENT)).toBe(true);
    expect(auditEntries().some((e) => e.action === 'signin.success' && e.target?.id === AGENT && e.source === '127.0.0.1')).toBe(true);
  });
});

/** The value of one tonegate_refusals_total series on the internal metrics listener (0 when absent). */
async function refusals(reason: string): Promise<number> {
  const m = new RegExp(`^tonegate_refusals_total\\{reason="${reason}"\\} (\\d+)$`, 'm').exec(await metrics());
  return m ? Number(m[1]) : 0;
}

describe('per-source REGISTER rate (docs/security.md, "Limits at the edge"; RFC 3261 21.5.4, 20.33)', () => {
  it(`a burst of ${3 * REGISTER_LIMIT} REGISTERs from 127.0.0.1 gets 503 with Retry-After beyond ${REGISTER_LIMIT}; 127.0.0.2 is still challenged meanwhile`, async () => {
    await sleep(1100);
    const before = await refusals('register-rate');
    const { sock, port } = await udpSocket('127.0.0.1');
    const answers: string[] = [];
    sock.on('message', (m) => answers.push(m.toString()));
    for (let i = 0; i < 3 * REGISTER_LIMIT; i++) sock.send(requestText('REGISTER', AGENT, `127.0.0.1:${port}`), sipPort, '127.0.0.1');
    const other = await finalFor('REGISTER', AGENT, { bind: '127.0.0.2' });
    for (let i = 0; i < 50 && answers.length < 3 * REGISTER_LIMIT; i++) await sleep(50);
    sock.close();
    expect(answers).toHaveLength(3 * REGISTER_LIMIT);
    const refused = answers.filter((a) => statusLine(a) === 'SIP/2.0 503 Service Unavailable');
    const challenged = answers.filter((a) => statusLine(a) === 'SIP/2.0 401 Unauthorized');
    expect(refused.length + challenged.length).toBe(answers.length);
    // The bucket's burst, plus at most a token or two refilled (10/s) while the burst was sent.
    expect(challenged.length).toBeGreaterThanOrEqual(REGISTER_LIMIT);
    expect(challenged.length).toBeLessThanOrEqual(REGISTER_LIMIT + 2);
    for (const r of refused) expect(headers(r, 'Retry-After')).toEqual(['1']);
    expect(statusLine(other)).toBe('SIP/2.0 401 Unauthorized');
    expect(headers(other, 'WWW-Authenticate')[0]).toMatch(/algorithm=SHA-256/);
    expect((await refusals('register-rate')) - before).toBe(refused.length);
  });
});

describe('a payment INVITE from an untrusted source', () => {
  it('an unsigned INVITE sip:pay@ from 127.0.0.1 (outside TRUSTED_PEERS) gets 403 and holds no RTP port', async () => {
    const before = await refusals('untrusted-peer');
    const res = await finalFor('INVITE', 'pay');
    expect(statusLine(res)).toBe('SIP/2.0 403 Forbidden');
    expect(headers(res, 'Warning')).toEqual(['399 tonegate "this source may not start payments (TRUSTED_PEERS)"']);
    expect((await refusals('untrusted-peer')) - before).toBe(1);
    expect(auditEntries().some((e) => e.action === 'payment.refused' && e.source === '127.0.0.1' && e.details?.reason === 'untrusted-peer')).toBe(true);
    // The counts of /healthz are the supervisor's in production; it answers over HTTPS with the test CA's certificate.
    const health = await httpsGet('/healthz', { Authorization: `Bearer ${SECRETS.SUPERVISOR_TOKEN}` });
    expect(health.status).toBe(200);
    expect(JSON.parse(health.body)).toMatchObject({ status: 'ok', details: { payments: 0, calls: 0, rtpPorts: { allocated: 0 } } });
  });
});

describe('svmap (SIP scanner) and the HTTPS side see nothing usable', () => {
  it('svmap gets an OPTIONS answer that names no product or version: user agent unknown', async () => {
    const out = await sipvicious('svmap', ['-p', String(sipPort), '--debug', '127.0.0.1'], 30_000);
    expect(out).toMatch(new RegExp(`127\\.0\\.0\\.1:${sipPort}\\s*\\|\\s*unknown`));
    expect(out).toMatch(/SIP\/2\.0 200 OK/); // it did get an answer
    expect(out).not.toMatch(/\\r\\n(Server|User-Agent):/i);
    expect(out.toLowerCase()).not.toContain('tonegate');
  });

  it.each(['/demo/sms', '/phone', '/agent-jssip'])('the demo route %s is 404 over HTTPS', async (path) => {
    expect((await httpsGet(path)).status).toBe(404);
  });

  it('/metrics is 404 on the public HTTPS port (served on the internal listener only)', async () => {
    expect((await httpsGet('/metrics')).status).toBe(404);
  });

  it('/healthz over HTTPS tells an anonymous caller the status alone; the supervisor token and the internal listener get the counts', async () => {
    const anonymous = await httpsGet('/healthz');
    expect([200, 503]).toContain(anonymous.status);
    expect(Object.keys(JSON.parse(anonymous.body) as object)).toEqual(['status']);
    for (const wrong of ['Bearer not-a-token', `Bearer ${SECRETS.HANDOFF_API_KEY}`]) {
      expect(Object.keys(JSON.parse((await httpsGet('/healthz', { Authorization: wrong })).body) as object)).toEqual(['status']);
    }
    const supervisor = JSON.parse((await httpsGet('/healthz', { Authorization: `Bearer ${SECRETS.SUPERVISOR_TOKEN}` })).body) as { details: Record<string, unknown> };
    expect(supervisor.details).toMatchObject({ calls: expect.any(Number), registered: expect.any(Number), rtpPorts: expect.any(Object) });
    const internal = (await (await fetch(`http://127.0.0.1:${metricsPort}/healthz`)).json()) as { details: Record<string, unknown> };
    expect(internal.details).toMatchObject({ calls: expect.any(Number), registered: expect.any(Number), rtpPorts: expect.any(Object) });
  });
});

describe('what the attacks left behind', () => {
  it('no password, token or key is in the gateway log or the audit trail', () => {
    const text = `${logs.lines.join('\n')}\n${readFileSync(gw.config.AUDIT_LOG, 'utf8')}`;
    expect(logs.lines.length).toBeGreaterThan(0);
    for (const s of [AGENT_PASSWORD, SUPERVISOR_PASSWORD, ...Object.values(SECRETS), AUDIT_KEY, base32Encode(TOTP_SECRET)]) expect(text).not.toContain(s);
  });
});

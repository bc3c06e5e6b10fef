import { createSocket } from 'node:dgram';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Gateway } from '../../src/gateway.js';
import { sipvicious, wordList } from '../support/sipvicious.js';
import { startTestGateway } from '../support/gateway.js';
import { freePort } from '../../devtools/ports.js';
import { runSipp } from '../../devtools/sipp/run.js';

/**
 * Real attack tools against a real gateway (docs/security.md, "Attacks tried"): SIPVicious OSS
 * 0.3 from Debian's `sipvicious` package (`svwar`, `svcrack`, `svmap`, Python 3 scripts).
 */
let gw: Gateway;
let sipPort: number;
let api: string;
const dir = mkdtempSync(join(tmpdir(), 'sipvicious-'));
const REAL = ['agent-1', 'agent-2', 'agent-3'];
const INVENTED = ['agent-4', 'agent-99', 'alice', 'admin', '100'];

beforeAll(async () => {
  ({ gw } = await startTestGateway());
  sipPort = gw.sipPort;
  api = `http://127.0.0.1:${gw.httpPort}`;
});
afterAll(async () => {
  await gw?.close();
});

const file = (name: string, lines: string[]): string => wordList(dir, name, lines);

/** The status line the gateway answers to one out-of-dialog request for `user`, from a raw UDP socket. */
async function statusFor(method: 'INVITE' | 'REGISTER' | 'OPTIONS', user: string): Promise<string> {
  const sock = createSocket('udp4');
  await new Promise<void>((r) => sock.bind(0, '127.0.0.1', () => r()));
  const port = (sock.address() as { port: number }).port;
  const branch = `z9hG4bK-${Math.random().toString(36).slice(2)}`;
  const msg = [
    `${method} sip:${user}@127.0.0.1:${sipPort} SIP/2.0`,
    `Via: SIP/2.0/UDP 127.0.0.1:${port};branch=${branch};rport`,
    `From: <sip:${user}@127.0.0.1>;tag=t${branch.slice(-6)}`,
    `To: <sip:${user}@127.0.0.1>`,
    `Call-ID: ${branch}@probe`,
    `CSeq: 1 ${method}`,
    `Contact: <sip:${user}@127.0.0.1:${port}>`,
    'Max-Forwards: 70',
    ...(method === 'INVITE' ? ['Content-Type: application/sdp'] : []),
  ];
  const sdp = method === 'INVITE' ? `v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio 4000 RTP/AVP 0\r\n` : '';
  const text = `${msg.join('\r\n')}\r\nContent-Length: ${Buffer.byteLength(sdp)}\r\n\r\n${sdp}`;
  const final = new Promise<string>((resolve, reject) => {
    const t = setTimeout(() => reject(new Error(`no final answer to ${method} ${user}`)), 5000);
    sock.on('message', (m) => {
      const line = m.toString().split('\r\n')[0]!;
      if (!/^SIP\/2\.0 1\d\d/.test(line)) {
        clearTimeout(t);
        resolve(line);
      }
    });
  });
  sock.send(text, sipPort, '127.0.0.1');
  try {
    return await final;
  } finally {
    sock.close();
  }
}

describe('svwar (extension scanner) cannot tell real agent ids from invented ones', () => {
  it.each(['INVITE', 'REGISTER', 'OPTIONS'] as const)('every %s gets the same status line for real and invented ids', async (method) => {
    const lines = new Set<string>();
    for (const user of [...REAL, ...INVENTED]) lines.add(await statusFor(method, user));
    expect([...lines]).toHaveLength(1);
    // Answers carry the INVITE's 480 for agents who are not registered and for ids that do not exist.
    if (method === 'INVITE') expect([...lines][0]).toBe('SIP/2.0 480 Temporarily Unavailable');
  });

  it.each([
    ['INVITE', ['-m', 'INVITE']],
    ['REGISTER', ['--force']],
    ['OPTIONS', ['-m', 'OPTIONS']],
  ])('svwar -m %s over a dictionary of real and invented ids lists none of the real ones', async (_m, extra) => {
    const before = gw.sip.stats().received;
    const out = await sipvicious('svwar', ['-d', file(`ids-${_m}.txt`, [...REAL, ...INVENTED]), ...extra, `udp://127.0.0.1:${sipPort}`]);
    expect(gw.sip.stats().received, out).toBeGreaterThan(before); // it did talk to the gateway
    for (const id of REAL) expect(out).not.toMatch(new RegExp(`\\|\\s*${id}\\s*\\|`));
  });
});

describe('svcrack (digest password cracker) is locked out after 10 tries', () => {
  it('control: with the right password among its first guesses svcrack finds it (the tool works against this gateway)', async () => {
    const out = await sipvicious('svcrack', ['-u', 'agent-2', '-d', file('pw-short.txt', ['wrong-1', 'wrong-2', 'demo']), `udp://127.0.0.1:${sipPort}`]);
    expect(out).toMatch(/\|\s*agent-2\s*\|\s*demo\s*\|/); // its result table: extension | password
  });

  it('12 wrong guesses, then the right one: never found; the right password fails over SIP and HTTP until a supervisor unlocks', async () => {
    const guesses = [...Array.from({ length: 12 }, (_, i) => `guess-${i}`), 'demo'];
    const out = await sipvicious('svcrack', ['-u', 'agent-1', '-d', file('pw.txt', guesses), `udp://127.0.0.1:${sipPort}`]);
    expect(out).not.toMatch(/\|\s*agent-1\s*\|/);
    expect(out).toMatch(/found nothing/);
    // Right password over SIP (SIPp, digest MD5): 401 then 403.
    const sipp = await runSipp({ scenario: 'register-wrong.xml', target: `127.0.0.1:${sipPort}`, service: 'agent-1', localPort: await freePort(), timeoutS: 10, extra: ['-au', 'agent-1', '-ap', 'demo'] }).done;
    expect(sipp.code, sipp.errors).toBe(0);
    expect(gw.registrar.isRegistered('agent-1')).toBe(false);
    // ... and over the HTTP login from the same address (one lockout for both).
    const login = () => fetch(`${api}/api/agents/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ agentId: 'agent-1', password: 'demo' }) });
    expect((await login()).status).toBe(429);
    // An agent token may not unlock; a supervisor may.
    const unlock = (token: string) => fetch(`${api}/api/agents/agent-1/unlock`, { method: 'POST', headers: { authorization: `Bearer ${token}` } });
    expect((await unlock('nope')).status).toBe(401);
    const r = await unlock(gw.supervisorToken);
    expect(r.status).toBe(200);
    expect(await r.json()).toEqual({ agentId: 'agent-1', cleared: 1 });
    const ok = await runSipp({ scenario: 'register.xml', target: `127.0.0.1:${sipPort}`, service: 'agent-1', localPort: await freePort(), timeoutS: 10, set: { contact_port: 5999, expires: 60 }, extra: ['-au', 'agent-1', '-ap', 'demo'] }).done;
    expect(ok.code, ok.errors).toBe(0);
    expect(gw.registrar.isRegistered('agent-1')).toBe(true);
    // Every failure, the lock, the refusals and the unlock are in the audit trail with the source.
    const { readFileSync } = await import('node:fs');
    const audit = readFileSync(gw.config.AUDIT_LOG, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { action: string; source?: string; target?: { id?: string } });
    const mine = audit.filter((e) => e.target?.id === 'agent-1');
    expect(mine.filter((e) => e.action === 'signin.failure').length).toBeGreaterThanOrEqual(5);
    expect(mine.filter((e) => e.action === 'signin.locked')).toHaveLength(1);
    expect(mine.some((e) => e.action === 'signin.refused' && e.source === '127.0.0.1')).toBe(true);
    expect(mine.some((e) => e.action === 'agent.unlock')).toBe(true);
    expect(mine.some((e) => e.action === 'signin.success' && e.source === '127.0.0.1')).toBe(true); // the REGISTER after the unlock
    const metrics = await (await fetch(`${api}/metrics`)).text();
    expect(metrics).toMatch(/tonegate_refusals_total\{reason="signin-locked"\} [1-9]/);
  });
});

describe('svmap (SIP scanner) sees nothing usable', () => {
  it('the gateway answers OPTIONS (load balancers probe it) but names no product or version: svmap lists its agent as unknown', async () => {
    const out = await sipvicious('svmap', ['-p', String(sipPort), '--debug', '127.0.0.1'], 30_000);
    expect(out).toMatch(new RegExp(`127\\.0\\.0\\.1:${sipPort}\\s*\\|\\s*unknown`));
    expect(out).toMatch(/SIP\/2\.0 200 OK/); // it did get an answer
    expect(out).not.toMatch(/\\r\\n(Server|User-Agent):/i);
    expect(out.toLowerCase()).not.toContain('tonegate');
  });
});

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { createClient } from 'redis';
import { GatewayChild } from '../support/gateway-process.js';
import { freePort } from '../../devtools/ports.js';
import { RedisServer } from '../../devtools/redis-server.js';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sipvicious, wordList } from '../support/sipvicious.js';
import { base32Encode, totp } from '../../src/security/totp.js';

/**
 * Agent sign-in across instances (README, "Redis, metrics, audit"), with real parts: two gateway
 * processes sharing a real redis-server. A token issued by one is accepted by the other (API and
 * /events), a sign-out on either revokes it on both, and failed logins on one lock the account
 * on the other (docs/security.md, "Sign-in"), whether they come over HTTP or as SIP REGISTER digests
 * (svcrack), and attempts made at once on both add up; a supervisor's session is good on both and
 * ends on both, its TOTP code is good once on either, and supervisor sign-in failures count on
 * both. Redis holds the token's SHA-256, never the token.
 */
const SUPERVISOR = 'agents-auth-cluster-supervisor-token';
const ASHA = 'correct horse battery';
const TOTP_SECRET = Buffer.from('agents-auth-cluster-totp-20b');
let redis: RedisServer;
const gateways: GatewayChild[] = [];

async function startGateway(id: string): Promise<GatewayChild> {
  const [sip, http, pg] = [await freePort(), await freePort(), await freePort()];
  const g = await GatewayChild.start({
    SIP_PORT: String(sip), HTTP_PORT: String(http), DEMO_PG_PORT: String(pg), INSTANCE_ID: id, SUPERVISOR_TOKEN: SUPERVISOR, MEDIA_WORKERS: '1', LOG_LEVEL: 'info', REDIS_URL: redis.url,
    SUPERVISORS: `asha:${ASHA}:${base32Encode(TOTP_SECRET)}`,
  });
  gateways.push(g);
  return g;
}

beforeAll(async () => {
  redis = await RedisServer.start();
  await startGateway('gw-a');
  await startGateway('gw-b');
}, 60_000);

afterAll(async () => {
  for (const g of gateways) await g.stop();
  await redis?.stop();
});

const [a, b] = [(): GatewayChild => gateways[0]!, (): GatewayChild => gateways[1]!];

async function login(g: GatewayChild, agentId: string, password: string): Promise<{ status: number; token?: string }> {
  const r = await fetch(`${g.httpUrl}/api/agents/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ agentId, password }) });
  const body = r.status === 200 ? ((await r.json()) as { token: string }) : undefined;
  return { status: r.status, ...(body ? { token: body.token } : {}) };
}

const sessions = async (g: GatewayChild, token: string): Promise<number> =>
  (await fetch(`${g.httpUrl}/api/sessions`, { headers: { authorization: `Bearer ${token}` } })).status;

/** The first frame /events answers an auth message with. */
async function eventsAuth(g: GatewayChild, token: string): Promise<{ type: string; principal?: { kind: string; agentId?: string } }> {
  const ws = new WebSocket(`${g.httpUrl.replace(/^http/, 'ws')}/events`);
  try {
    await new Promise<void>((res, rej) => ws.once('open', () => res()).once('error', rej));
    const frame = new Promise<string>((res, rej) => ws.once('message', (d: Buffer) => res(d.toString('utf8'))).once('close', () => rej(new Error('closed without a frame'))));
    ws.send(JSON.stringify({ type: 'auth', token }));
    return JSON.parse(await frame) as { type: string; principal?: { kind: string; agentId?: string } };
  } finally {
    ws.close();
  }
}

async function redisValues(): Promise<string> {
  const c = createClient({ url: redis.url });
  await c.connect();
  try {
    const keys = await c.keys('tonegate:agent-token:*');
    return JSON.stringify({ keys, values: await Promise.all(keys.map((k) => c.get(k))) });
  } finally {
    await c.quit();
  }
}

describe('agent sign-in across instances (two gateways, real Redis)', () => {
  it('a token issued by A is accepted by B (API and /events); Redis holds its hash only', async () => {
    const r = await login(a(), 'agent-1', 'demo');
    expect(r.status).toBe(200);
    const token = r.token!;
    expect(await sessions(b(), token)).toBe(200);
    expect(await eventsAuth(b(), token)).toMatchObject({ type: 'ready', principal: { kind: 'agent', agentId: 'agent-1' } });
    const stored = await redisValues();
    expect(stored).toContain('agent-1');
    expect(stored).not.toContain(token);
  });

  it('sign-out on B revokes the token on A', async () => {
    const token = (await login(a(), 'agent-2', 'demo')).token!;
    expect(await sessions(a(), token)).toBe(200);
    expect((await fetch(`${b().httpUrl}/api/agents/logout`, { method: 'POST', headers: { authorization: `Bearer ${token}` } })).status).toBe(204);
    expect(await sessions(a(), token)).toBe(401);
    expect(await sessions(b(), token)).toBe(401);
    expect((await eventsAuth(a(), token)).type).toBe('error');
  });

  it('an /events socket open on A is closed (4401) within one ping interval (30 s) of a sign-out on B', async () => {
    const token = (await login(a(), 'agent-1', 'demo')).token!;
    const ws = new WebSocket(`${a().httpUrl.replace(/^http/, 'ws')}/events`);
    await new Promise<void>((res, rej) => ws.once('open', () => res()).once('error', rej));
    const ready = new Promise<string>((res) => ws.once('message', (d: Buffer) => res(d.toString('utf8'))));
    ws.send(JSON.stringify({ type: 'auth', token }));
    expect(JSON.parse(await ready)).toMatchObject({ type: 'ready', principal: { kind: 'agent', agentId: 'agent-1' } });
    const closed = new Promise<{ code: number; reason: string; at: number }>((res) => ws.once('close', (code: number, reason: Buffer) => res({ code, reason: reason.toString(), at: Date.now() })));
    const t0 = Date.now();
    expect((await fetch(`${b().httpUrl}/api/agents/logout`, { method: 'POST', headers: { authorization: `Bearer ${token}` } })).status).toBe(204);
    const c = await Promise.race([closed, new Promise<undefined>((r) => setTimeout(() => r(undefined), 40_000))]);
    if (!c) ws.terminate();
    expect(c, 'the socket on A was still open 40 s after the sign-out on B').toBeDefined();
    expect(c!).toMatchObject({ code: 4401, reason: 'token revoked' });
    expect(c!.at - t0).toBeLessThanOrEqual(32_000);
  }, 60_000);

  it('wrong logins on A lock the account on B, the right password included; a supervisor unlock on B lifts it on A', async () => {
    let last = 0;
    // Backoff refusals (429) count as failures too (security/lockout.ts); 10 failures lock.
    for (let i = 0; i < 10; i++) last = (await login(a(), 'agent-3', 'wrong')).status;
    expect(last).toBe(429);
    const onB = await login(b(), 'agent-3', 'demo');
    expect(onB.status).toBe(429);
    expect((await fetch(`${b().httpUrl}/api/agents/agent-3/unlock`, { method: 'POST', headers: { authorization: `Bearer ${SUPERVISOR}` } })).status).toBe(200);
    expect((await login(a(), 'agent-3', 'demo')).status).toBe(200);
  });

  it('wrong logins sent at once to both gateways all count (the shared counters add up in Redis): the account locks', async () => {
    // 6 at the same moment on each: every attempt reads the counters before any writes them back.
    // Were the last write to win, the key would hold a handful of failures and stay open.
    const statuses = await Promise.all([...Array.from({ length: 6 }, () => login(a(), 'agent-2', 'wrong')), ...Array.from({ length: 6 }, () => login(b(), 'agent-2', 'wrong'))]);
    expect(statuses.every((r) => r.status === 401 || r.status === 429)).toBe(true);
    // Every attempt counts until the lock (10); one that reads the counters after the lock is
    // refused without counting (security/lockout.ts).
    const held = await signIn('agent-2');
    expect(held.failures, JSON.stringify(held)).toBeGreaterThanOrEqual(10);
    expect(held.lockedUntil).toBeGreaterThan(Date.now() + 29 * 60_000);
    expect((await login(a(), 'agent-2', 'demo')).status).toBe(429);
    expect((await login(b(), 'agent-2', 'demo')).status).toBe(429);
    expect((await fetch(`${a().httpUrl}/api/agents/agent-2/unlock`, { method: 'POST', headers: { authorization: `Bearer ${SUPERVISOR}` } })).status).toBe(200);
    expect((await login(b(), 'agent-2', 'demo')).status).toBe(200);
  });

  it('a malformed shared counter in Redis is replaced, not trusted and not fatal: the next failure counts from 1, the right password signs in', async () => {
    expect((await login(a(), 'agent-3', 'wrong')).status).toBe(401);
    const c = createClient({ url: redis.url });
    await c.connect();
    try {
      const [field] = Object.keys(await c.hGetAll('tonegate:signin:agent-3'));
      await c.hSet('tonegate:signin:agent-3', field!, '{"f":"lots","n":null}');
    } finally {
      await c.quit();
    }
    expect((await login(b(), 'agent-3', 'wrong')).status).toBe(401);
    expect((await signIn('agent-3')).failures).toBe(1);
    expect((await login(a(), 'agent-3', 'demo')).status).toBe(200);
  });

  it('a password cracker on A\'s SIP port (svcrack, REGISTER digest) locks the agent\'s HTTP login on B too', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'auth-cluster-'));
    try {
      const guesses = [...Array.from({ length: 12 }, (_, i) => `guess-${i}`), 'demo'];
      const out = await sipvicious('svcrack', ['-u', 'agent-1', '-d', wordList(dir, 'pw.txt', guesses), `udp://127.0.0.1:${a().env['SIP_PORT']}`]);
      expect(out).not.toMatch(/\|\s*agent-1\s*\|/);
      expect(out).toMatch(/found nothing/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
    const held = await signIn('agent-1');
    expect(held.failures).toBeGreaterThanOrEqual(10);
    expect(held.lockedUntil).toBeGreaterThan(Date.now());
    expect((await login(b(), 'agent-1', 'demo')).status).toBe(429);
    expect((await fetch(`${b().httpUrl}/api/agents/agent-1/unlock`, { method: 'POST', headers: { authorization: `Bearer ${SUPERVISOR}` } })).status).toBe(200);
    expect((await login(a(), 'agent-1', 'demo')).status).toBe(200);
  });

  it('a supervisor\'s session from A works on B (API and /events) and a sign-out on B ends it on A; a TOTP code is good once across the gateways; failed supervisor sign-ins on A lock B', async () => {
    const supervisorLogin = (g: GatewayChild, password: string, code: string) =>
      fetch(`${g.httpUrl}/api/supervisors/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ name: 'asha', password, code }) });
    const code = totp(TOTP_SECRET, Date.now());
    const signedIn = await supervisorLogin(a(), ASHA, code);
    expect(signedIn.status).toBe(200);
    const { token } = (await signedIn.json()) as { token: string };
    // No sticky sessions needed: B knows the session; Redis holds its hash and the name only.
    expect(await sessions(b(), token)).toBe(200);
    expect(await eventsAuth(b(), token)).toMatchObject({ type: 'ready', principal: { kind: 'supervisor' } });
    const c = createClient({ url: redis.url });
    await c.connect();
    try {
      const keys = await c.keys('tonegate:supervisor-session:*');
      expect(keys).toHaveLength(1);
      expect(await c.get(keys[0]!)).toBe('asha');
      expect(await c.pTTL(keys[0]!)).toBeGreaterThan(14 * 60_000); // the 15-minute idle timeout, started again by each use
      expect(JSON.stringify(keys)).not.toContain(token);
    } finally {
      await c.quit();
    }
    expect((await fetch(`${b().httpUrl}/api/supervisors/logout`, { method: 'POST', headers: { authorization: `Bearer ${token}` } })).status).toBe(204);
    expect(await sessions(a(), token)).toBe(401);
    expect(await sessions(b(), token)).toBe(401);
    expect((await supervisorLogin(b(), ASHA, code)).status).toBe(401); // the same code replayed on the other gateway
    for (let i = 0; i < 10; i++) await supervisorLogin(a(), 'wrong password', '000000');
    expect((await supervisorLogin(b(), ASHA, totp(TOTP_SECRET, Date.now() + 30_000))).status).toBe(429);
    expect(b().lines.some((l) => l.includes('the TOTP code was already used on another instance'))).toBe(true);
  });
});

/** The one source's shared sign-in counters of `user` (store/redis-agent-auth.ts, `signin:{user}`). */
async function signIn(user: string): Promise<{ failures: number; lockedUntil: number }> {
  const c = createClient({ url: redis.url });
  await c.connect();
  try {
    const fields = Object.values(await c.hGetAll(`tonegate:signin:${user}`));
    expect(fields).toHaveLength(1);
    const v = JSON.parse(fields[0]!) as { f: number; l: number };
    return { failures: v.f, lockedUntil: v.l };
  } finally {
    await c.quit();
  }
}

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { createClient } from 'redis';
import { GatewayChild } from '../support/gateway-process.js';
import { freePort } from '../../devtools/ports.js';
import { RedisServer } from '../../devtools/redis-server.js';

/**
 * Agent sign-in across instances (README, "Redis, metrics, audit"), with real parts: two gateway
 * processes sharing a real redis-server. A token issued by one is accepted by the other (API and
 * /events), a sign-out on either revokes it on both, and failed logins on one lock the account
 * on the other (docs/security.md, "Sign-in"). Redis holds the token's SHA-256, never the token.
 */
const SUPERVISOR = 'agents-auth-cluster-supervisor-token';
let redis: RedisServer;
const gateways: GatewayChild[] = [];

async function startGateway(id: string): Promise<GatewayChild> {
  const [sip, http, pg] = [await freePort(), await freePort(), await freePort()];
  const g = await GatewayChild.start({
    SIP_PORT: String(sip), HTTP_PORT: String(http), DEMO_PG_PORT: String(pg), INSTANCE_ID: id, SUPERVISOR_TOKEN: SUPERVISOR, MEDIA_WORKERS: '1', LOG_LEVEL: 'info', REDIS_URL: redis.url,
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
});

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import type { Gateway } from '../../src/gateway.js';
import { startTestGateway } from '../support/gateway.js';
import { rec } from '../support/store-contract.js';
import { base32Encode, totp } from '../../src/security/totp.js';

const TOTP_SECRET = Buffer.from('supervisor-totp-secret-20b');

/** REST hardening (docs/security.md): no caching of /api answers, paged session lists, supervisor-only unlock. */
let gw: Gateway;
let api: string;
beforeAll(async () => {
  ({ gw } = await startTestGateway({ SUPERVISORS: `asha:correct horse battery:${base32Encode(TOTP_SECRET)}` }));
  api = `http://127.0.0.1:${gw.httpPort}`;
  for (let i = 1; i <= 7; i++) await gw.store.create(rec(String(i), { orderRef: `ORD-P${i}` }));
});
afterAll(async () => {
  await gw?.close();
});

const get = (path: string, token = gw.supervisorToken) => fetch(`${api}${path}`, { headers: { authorization: `Bearer ${token}` } });

describe('/api answers', () => {
  it.each(['/api/sessions', '/api/sessions/1', '/api/nope', '/api/widget-config'])('%s carries Cache-Control: no-store', async (path) => {
    expect((await get(path)).headers.get('cache-control')).toBe('no-store');
  });

  it('an agent login answer (which holds a token) is not cached either', async () => {
    const res = await fetch(`${api}/api/agents/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"agentId":"agent-1","password":"demo"}' });
    expect(res.status).toBe(200);
    expect(res.headers.get('cache-control')).toBe('no-store');
  });
});

describe('GET /api/sessions pages', () => {
  it('limit and the next cursor walk every session once, newest first', async () => {
    const ids: string[] = [];
    let q = '?limit=3';
    for (let i = 0; i < 5; i++) {
      const body = (await (await get(`/api/sessions${q}`)).json()) as { sessions: { id: string }[]; next: string | null };
      ids.push(...body.sessions.map((s) => s.id));
      if (!body.next) break;
      q = `?limit=3&before=${encodeURIComponent(body.next)}`;
    }
    expect(ids).toEqual(['7', '6', '5', '4', '3', '2', '1']);
  });

  it.each(['?limit=0', '?limit=1001', '?limit=abc', '?before=yesterday', '?before=2025-01-01T10:00:00.000Z~../x'])('%s is 400', async (q) => {
    expect((await get(`/api/sessions${q}`)).status).toBe(400);
  });
});

describe('POST /api/agents/:id/unlock', () => {
  it('an agent token may not unlock (403); a malformed id is 400', async () => {
    const login = await fetch(`${api}/api/agents/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"agentId":"agent-2","password":"demo"}' });
    const { token } = (await login.json()) as { token: string };
    expect((await fetch(`${api}/api/agents/agent-2/unlock`, { method: 'POST', headers: { authorization: `Bearer ${token}` } })).status).toBe(403);
    expect((await fetch(`${api}/api/agents/a%20b/unlock`, { method: 'POST', headers: { authorization: `Bearer ${gw.supervisorToken}` } })).status).toBe(400);
  });
});

describe('named supervisors with TOTP (RFC 6238)', () => {
  const login = (body: object) => fetch(`${api}/api/supervisors/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });

  it('password + the current code give a supervisor token that reads every session; logout ends it', async () => {
    expect((await login({ name: 'asha', password: 'correct horse battery', code: '000000' })).status).toBe(401);
    const ok = await login({ name: 'asha', password: 'correct horse battery', code: totp(TOTP_SECRET, Date.now()) });
    expect(ok.status).toBe(200);
    const { token, idleTimeoutS } = (await ok.json()) as { token: string; idleTimeoutS: number };
    expect(idleTimeoutS).toBe(900);
    const list = await get('/api/sessions', token);
    expect(list.status).toBe(200);
    expect(((await list.json()) as { sessions: unknown[] }).sessions.length).toBeGreaterThanOrEqual(7);
    expect((await fetch(`${api}/api/supervisors/logout`, { method: 'POST', headers: { authorization: `Bearer ${token}` } })).status).toBe(204);
    expect((await get('/api/sessions', token)).status).toBe(401);
    const audit = (await import('node:fs')).readFileSync(gw.config.AUDIT_LOG, 'utf8');
    expect(audit).toMatch(/"action":"supervisor.login".*"outcome":"success"/);
    expect(audit).toMatch(/"action":"signin.failure".*"supervisor:asha"/);
  });
});

describe('POST /api/handoffs', () => {
  it('refuses a customer mobile outside ALLOWED_MOBILE_PREFIXES with 403 naming the field', async () => {
    const res = await fetch(`${api}/api/handoffs`, {
      method: 'POST', headers: { authorization: `Bearer ${gw.handoffApiKey}`, 'content-type': 'application/json' },
      body: JSON.stringify({ amount: '10.00', currency: 'INR', merchantId: 'M-1', orderRef: 'ORD-H2', customerMobile: '+14155550123' }),
    });
    expect(res.status).toBe(403);
    expect(await res.json()).toMatchObject({ field: 'customerMobile' });
  });
});

describe('audit trail', () => {
  it('records handoff creation with its source', async () => {
    const res = await fetch(`${api}/api/handoffs`, {
      method: 'POST', headers: { authorization: `Bearer ${gw.handoffApiKey}`, 'content-type': 'application/json' },
      body: JSON.stringify({ amount: '10.00', currency: 'INR', merchantId: 'M-1', orderRef: 'ORD-H1', customerMobile: '+919800000001' }),
    });
    expect(res.status).toBeLessThan(300);
    const lines = (await import('node:fs')).readFileSync(gw.config.AUDIT_LOG, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { action: string; actor: { kind: string }; source?: string });
    expect(lines.some((e) => e.action === 'handoff.create' && e.actor.kind === 'handoff-client' && e.source === '127.0.0.1')).toBe(true);
  });
});

describe('audit trail: sign-in outcomes', () => {
  const audit = async () => (await import('node:fs')).readFileSync(gw.config.AUDIT_LOG, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { action: string; outcome: string; source?: string; details?: Record<string, unknown>; target?: { id?: string } });

  it('a successful agent login is audited as signin.success with its source and channel', async () => {
    const res = await fetch(`${api}/api/agents/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"agentId":"agent-3","password":"demo"}' });
    expect(res.status).toBe(200);
    expect((await audit()).some((e) => e.action === 'signin.success' && e.target?.id === 'agent-3' && e.source === '127.0.0.1' && e.details?.['channel'] === 'http')).toBe(true);
  });

  it('an /events socket with a bad token is audited as events.auth denied, with its source', async () => {
    const ws = new WebSocket(`ws://127.0.0.1:${gw.httpPort}/events`);
    await new Promise((r) => ws.once('open', r));
    ws.send(JSON.stringify({ type: 'auth', token: 'not-a-token' }));
    await new Promise((r) => ws.once('close', r));
    expect((await audit()).some((e) => e.action === 'events.auth' && e.outcome === 'denied' && e.source === '127.0.0.1')).toBe(true);
  });
});

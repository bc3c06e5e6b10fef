import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Gateway } from '../../src/gateway.js';
import { startTestGateway } from '../support/gateway.js';

let gw: Gateway;
let base: string;

beforeAll(async () => {
  ({ gw } = await startTestGateway());
  base = `http://127.0.0.1:${gw.httpPort}`;
  const rec = {
    id: 'sess-1', state: 'done', field: null, outcome: 'paid' as const, orderRef: 'ORD-42', amount: '1499.00', currency: 'INR',
    merchantId: 'M-1', agentId: 'agent-1', dtmfTransport: 'rfc4733' as const, card: { brand: 'visa' as const, first6: '411111', last4: '1111' },
    startedAt: new Date().toISOString(), endedAt: new Date().toISOString(), instanceId: 'gw-test',
  };
  await gw.store.create(rec);
  await gw.store.create({ ...rec, id: 'sess-2', orderRef: 'ORD-43' });
});
afterAll(async () => {
  await gw?.close();
});

const get = (path: string, token?: string) => fetch(base + path, { headers: token ? { authorization: `Bearer ${token}` } : {} });
const post = (path: string, body: string, token?: string) =>
  fetch(base + path, { method: 'POST', body, headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) } });

describe('session REST', () => {
  it('GET /api/sessions without a token is 401 with a Bearer challenge', async () => {
    const r = await get('/api/sessions');
    expect(r.status).toBe(401);
    expect(r.headers.get('www-authenticate')).toMatch(/^Bearer/);
  });

  it('a wrong token is 401 and the handoff API key cannot read sessions (403)', async () => {
    expect((await get('/api/sessions', 'x'.repeat(24))).status).toBe(401);
    expect((await get('/api/sessions', gw.handoffApiKey)).status).toBe(403);
  });

  it('the supervisor lists sessions and filters by orderRef', async () => {
    const all = (await (await get('/api/sessions', gw.supervisorToken)).json()) as { sessions: { id: string }[] };
    expect(all.sessions.map((s) => s.id).sort()).toEqual(['sess-1', 'sess-2']);
    const one = (await (await get('/api/sessions?orderRef=ORD-43', gw.supervisorToken)).json()) as { sessions: { id: string }[] };
    expect(one.sessions.map((s) => s.id)).toEqual(['sess-2']);
  });

  it('one session by id carries the contract fields and at most first 6 / last 4', async () => {
    const r = await get('/api/sessions/sess-1', gw.supervisorToken);
    expect(r.status).toBe(200);
    const s = (await r.json()) as Record<string, unknown>;
    for (const k of ['id', 'state', 'outcome', 'orderRef', 'amount', 'currency', 'agentId', 'dtmfTransport', 'card', 'startedAt', 'endedAt']) expect(s).toHaveProperty(k);
    expect(s.card).toEqual({ brand: 'visa', first6: '411111', last4: '1111' });
  });

  it('unknown id is 404, malformed id or orderRef is 400, unknown /api path is a JSON 404', async () => {
    expect((await get('/api/sessions/nope', gw.supervisorToken)).status).toBe(404);
    expect((await get('/api/sessions/' + encodeURIComponent('a b'), gw.supervisorToken)).status).toBe(400);
    expect((await get('/api/sessions?orderRef=' + encodeURIComponent('<script>'), gw.supervisorToken)).status).toBe(400);
    const r = await get('/api/nothing', gw.supervisorToken);
    expect(r.status).toBe(404);
    expect(await r.json()).toMatchObject({ error: 'not-found' });
  });
});

describe('POST /api/handoffs', () => {
  const txn = { amount: '1499.00', currency: 'INR', merchantId: 'M-1', orderRef: 'ORD-9', customerMobile: '+919876543210' };

  it('needs the API key (401 without, 403 with a supervisor token)', async () => {
    expect((await post('/api/handoffs', JSON.stringify(txn))).status).toBe(401);
    expect((await post('/api/handoffs', JSON.stringify(txn), gw.supervisorToken)).status).toBe(403);
  });

  it('issues a single-use code with the SIP URI (host:port) and header to transfer with', async () => {
    const r = await post('/api/handoffs', JSON.stringify(txn), gw.handoffApiKey);
    expect(r.status).toBe(201);
    const b = (await r.json()) as { code: string; sipUri: string; header: string; expiresAt: string };
    // Dialable as returned: the gateway listens on a port other than 5060, so the URI names it.
    expect(gw.sipPort).not.toBe(5060);
    expect(b.sipUri).toBe(`sip:pay-${b.code}@127.0.0.1:${gw.sipPort}`);
    expect(b.header).toBe(`X-Pay-Handoff: ${b.code}`);
    expect(Date.parse(b.expiresAt)).toBeGreaterThan(Date.now());
  });

  it('names the bad field: amount with 3 decimals, a mobile that is not E.164, an unknown field, a non-string', async () => {
    const bad = async (body: object) => (await (await post('/api/handoffs', JSON.stringify(body), gw.handoffApiKey)).json()) as { field: string };
    expect((await bad({ ...txn, amount: '1.005' })).field).toBe('amount');
    expect((await bad({ ...txn, customerMobile: '98765' })).field).toBe('customerMobile');
    expect((await bad({ ...txn, pan: '4111111111111111' })).field).toBe('pan');
    expect((await bad({ ...txn, amount: 12 })).field).toBe('amount');
  });

  it('malformed JSON is 400 and an oversized body 413, with JSON errors', async () => {
    const r = await post('/api/handoffs', '{"amount":', gw.handoffApiKey);
    expect(r.status).toBe(400);
    expect(await r.json()).toMatchObject({ error: 'bad-request' });
    const big = await post('/api/handoffs', JSON.stringify({ ...txn, orderRef: 'x'.repeat(20_000) }), gw.handoffApiKey);
    expect(big.status).toBe(413);
  });
});

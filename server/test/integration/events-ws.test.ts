import { request } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Gateway } from '../../src/gateway.js';
import { EventsClient, type Frame } from '../support/events-client.js';
import { startTestGateway, type LogSink } from '../support/gateway.js';
import { payHeaders, payScenario, type PayStep } from '../../devtools/sipp/pay-scenario.js';
import { freeMediaPort, freePort } from '../../devtools/ports.js';
import { runSipp, type SippResult } from '../../devtools/sipp/run.js';

/**
 * The /events socket and agent login against a real gateway, real `ws` clients and real payment
 * calls from SIPp (transfer mode, RFC 2833 keys), protocol in capture/EVENTS.md.
 */
const OTP = '246810';
const PAN = '4111111111111111';
const CVV = '737';
const EXPIRY = '1230';
let gw: Gateway;
let logs: LogSink;
let target: string;
let api: string;
const clients: EventsClient[] = [];

function client(opts: { origin?: string; path?: string } = {}): EventsClient {
  const c = new EventsClient(`ws://127.0.0.1:${gw.httpPort}${opts.path ?? '/events'}`, opts.origin ? { origin: opts.origin } : {});
  clients.push(c);
  return c;
}

async function login(agentId: string, password: string): Promise<Response> {
  return fetch(`${api}/api/agents/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ agentId, password }) });
}

async function agentToken(agentId: string): Promise<string> {
  const res = await login(agentId, 'demo');
  expect(res.status).toBe(200);
  return ((await res.json()) as { token: string }).token;
}

function pay(headers: Record<string, string>, steps: PayStep[], byeTimeoutMs?: number): Promise<SippResult> {
  const scenario = payScenario({ headers, steps, ...(byeTimeoutMs ? { byeTimeoutMs } : {}) });
  return Promise.all([freePort(), freeMediaPort()]).then(([localPort, mediaPort]) => runSipp({ scenario, target, localPort, mediaPort, timeoutS: 110 }).done);
}

const errorLines = () => logs.lines.filter((l) => /"level":(50|60)/.test(l));
const sippOk = (r: SippResult) => [r.code, r.errors + r.stderr + errorLines().join('\n')] as const;

/** The session a client saw start for this order. */
async function sessionOf(c: EventsClient, orderRef: string): Promise<string> {
  const started = await c.next((f) => f.type === 'session.started' && f.orderRef === orderRef, `session.started of ${orderRef}`);
  return started.sessionId as string;
}

function seqs(frames: Frame[]): number[] {
  return frames.map((f) => f.seq as number);
}

beforeAll(async () => {
  ({ gw, logs, target } = await startTestGateway({ DEMO_OTP: OTP }));
  api = `http://127.0.0.1:${gw.httpPort}`;
});
afterAll(async () => {
  for (const c of clients) c.ws.terminate();
  await gw?.close();
});

describe('agent login', () => {
  it('the right password gives a token that resolves to the agent; a wrong one is 401', async () => {
    const ok = await login('agent-1', 'demo');
    expect(ok.status).toBe(200);
    const body = (await ok.json()) as { token: string; agentId: string; expiresAt: string };
    expect(body.agentId).toBe('agent-1');
    expect(body.token).toMatch(/^[A-Za-z0-9_-]{32}$/);
    expect(Date.parse(body.expiresAt)).toBeGreaterThan(Date.now() + 11 * 3600_000);
    const bad = await login('agent-1', 'wrong');
    expect(bad.status).toBe(401);
    expect(await bad.json()).toEqual({ error: 'unauthorized' });
    expect((await fetch(`${api}/api/agents/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"agentId":"agent-1"}' })).status).toBe(400);
  });

  it('after 5 failures within a minute the next login is 429 with Retry-After, the right password included', async () => {
    for (let i = 0; i < 5; i++) expect((await login('agent-3', `wrong-${i}`)).status).toBe(401);
    const locked = await login('agent-3', 'demo');
    expect(locked.status).toBe(429);
    expect(Number(locked.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    expect(Number(locked.headers.get('retry-after'))).toBeLessThanOrEqual(60);
    expect((await login('agent-2', 'demo')).status).toBe(200); // per agent
  });

  it('logout revokes the token: REST refuses it and its open socket is closed with 4401', async () => {
    const token = await agentToken('agent-2');
    const c = client();
    await c.auth(token);
    const out = await fetch(`${api}/api/agents/logout`, { method: 'POST', headers: { authorization: `Bearer ${token}` } });
    expect(out.status).toBe(204);
    expect((await c.closed).code).toBe(4401);
    expect((await fetch(`${api}/api/sessions`, { headers: { authorization: `Bearer ${token}` } })).status).toBe(401);
    expect((await fetch(`${api}/api/agents/logout`, { method: 'POST', headers: { authorization: `Bearer ${gw.supervisorToken}` } })).status).toBe(403);
  });
});

describe('/events with a real payment call', () => {
  let a1: EventsClient;
  let a2: EventsClient;
  let sup: EventsClient;
  let a1Token: string;
  let paidSession: string;

  it('agent-1 gets every event of its session, seq 1..N in order; agent-2 none; the supervisor all', async () => {
    a1Token = await agentToken('agent-1');
    a1 = client();
    a2 = client();
    sup = client();
    const [r1, r2, rs] = await Promise.all([a1.auth(a1Token), a2.auth(await agentToken('agent-2')), sup.auth(gw.supervisorToken)]);
    expect(r1.principal).toEqual({ kind: 'agent', agentId: 'agent-1' });
    expect(r2.principal).toEqual({ kind: 'agent', agentId: 'agent-2' });
    expect(rs.principal).toEqual({ kind: 'supervisor' });

    const headers = payHeaders({ 'X-Pay-Agent-Id': 'agent-1' });
    const orderRef = headers['X-Pay-Order-Ref']!;
    const r = await pay(headers, [{ pauseMs: 1500 }, { keys: `${PAN}#` }, { keys: EXPIRY }, { keys: CVV }, { pauseMs: 9000 }, { keys: OTP }]);
    expect(...sippOk(r)).toBe(0);
    paidSession = await sessionOf(a1, orderRef);
    const ended = await a1.next((f) => f.type === 'session.ended' && f.sessionId === paidSession, 'session.ended');
    expect(ended).toMatchObject({ outcome: 'paid', reason: 'approved' });
    await Promise.all([...gw.paymentCalls.live].map((c) => c.whenClosed)); // the call is over: every event is published

    // Every event the bus published for the session (its whole history is retained), seq 1..N.
    const published = (await gw.bus.replay(paidSession, 0)).events;
    expect(published[0]!.seq).toBe(1);
    const mine = a1.eventsOf(paidSession);
    expect(mine).toEqual(JSON.parse(JSON.stringify(published)));
    expect(mine.length).toBeGreaterThan(20);
    expect(seqs(mine)).toEqual(mine.map((_, i) => i + 1));
    expect(mine.filter((f) => f.type === 'session.ended')).toHaveLength(1);
    expect(mine.filter((f) => f.type === 'digit.entered' && f.field === 'pan')).toHaveLength(16);
    expect(mine.find((f) => f.type === 'card.identified' && f.complete === true)).toMatchObject({ brand: 'visa', first6: '411111', last4: '1111' });
    expect(sup.eventsOf(paidSession)).toEqual(mine);
    // agent-2 saw no capture event at all (only its ready).
    expect(a2.frames.map((f) => f.type)).toEqual(['ready']);
  });

  it('a reconnect with resume at a middle seq gets exactly the rest, and ready lists the ended session', async () => {
    const all = a1.eventsOf(paidSession);
    const mid = Math.floor(all.length / 2);
    const again = client();
    const ready = await again.auth(a1Token, { [paidSession]: mid });
    const listed = (ready.sessions as { id: string; outcome: string | null; agentId: string }[]);
    expect(listed.find((s) => s.id === paidSession)).toMatchObject({ outcome: 'paid', agentId: 'agent-1' });
    expect(listed.every((s) => s.agentId === 'agent-1')).toBe(true);
    await again.next((f) => f.type === 'session.ended', 'replayed session.ended');
    expect(again.frames[0]!.type).toBe('ready');
    expect(again.eventsOf(paidSession)).toEqual(all.slice(mid));
    expect(again.frames.filter((f) => f.type === 'session.resync')).toEqual([]);
  });

  it("agent-2 resuming agent-1's session gets nothing of it, and does not see it in ready", async () => {
    const spy = client();
    const ready = await spy.auth(await agentToken('agent-2'), { [paidSession]: 0 });
    expect((ready.sessions as { id: string }[]).some((s) => s.id === paidSession)).toBe(false);
    // A command round trip proves the socket has handled everything sent before it.
    expect(await spy.command('probe', paidSession, { type: 'session.cancel' })).toMatchObject({ ok: false, error: 'not-found' });
    expect(spy.frames.map((f) => f.type)).toEqual(['ready', 'command.result']);
  });

  it('a resume point older than the retained history gets session.resync with the record (null for an unknown session)', async () => {
    const c = client();
    await c.auth(gw.supervisorToken, { 'no-such-session': 5 });
    const resync = await c.next((f) => f.type === 'session.resync', 'session.resync');
    expect(resync).toEqual({ type: 'session.resync', sessionId: 'no-such-session', record: null });
  });

  it("agent-1 cancels its own live session (outcome cancelled); agent-2's and the supervisor's commands are refused", async () => {
    const headers = payHeaders({ 'X-Pay-Agent-Id': 'agent-1' });
    const orderRef = headers['X-Pay-Order-Ref']!;
    const call = pay(headers, [{ pauseMs: 1500 }, { keys: '4111' }]);
    const sid = await sessionOf(a1, orderRef);
    await a1.next((f) => f.type === 'digit.entered' && f.sessionId === sid && f.count === 4, 'four PAN digits');

    expect(await sup.command('s1', sid, { type: 'session.cancel' })).toMatchObject({ ok: false, error: 'forbidden' });
    expect(await a2.command('x1', sid, { type: 'session.cancel' })).toMatchObject({ ok: false, error: 'not-found' });
    expect(await a2.command('x2', sid, { type: 'field.retry', field: 'pan' })).toMatchObject({ ok: false, error: 'not-found' });
    expect(await a1.command('bad', sid, { type: 'field.retry', field: 'pin' })).toMatchObject({ ok: false, error: 'invalid' });
    expect(await a1.command('c1', sid, { type: 'session.cancel' })).toEqual({ type: 'command.result', id: 'c1', ok: true });
    const ended = await a1.next((f) => f.type === 'session.ended' && f.sessionId === sid, 'session.ended');
    expect(ended).toMatchObject({ outcome: 'cancelled', reason: 'agent-cancelled' });
    expect((await gw.store.get(sid))?.outcome).toBe('cancelled');
    const again = await a1.command('c2', sid, { type: 'session.cancel' });
    expect(again).toMatchObject({ ok: false });
    expect(['not-found', 'refused']).toContain(again.error);

    const r = await call;
    expect(...sippOk(r)).toBe(0);
    const mine = a1.eventsOf(sid);
    expect(seqs(mine)).toEqual(mine.map((_, i) => i + 1));
    expect(sup.eventsOf(sid)).toEqual(mine);
    expect(a2.frames.filter((f) => f.sessionId === sid && f.type !== 'command.result')).toEqual([]);
  });

  it('cancel while the payment is in flight is refused by the real capture, and the payment goes on to its outcome', async () => {
    // 4000000000000259: the demo provider never answers the payment, so it stays in flight until the client's timeout.
    const headers = payHeaders({ 'X-Pay-Agent-Id': 'agent-1' });
    const orderRef = headers['X-Pay-Order-Ref']!;
    const call = pay(headers, [{ pauseMs: 1500 }, { keys: '4000000000000259#' }, { keys: EXPIRY }, { keys: CVV }, { pauseMs: 9000 }, { keys: OTP }], 100_000);
    const sid = await sessionOf(a1, orderRef);
    await a1.next((f) => f.type === 'payment.processing' && f.sessionId === sid && f.stage === 'payment', 'payment in flight', 90_000);
    const r = await a1.command('late', sid, { type: 'session.cancel' });
    expect(r).toMatchObject({ ok: false, error: 'refused' });
    expect(r.message).toMatch(/paying/);
    const ended = await a1.next((f) => f.type === 'session.ended' && f.sessionId === sid, 'session.ended', 100_000);
    expect(ended.outcome).not.toBe('cancelled');
    expect(...sippOk(await call)).toBe(0);
    const mine = a1.eventsOf(sid);
    expect(seqs(mine)).toEqual(mine.map((_, i) => i + 1));
  }, 180_000);

  it('an agent reads its own sessions over REST and nobody else\'s', async () => {
    const res = await fetch(`${api}/api/sessions`, { headers: { authorization: `Bearer ${a1Token}` } });
    const mine = ((await res.json()) as { sessions: { id: string; agentId: string }[] }).sessions;
    expect(mine.map((s) => s.id)).toContain(paidSession);
    expect(mine.every((s) => s.agentId === 'agent-1')).toBe(true);
    const t2 = await agentToken('agent-2');
    const theirs = ((await (await fetch(`${api}/api/sessions`, { headers: { authorization: `Bearer ${t2}` } })).json()) as { sessions: unknown[] }).sessions;
    expect(theirs).toEqual([]);
    expect((await fetch(`${api}/api/sessions/${paidSession}`, { headers: { authorization: `Bearer ${t2}` } })).status).toBe(404);
    expect((await fetch(`${api}/api/sessions/${paidSession}`, { headers: { authorization: `Bearer ${a1Token}` } })).status).toBe(200);
  });
});

describe('/events refusals', () => {
  it('bad JSON, an unknown type, a binary frame and a second auth get an error frame and the socket stays open', async () => {
    const c = client();
    await c.auth(gw.supervisorToken);
    c.send('{not json');
    expect(await c.next((f) => f.type === 'error', 'error')).toMatchObject({ error: 'bad-json' });
    c.send({ type: 'subscribe' });
    expect(await c.next((f) => f.type === 'error' && f.error === 'unknown-type', 'unknown-type')).toBeTruthy();
    c.ws.send(Buffer.from([1, 2, 3]), { binary: true });
    c.send({ type: 'auth', token: gw.supervisorToken });
    await c.next((f) => f.type === 'error' && f.message === 'already authenticated', 'second auth refused');
    expect(c.frames.filter((f) => f.type === 'error').map((f) => f.error)).toEqual(['bad-json', 'unknown-type', 'invalid', 'invalid']);
    expect(await c.command('after', 'nope', { type: 'session.cancel' })).toMatchObject({ ok: false, error: 'forbidden' });
    expect(c.ws.readyState).toBe(c.ws.OPEN);
  });

  it('a frame over 4 KiB closes the socket with 1009', async () => {
    const c = client();
    await c.auth(gw.supervisorToken);
    c.send({ type: 'command', id: 'big', sessionId: 's', command: { type: 'session.cancel', pad: 'x'.repeat(5000) } });
    expect((await c.closed).code).toBe(1009);
  });

  it('no auth within 5 s closes with 4401', async () => {
    const c = client();
    await c.opened;
    const closed = await c.closed;
    expect(closed.code).toBe(4401);
    expect(c.frames).toEqual([{ type: 'error', error: 'unauthorized', message: expect.any(String) }]);
  });

  it.each([
    ['a wrong token', (): unknown => ({ type: 'auth', token: 'not-a-token' })],
    ['a handoff API key', (): unknown => ({ type: 'auth', token: gw.handoffApiKey })],
    ['a command before auth', (): unknown => ({ type: 'command', id: 'c', sessionId: 's', command: { type: 'session.cancel' } })],
    ['bad JSON before auth', (): unknown => '{"type":"auth",'],
  ])('%s closes with 4401', async (_n, msg) => {
    const c = client();
    await c.opened;
    c.send(msg());
    expect((await c.closed).code).toBe(4401);
    expect(c.frames.map((f) => [f.type, f.error])).toEqual([['error', 'unauthorized']]);
  });

  it('a wrong Origin is refused at the handshake with 403; the same origin is accepted', async () => {
    const evil = client({ origin: 'http://evil.example' });
    expect(await evil.refused).toBe(403);
    const same = client({ origin: `http://127.0.0.1:${gw.httpPort}` });
    expect((await same.auth(gw.supervisorToken)).type).toBe('ready');
  });

  it('an upgrade to an unknown path is answered 404, not left hanging', async () => {
    const status = await new Promise<number | undefined>((resolve, reject) => {
      const req = request({ host: '127.0.0.1', port: gw.httpPort, path: '/nope', headers: { connection: 'Upgrade', upgrade: 'websocket', 'sec-websocket-version': '13', 'sec-websocket-key': 'dGhlIHNhbXBsZSBub25jZQ==' } });
      req.on('response', (res) => (res.resume(), resolve(res.statusCode)));
      req.on('upgrade', () => reject(new Error('upgraded an unknown path')));
      req.on('error', reject);
      req.end();
    });
    expect(status).toBe(404);
  });

  it('one token may hold 10 sockets; the 11th is closed with 4429', async () => {
    const token = await agentToken('agent-2');
    const ten = Array.from({ length: 10 }, () => client());
    await Promise.all(ten.map((c) => c.auth(token)));
    const eleventh = client();
    await eleventh.opened;
    eleventh.send({ type: 'auth', token });
    expect((await eleventh.closed).code).toBe(4429);
    ten[0]!.close();
    await ten[0]!.closed;
    // The count follows closes: once one has gone, another may open (after the server saw it go).
    await new Promise((r) => setTimeout(r, 200));
    expect((await client().auth(token)).type).toBe('ready');
  });
});

describe('/events batches for supervisors (capture/EVENTS.md, "batch")', () => {
  /** Publishes `n` digit.entered events of one session in one event-loop turn, as the capture does around a field. */
  const burst = (sessionId: string, n: number): Promise<unknown> =>
    Promise.all(Array.from({ length: n }, (_, i) => gw.bus.publish({ type: 'digit.entered', sessionId, at: new Date().toISOString(), agentId: 'agent-1', field: 'pan', count: i + 1 })));

  it('events of one turn reach a supervisor that asked for batches as one frame, in seq order; others get one frame per event', async () => {
    const supB = client();
    const sup = client();
    const agentB = client();
    await Promise.all([supB.auth(gw.supervisorToken, undefined, { batch: true }), sup.auth(gw.supervisorToken), agentB.auth(await agentToken('agent-1'), undefined, { batch: true })]);
    const sid = `batch-${Date.now()}`;
    await burst(sid, 5);
    await supB.next((f) => f.sessionId === sid && f.count === 5, 'the 5th event (batched)');
    await sup.next((f) => f.sessionId === sid && f.count === 5, 'the 5th event');
    await agentB.next((f) => f.sessionId === sid && f.count === 5, 'the 5th event (agent)');
    const mine = (c: EventsClient) => c.raw.map((r) => JSON.parse(r) as Frame).filter((m) => m.sessionId === sid || (m.type === 'batch' && (m.events as Frame[])[0]!.sessionId === sid));
    const batched = mine(supB);
    expect(batched.map((m) => m.type)).toEqual(['batch']);
    expect(seqs(batched[0]!.events as Frame[])).toEqual([1, 2, 3, 4, 5]);
    expect(supB.eventsOf(sid)).toEqual(sup.eventsOf(sid));
    // Without `batch`, and for agents even with it, one frame per event, as before.
    expect(mine(sup).map((m) => m.seq)).toEqual([1, 2, 3, 4, 5]);
    expect(mine(agentB).map((m) => m.seq)).toEqual([1, 2, 3, 4, 5]);

    // A lone event goes out as itself; a command result after a burst comes after the burst's frame.
    await burst(sid, 1);
    const lone = await supB.next((f) => f.sessionId === sid && f.seq === 6, 'the lone event');
    expect(supB.raw.at(-1)).toBe(JSON.stringify(lone));
    const before = supB.raw.length;
    const [, result] = await Promise.all([burst(sid, 3), supB.command('b1', sid, { type: 'session.cancel' })]);
    expect(result).toMatchObject({ ok: false, error: 'forbidden' });
    const after = supB.raw.slice(before).map((r) => JSON.parse(r) as Frame);
    expect(after.map((m) => m.type)).toEqual(['batch', 'command.result']);
    expect(seqs(after[0]!.events as Frame[])).toEqual([7, 8, 9]);
  });
});

describe('afterwards', () => {
  it('the gateway keeps serving, logged no errors, and no frame or log line holds the PAN, CVV, expiry or OTP', async () => {
    expect((await fetch(`${api}/healthz`)).status).toBe(200);
    expect((await client().auth(gw.supervisorToken)).type).toBe('ready');
    expect(errorLines()).toEqual([]);
    const raw = clients.flatMap((c) => c.raw);
    expect(raw.length).toBeGreaterThan(100);
    const everything = [...raw, ...logs.lines].join('\n');
    for (const secret of [PAN, PAN.slice(6), OTP]) expect(everything).not.toContain(secret);
    // CVV and expiry are short: scan the frames without their ids and times, where digits could occur by chance.
    const noise = new Set(['at', 'sessionId', 'id', 'startedAt', 'endedAt', 'idempotencyKey', 'paymentId', 'expiresAt', 'message']);
    const stripped = JSON.stringify(clients.flatMap((c) => c.frames), (k, v: unknown) => (noise.has(k) ? undefined : v));
    for (const secret of [CVV, EXPIRY]) expect(stripped).not.toContain(secret);
    // Log lines name the principal, never a token.
    const opened = logs.lines.filter((l) => l.includes('events socket opened'));
    expect(opened.length).toBeGreaterThan(5);
    expect(opened.some((l) => l.includes('"agentId":"agent-1"'))).toBe(true);
    expect(logs.lines.some((l) => l.includes(gw.supervisorToken))).toBe(false);
  });
});

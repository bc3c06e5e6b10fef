import { connect, type Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import type { Gateway } from '../../src/gateway.js';
import { startTestGateway } from '../support/gateway.js';
import { payHeaders } from '../../devtools/sipp/pay-scenario.js';
import { freeMediaPort, freePort } from '../../devtools/ports.js';
import { runSipp } from '../../devtools/sipp/run.js';
import { unackedFloodScenario } from '../support/trust-scenarios.js';

/**
 * Limits at the edge (docs/security.md): the `/sip` WebSocket checks Origin like `/events`, caps
 * sockets per source address (TCP and WS together) and messages per connection; `/events` caps
 * sockets per address and messages per socket; `/healthz` says `degraded` when the RTP ports run out.
 */
let gw: Gateway;
const opened: { close(): void }[] = [];

beforeAll(async () => {
  ({ gw } = await startTestGateway({ EDGE_LIMITS: 'sockets:3,ws-per-ip:6' }));
});
afterAll(async () => {
  for (const s of opened) s.close();
  await gw?.close();
});

type Handshake = { status: 'open'; ws: WebSocket } | { status: number };

function handshake(path: string, opts: { origin?: string; protocol?: string } = {}): Promise<Handshake> {
  const ws = new WebSocket(`ws://127.0.0.1:${gw.httpPort}${path}`, opts.protocol ?? (path === '/sip' ? 'sip' : undefined), opts.origin ? { origin: opts.origin } : {});
  opened.push({ close: () => ws.terminate() });
  return new Promise((resolve) => {
    ws.once('open', () => resolve({ status: 'open', ws }));
    ws.once('unexpected-response', (_req, res) => resolve({ status: res.statusCode ?? 0 }));
    ws.once('error', () => resolve({ status: -1 }));
  });
}

const closedWith = (ws: WebSocket) => new Promise<{ code: number; reason: string }>((r) => ws.once('close', (code, reason) => r({ code, reason: reason.toString() })));

describe('/sip WebSocket', () => {
  it('refuses a page from another origin (403) and accepts the gateway\'s own pages and non-browser clients', async () => {
    expect(await handshake('/sip', { origin: 'https://evil.example' })).toEqual({ status: 403 });
    const own = await handshake('/sip', { origin: `http://127.0.0.1:${gw.httpPort}` });
    expect(own.status).toBe('open');
    if (own.status === 'open') own.ws.close();
    const tool = await handshake('/sip');
    expect(tool.status).toBe('open');
    if (tool.status === 'open') {
      // More than 50 frames in a second closes the connection.
      const closed = closedWith(tool.ws);
      for (let i = 0; i < 60; i++) tool.ws.send('\r\n\r\n');
      expect((await closed).reason).toBe('too many messages');
    }
    await new Promise((r) => setTimeout(r, 200));
  });

  it('one source address holds at most EDGE_LIMITS sockets (3 here) of TCP and WS together; the next is refused, others still get in', async () => {
    const tcp: Socket[] = [];
    for (let i = 0; i < 2; i++) {
      const s = connect(gw.sipPort, '127.0.0.1');
      opened.push({ close: () => s.destroy() });
      await new Promise((r) => s.once('connect', r));
      tcp.push(s);
    }
    await new Promise((r) => setTimeout(r, 100));
    const third = await handshake('/sip');
    expect(third.status).toBe('open');
    expect(await handshake('/sip')).toEqual({ status: 503 });
    const fourthTcp = connect(gw.sipPort, '127.0.0.1');
    opened.push({ close: () => fourthTcp.destroy() });
    const dropped = await new Promise<boolean>((r) => {
      fourthTcp.once('close', () => r(true));
      setTimeout(() => r(false), 2000);
    });
    expect(dropped).toBe(true);
    // Another source address is not affected.
    const other = connect({ port: gw.sipPort, host: '127.0.0.1', localAddress: '127.0.0.2' });
    opened.push({ close: () => other.destroy() });
    const otherStays = await new Promise<boolean>((r) => {
      other.once('close', () => r(false));
      other.once('connect', () => setTimeout(() => r(!other.destroyed), 500));
    });
    expect(otherStays).toBe(true);
    for (const s of tcp) s.destroy();
    other.destroy();
    if (third.status === 'open') third.ws.terminate();
  });
});

describe('/events WebSocket', () => {
  it('more than 20 messages in one second close the socket with 1008', async () => {
    const h = await handshake('/events');
    if (h.status !== 'open') throw new Error(`handshake ${JSON.stringify(h)}`);
    h.ws.send(JSON.stringify({ type: 'auth', token: gw.supervisorToken }));
    await new Promise((r) => h.ws.once('message', r));
    const closed = closedWith(h.ws);
    for (let i = 0; i < 25; i++) h.ws.send('{"type":"nonsense"}');
    expect(await closed).toEqual({ code: 1008, reason: 'too many messages' });
  });

  it('one source address holds at most EDGE_LIMITS ws-per-ip sockets (6 here, default 50); the 7th handshake is 503', async () => {
    const mine: WebSocket[] = [];
    for (let i = 0; i < 6; i++) {
      const h = await handshake('/events');
      if (h.status !== 'open') throw new Error(`socket ${i}: ${JSON.stringify(h)}`);
      mine.push(h.ws);
    }
    expect(await handshake('/events')).toEqual({ status: 503 });
    for (const w of mine) w.terminate();
    await new Promise((r) => setTimeout(r, 300));
    expect((await handshake('/events')).status).toBe('open'); // released when they close
  });
});

describe('/healthz pressure', () => {
  let small: Gateway;
  afterAll(async () => {
    await small?.close();
  });

  it('is degraded, naming the RTP ports, when unacknowledged payment calls hold every port pair', async () => {
    // No reserve (ADMIT_RTP_RESERVE=0), so payment calls may take the last pair: the 90 % report is
    // what this checks; the reserve that refuses before exhaustion is load-admission.test.ts's.
    ({ gw: small } = await startTestGateway({ RTP_PORT_MIN: '39700', RTP_PORT_MAX: '39707', ADMIT_RTP_RESERVE: '0' }));
    const url = `http://127.0.0.1:${small.httpPort}/healthz`;
    expect((await fetch(url)).status).toBe(200);
    const r = await runSipp({ target: `127.0.0.1:${small.sipPort}`, localPort: await freePort(), mediaPort: await freeMediaPort(), scenario: unackedFloodScenario(payHeaders()), calls: 4, rate: 10, timeoutS: 20 }).done;
    expect(r.code, r.errors + r.stderr).toBe(0);
    const res = await fetch(url);
    const body = (await res.json()) as { status: string; details: { reasons?: string[]; rtpPorts: unknown } };
    expect(res.status).toBe(503);
    expect(body.status).toBe('degraded');
    expect(body.details.rtpPorts).toEqual({ allocated: 4, capacity: 4 });
    // Load admission names the same limit for new calls (docs/operations.md, "Overload").
    expect(body.details.reasons).toEqual(['rtp ports: 4 of 4 pairs in use', 'load: 0 RTP port pairs free, 0 kept in reserve (ADMIT_RTP_RESERVE)']);
  });
});

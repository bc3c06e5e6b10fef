import dgram from 'node:dgram';
import http from 'node:http';
import net from 'node:net';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { WebSocket, WebSocketServer } from 'ws';
import { silentLogger } from '../../src/observability/logger.js';
import { createTransportLayer, type TransportLayerImpl, type TransportLayerOptions } from '../../src/sip/transport/index.js';
import type { InboundMessage, SipFlow } from '../../src/sip/transport/types.js';

const HOST = '127.0.0.1';
const cleanups: (() => Promise<unknown> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

function sipMessage(body = '', method = 'MESSAGE'): string {
  const lines = [
    `${method} sip:bob@example.com SIP/2.0`,
    'Via: SIP/2.0/TCP 127.0.0.1:5999;branch=z9hG4bK-test',
    'Call-ID: abc@test',
    `CSeq: 1 ${method}`,
    `Content-Length: ${Buffer.byteLength(body)}`,
  ];
  return `${lines.join('\r\n')}\r\n\r\n${body}`;
}
const OK = 'SIP/2.0 200 OK\r\nCSeq: 1 MESSAGE\r\nContent-Length: 0\r\n\r\n';

interface Harness {
  layer: TransportLayerImpl;
  received: InboundMessage[];
  closed: { flow: SipFlow; reason: string }[];
}

async function start(opts: Partial<TransportLayerOptions> = {}, reply = false): Promise<Harness> {
  const layer = await createTransportLayer({ host: HOST, port: 0, logger: silentLogger, ...opts });
  cleanups.push(() => layer.close());
  const received: InboundMessage[] = [];
  const closed: { flow: SipFlow; reason: string }[] = [];
  layer.onMessage((m) => {
    received.push(m);
    if (reply) m.flow.send(OK);
  });
  layer.onFlowClosed((flow, reason) => closed.push({ flow, reason }));
  return { layer, received, closed };
}

async function waitFor(cond: () => boolean, ms = 3000): Promise<void> {
  const until = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > until) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 5));
  }
}

interface TcpClient {
  socket: net.Socket;
  data: () => string;
  closed: Promise<void>;
}

function tcpClient(port: number): Promise<TcpClient> {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host: HOST, port }, () => resolve({ socket, data: () => Buffer.concat(chunks).toString('utf8'), closed }));
    const chunks: Buffer[] = [];
    socket.setNoDelay(true);
    socket.on('data', (c) => chunks.push(c));
    socket.on('error', () => {});
    const closed = new Promise<void>((r) => socket.once('close', () => r()));
    socket.once('error', reject);
    cleanups.push(() => void socket.destroy());
  });
}

async function httpServer(): Promise<http.Server> {
  const server = http.createServer((_req, res) => res.end('ok'));
  await new Promise<void>((r) => server.listen(0, HOST, r));
  cleanups.push(() => new Promise<void>((r) => { server.closeAllConnections(); server.close(() => r()); }));
  return server;
}

function wsClient(server: http.Server, path: string, protocols?: string[]): WebSocket {
  const { port } = server.address() as AddressInfo;
  const ws = new WebSocket(`ws://${HOST}:${port}${path}`, protocols);
  ws.on('error', () => {});
  cleanups.push(() => ws.terminate());
  return ws;
}

const opened = (ws: WebSocket) => new Promise<void>((resolve, reject) => {
  ws.once('open', () => resolve());
  ws.once('unexpected-response', (_req, res) => reject(new Error(`HTTP ${res.statusCode}`)));
  ws.once('error', reject);
});
const nextFrame = (ws: WebSocket) => new Promise<string>((r) => ws.once('message', (d) => r(d.toString())));

describe('SIP transport over UDP', () => {
  it('answers a datagram on the flow it came from and binds UDP and TCP to the same port', async () => {
    const h = await start({}, true);
    expect(h.layer.udpPort).toBe(h.layer.tcpPort);
    expect(h.layer.udpPort).toBeGreaterThan(0);
    const client = dgram.createSocket('udp4');
    cleanups.push(() => new Promise<void>((r) => client.close(() => r())));
    await new Promise<void>((r) => client.bind(0, HOST, r));
    const reply = new Promise<string>((r) => client.once('message', (d) => r(d.toString())));
    client.send(sipMessage('hi ₹'), h.layer.udpPort, HOST);
    expect(await reply).toBe(OK);
    const flow = h.received[0]!.flow;
    expect(flow.id).toBe(`udp:${HOST}:${client.address().port}`);
    expect(flow).toMatchObject({ protocol: 'UDP', reliable: false, open: true });
    expect(h.received[0]!.data.toString()).toBe(sipMessage('hi ₹'));
    // A flow rebuilt from its id reaches the same peer.
    const again = new Promise<string>((r) => client.once('message', (d) => r(d.toString())));
    expect(h.layer.getFlow(flow.id)?.send('again')).toBe(true);
    expect(await again).toBe('again');
  });

  it('drops a datagram larger than MAX_MESSAGE_BYTES and counts it', async () => {
    const h = await start({ limits: { MAX_MESSAGE_BYTES: 1000 } });
    const client = dgram.createSocket('udp4');
    cleanups.push(() => new Promise<void>((r) => client.close(() => r())));
    client.send(sipMessage('x'.repeat(2000)), h.layer.udpPort, HOST);
    client.send(sipMessage('small'), h.layer.udpPort, HOST);
    await waitFor(() => h.received.length === 1);
    expect(h.received[0]!.data.toString()).toBe(sipMessage('small'));
    expect(h.layer.stats().udpOversizeDropped).toBe(1);
  });
});

describe('SIP transport over TCP (RFC 3261 18.3)', () => {
  it('frames messages split in tiny segments and several merged in one segment', async () => {
    const h = await start({}, true);
    const c = await tcpClient(h.layer.tcpPort);
    const split = Buffer.from(sipMessage('split body — ü'));
    for (let i = 0; i < split.length; i += 3) {
      c.socket.write(split.subarray(i, i + 3));
      if (i % 30 === 0) await new Promise((r) => setTimeout(r, 1));
    }
    const merged = [sipMessage('a'), sipMessage(''), sipMessage('ç'.repeat(50))];
    c.socket.write(merged.join(''));
    await waitFor(() => h.received.length === 4);
    expect(h.received.map((m) => m.data.toString())).toEqual([split.toString(), ...merged]);
    const flow = h.received[0]!.flow;
    expect(flow).toMatchObject({ protocol: 'TCP', reliable: true, open: true });
    expect(flow.id).toMatch(/^tcp:\d+$/);
    expect(new Set(h.received.map((m) => m.flow.id)).size).toBe(1);
    await waitFor(() => c.data() === OK.repeat(4));
  });

  it('answers a CRLF CRLF keep-alive ping with a single CRLF pong (RFC 5626 3.5.1)', async () => {
    const h = await start();
    const c = await tcpClient(h.layer.tcpPort);
    c.socket.write('\r\n\r\n');
    await waitFor(() => c.data() === '\r\n');
    c.socket.write('\r\n' + sipMessage('after stray crlf'));
    await waitFor(() => h.received.length === 1);
    await new Promise((r) => setTimeout(r, 20));
    expect(c.data()).toBe('\r\n');
  });

  it('disconnects a sender that never finishes its header within the partial-message timeout', async () => {
    const h = await start({ limits: { PARTIAL_MESSAGE_TIMEOUT_MS: 150 } });
    const c = await tcpClient(h.layer.tcpPort);
    const t0 = Date.now();
    c.socket.write('INVITE sip:bob@example.com SIP/2.0\r\nVia: SIP/2.0/TCP x');
    const trickle = setInterval(() => c.socket.write('x'), 20); // progress does not extend the deadline
    await c.closed;
    clearInterval(trickle);
    const elapsed = Date.now() - t0;
    expect(elapsed).toBeGreaterThanOrEqual(100);
    expect(elapsed).toBeLessThan(2000);
    await waitFor(() => h.closed.length === 1);
    expect(h.closed[0]!.reason).toBe('partial message timeout');
    expect(h.received).toEqual([]);
  });

  it('closes a connection whose Content-Length exceeds MAX_MESSAGE_BYTES, after delivering what came before', async () => {
    const h = await start({ limits: { MAX_MESSAGE_BYTES: 4096 } });
    const c = await tcpClient(h.layer.tcpPort);
    c.socket.write(sipMessage('fine') + 'MESSAGE sip:a@b SIP/2.0\r\nContent-Length: 100000\r\n\r\n' + 'x'.repeat(1000));
    await c.closed;
    await waitFor(() => h.closed.length === 1);
    expect(h.closed[0]!.reason).toBe('framing error: MESSAGE_TOO_LARGE');
    expect(h.received.map((m) => m.data.toString())).toEqual([sipMessage('fine')]);
    expect(h.layer.stats().framingErrors).toBe(1);
  });

  it('closes a connection with a non-numeric Content-Length', async () => {
    const h = await start();
    const c = await tcpClient(h.layer.tcpPort);
    c.socket.write('MESSAGE sip:a@b SIP/2.0\r\nContent-Length: ten\r\n\r\n');
    await c.closed;
    await waitFor(() => h.closed.length === 1);
    expect(h.closed[0]!.reason).toBe('framing error: BAD_CONTENT_LENGTH');
  });

  it('closes an idle connection after IDLE_TIMEOUT_MS and reports it once', async () => {
    const h = await start({ limits: { IDLE_TIMEOUT_MS: 150 } });
    const c = await tcpClient(h.layer.tcpPort);
    await c.closed;
    await new Promise((r) => setTimeout(r, 50));
    expect(h.closed.map((x) => x.reason)).toEqual(['idle timeout']);
  });

  it('flowTo(TCP) reuses the inbound connection to that remote address and port', async () => {
    const h = await start();
    const c = await tcpClient(h.layer.tcpPort);
    c.socket.write(sipMessage('register me', 'REGISTER'));
    await waitFor(() => h.received.length === 1);
    const inbound = h.received[0]!.flow;
    const flow = await h.layer.flowTo('TCP', { address: HOST, port: c.socket.localPort! });
    expect(flow).toBe(inbound);
    expect(h.layer.getFlow(inbound.id)).toBe(inbound);
    expect(flow.send(sipMessage('request to the UA', 'OPTIONS'))).toBe(true);
    await waitFor(() => c.data() === sipMessage('request to the UA', 'OPTIONS'));
  });

  it('flowTo(TCP) connects to a peer once, and the peer can answer on that connection', async () => {
    const h = await start();
    const peerSockets: net.Socket[] = [];
    const peer = net.createServer((s) => {
      peerSockets.push(s);
      s.on('data', () => s.write(OK));
    });
    await new Promise<void>((r) => peer.listen(0, HOST, r));
    cleanups.push(() => new Promise<void>((r) => { peerSockets.forEach((s) => s.destroy()); peer.close(() => r()); }));
    const target = { address: HOST, port: (peer.address() as AddressInfo).port };
    const [a, b] = await Promise.all([h.layer.flowTo('TCP', target), h.layer.flowTo('TCP', target)]);
    expect(a).toBe(b);
    expect(a.send(sipMessage('out', 'OPTIONS'))).toBe(true);
    await waitFor(() => h.received.length === 1);
    expect(h.received[0]!.flow).toBe(a);
    expect(await h.layer.flowTo('TCP', target)).toBe(a);
    expect(peerSockets).toHaveLength(1);
  });

  it('flowTo(TCP) to a port nobody listens on rejects, and a closed flow refuses to send', async () => {
    const h = await start();
    const spare = net.createServer();
    await new Promise<void>((r) => spare.listen(0, HOST, r));
    const port = (spare.address() as AddressInfo).port;
    await new Promise<void>((r) => spare.close(() => r()));
    await expect(h.layer.flowTo('TCP', { address: HOST, port })).rejects.toThrow(/failed/);
    const c = await tcpClient(h.layer.tcpPort);
    c.socket.write(sipMessage());
    await waitFor(() => h.received.length === 1);
    c.socket.destroy();
    await waitFor(() => h.closed.length === 1);
    expect(h.received[0]!.flow.open).toBe(false);
    expect(h.received[0]!.flow.send(OK)).toBe(false);
  });

  it('keeps working when the message handler throws', async () => {
    const h = await start();
    let n = 0;
    h.layer.onMessage(() => {
      n++;
      throw new Error('consumer bug');
    });
    const c = await tcpClient(h.layer.tcpPort);
    c.socket.write(sipMessage('1') + sipMessage('2'));
    await waitFor(() => n === 2);
    c.socket.write('\r\n\r\n');
    await waitFor(() => c.data() === '\r\n');
  });
});

describe('SIP transport over WebSocket (RFC 7118)', () => {
  it('exchanges one SIP message per frame with a client that negotiates the sip subprotocol', async () => {
    const server = await httpServer();
    const h = await start({ httpServer: server }, true);
    const ws = wsClient(server, '/sip', ['sip']);
    await opened(ws);
    expect(ws.protocol).toBe('sip');
    const reply = nextFrame(ws);
    ws.send(sipMessage('über ₹'));
    expect(await reply).toBe(OK);
    const flow = h.received[0]!.flow;
    expect(flow.id).toMatch(/^ws:\d+$/);
    expect(flow).toMatchObject({ protocol: 'WS', reliable: true, open: true });
    expect(h.received[0]!.data.toString()).toBe(sipMessage('über ₹'));
    // A binary frame is one message too.
    ws.send(Buffer.from(sipMessage('binary')));
    await waitFor(() => h.received.length === 2);
    // A CRLF CRLF keep-alive is answered and never reaches the consumer.
    const pong = nextFrame(ws);
    ws.send('\r\n\r\n');
    expect(await pong).toBe('\r\n');
    expect(h.received).toHaveLength(2);
    expect(await h.layer.flowTo('WS', flow.remote)).toBe(flow);
    await expect(h.layer.flowTo('WS', { address: HOST, port: 1 })).rejects.toThrow(/no open SIP WebSocket/);
    expect(h.layer.localEndpoint('WS').port).toBe((server.address() as AddressInfo).port);
  });

  it('refuses a handshake that does not offer the sip subprotocol', async () => {
    const server = await httpServer();
    const h = await start({ httpServer: server });
    await expect(opened(wsClient(server, '/sip'))).rejects.toThrow('HTTP 400');
    await expect(opened(wsClient(server, '/sip', ['chat']))).rejects.toThrow('HTTP 400');
    expect(h.layer.stats().wsRefused).toBe(2);
    expect(h.layer.stats().connections).toBe(0);
  });

  it('leaves upgrades to other paths on the same HTTP server to their own handler', async () => {
    const server = await httpServer();
    const h = await start({ httpServer: server });
    const events = new WebSocketServer({ noServer: true });
    server.on('upgrade', (req, socket, head) => {
      if (req.url === '/events') events.handleUpgrade(req, socket, head, (ws) => ws.send('hello from events'));
    });
    cleanups.push(() => void events.close());
    const ws = wsClient(server, '/events');
    const first = nextFrame(ws);
    await opened(ws);
    expect(await first).toBe('hello from events');
    ws.send(sipMessage('not for sip'));
    await new Promise((r) => setTimeout(r, 50));
    expect(h.received).toEqual([]);
    expect(h.layer.stats().connections).toBe(0);
  });

  it('closes with 1009 on a frame larger than MAX_MESSAGE_BYTES and reports the flow closed', async () => {
    const server = await httpServer();
    const h = await start({ httpServer: server, limits: { MAX_MESSAGE_BYTES: 2000 } });
    const ws = wsClient(server, '/sip', ['sip']);
    await opened(ws);
    const code = new Promise<number>((r) => ws.once('close', (c) => r(c)));
    ws.send(sipMessage('x'.repeat(5000)));
    expect(await code).toBe(1009);
    await waitFor(() => h.closed.length === 1);
    expect(h.closed[0]!.flow.id).toMatch(/^ws:/);
    expect(h.closed[0]!.reason).toBe('message too large (1009)');
    expect(h.received).toEqual([]);
  });

  it('closes an idle WebSocket connection', async () => {
    const server = await httpServer();
    const h = await start({ httpServer: server, limits: { IDLE_TIMEOUT_MS: 150 } });
    const ws = wsClient(server, '/sip', ['sip']);
    await opened(ws);
    const code = await new Promise<number>((r) => ws.once('close', (c) => r(c)));
    expect(code).toBe(1000);
    expect(h.closed.map((c) => c.reason)).toEqual(['idle timeout']);
  });
});

describe('SIP transport lifecycle', () => {
  it('close() closes every socket and connection once, and may be called twice', async () => {
    const server = await httpServer();
    const h = await start({ httpServer: server });
    const c = await tcpClient(h.layer.tcpPort);
    const ws = wsClient(server, '/sip', ['sip']);
    await opened(ws);
    c.socket.write(sipMessage());
    await waitFor(() => h.received.length === 1 && h.layer.stats().connections === 2);
    const wsClosed = new Promise<number>((r) => ws.once('close', (code) => r(code)));
    await Promise.all([h.layer.close(), h.layer.close()]);
    await h.layer.close();
    await c.closed;
    expect(await wsClosed).toBe(1001);
    expect(h.closed.map((x) => x.reason).sort()).toEqual(['transport closed', 'transport closed']);
    expect(h.received[0]!.flow.send(OK)).toBe(false);
    await expect(h.layer.flowTo('UDP', { address: HOST, port: 5060 })).rejects.toThrow(/closed/);
    // The ports are free again.
    const again = await createTransportLayer({ host: HOST, port: h.layer.tcpPort, logger: silentLogger });
    await again.close();
    // The HTTP server still serves other requests.
    const { port } = server.address() as AddressInfo;
    const body = await new Promise<string>((r) => http.get(`http://${HOST}:${port}/`, (res) => res.on('data', (d) => r(String(d)))));
    expect(body).toBe('ok');
  });
});

import dgram from 'node:dgram';
import http from 'node:http';
import net from 'node:net';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { silentLogger } from '../../../../src/observability/logger.js';
import { TransportLimits } from '../../../../src/sip/constants.js';
import { createTransportLayer, type TransportLayerImpl, type TransportLayerOptions } from '../../../../src/sip/transport/index.js';
import type { SipFlow } from '../../../../src/sip/transport/types.js';
import { FakeClock } from '../../../support/fake-clock.js';

const HOST = '127.0.0.1';
const MSG = 'OPTIONS sip:a@b SIP/2.0\r\nCall-ID: 1\r\nContent-Length: 0\r\n\r\n';
const cleanups: (() => Promise<unknown> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function start(opts: Partial<TransportLayerOptions> = {}) {
  const clock = new FakeClock();
  const layer = await createTransportLayer({ host: HOST, port: 0, logger: silentLogger, clock, ...opts });
  cleanups.push(() => layer.close());
  const closed: { flow: SipFlow; reason: string }[] = [];
  const received: SipFlow[] = [];
  layer.onMessage((m) => received.push(m.flow));
  layer.onFlowClosed((flow, reason) => closed.push({ flow, reason }));
  return { layer, clock, closed, received };
}

async function waitFor(cond: () => boolean, ms = 3000): Promise<void> {
  const until = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > until) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 2));
  }
}

async function connect(layer: TransportLayerImpl) {
  const chunks: Buffer[] = [];
  const socket = net.connect({ host: HOST, port: layer.tcpPort });
  socket.on('error', () => {});
  socket.on('data', (c) => chunks.push(c));
  let isClosed = false;
  socket.once('close', () => (isClosed = true));
  cleanups.push(() => void socket.destroy());
  await new Promise((r) => socket.once('connect', r));
  return { socket, data: () => Buffer.concat(chunks).toString(), closed: () => isClosed };
}

describe('TCP connection timers (fake clock)', () => {
  it('runs the partial-message deadline from the first byte and does not extend it on progress', async () => {
    const { layer, clock, closed } = await start();
    const c = await connect(layer);
    await waitFor(() => layer.stats().connections === 1);
    expect(clock.pending()).toBe(1); // idle only
    c.socket.write('OPTIONS sip:a@b SIP/2.0\r\n');
    await waitFor(() => clock.pending() === 2); // idle + partial
    clock.advance(TransportLimits.PARTIAL_MESSAGE_TIMEOUT_MS - 1);
    c.socket.write('Call-ID: 1\r\n');
    await new Promise((r) => setTimeout(r, 20));
    expect(closed).toEqual([]);
    clock.advance(1);
    expect(closed.map((x) => x.reason)).toEqual(['partial message timeout']);
    await waitFor(c.closed);
    expect(layer.stats().partialTimeouts).toBe(1);
  });

  it('stops the partial-message deadline when the message completes', async () => {
    const { layer, clock, closed, received } = await start();
    const c = await connect(layer);
    c.socket.write(MSG.slice(0, 20));
    await waitFor(() => clock.pending() === 2);
    c.socket.write(MSG.slice(20));
    await waitFor(() => received.length === 1);
    expect(clock.pending()).toBe(1);
    clock.advance(TransportLimits.PARTIAL_MESSAGE_TIMEOUT_MS * 2);
    expect(closed).toEqual([]);
  });

  it('restarts the idle deadline on each message and each keep-alive ping', async () => {
    const { layer, clock, closed, received } = await start({ limits: { IDLE_TIMEOUT_MS: 1000 } });
    const c = await connect(layer);
    await waitFor(() => layer.stats().connections === 1);
    clock.advance(999);
    c.socket.write(MSG);
    await waitFor(() => received.length === 1);
    clock.advance(999);
    c.socket.write('\r\n\r\n');
    await waitFor(() => c.data() === '\r\n');
    clock.advance(999);
    expect(closed).toEqual([]);
    clock.advance(1);
    expect(closed.map((x) => x.reason)).toEqual(['idle timeout']);
    await waitFor(c.closed);
    expect(clock.pending()).toBe(0);
  });

  it('reports a connection closed by the peer once, with its reason, and cancels its timers', async () => {
    const { layer, clock, closed } = await start();
    const c = await connect(layer);
    await waitFor(() => layer.stats().connections === 1);
    c.socket.end();
    await waitFor(() => closed.length === 1);
    expect(closed[0]!.reason).toBe('peer closed');
    expect(clock.pending()).toBe(0);
    await layer.close();
    expect(closed).toHaveLength(1);
  });
});

describe('connection limit (MAX_CONNECTIONS counts TCP and WS together)', () => {
  it('refuses connections beyond the limit', async () => {
    const server = http.createServer();
    await new Promise<void>((r) => server.listen(0, HOST, r));
    cleanups.push(() => new Promise<void>((r) => { server.closeAllConnections(); server.close(() => r()); }));
    const { layer } = await start({ httpServer: server, limits: { MAX_CONNECTIONS: 2 } });
    const a = await connect(layer);
    const b = await connect(layer);
    await waitFor(() => layer.stats().connections === 2);
    const c = await connect(layer);
    await waitFor(c.closed);
    const ws = new WebSocket(`ws://${HOST}:${(server.address() as AddressInfo).port}/sip`, ['sip']);
    ws.on('error', () => {});
    const status = await new Promise<number>((r) => ws.once('unexpected-response', (_q, res) => r(res.statusCode ?? 0)));
    expect(status).toBe(503);
    expect(a.closed() || b.closed()).toBe(false);
    expect(layer.stats()).toMatchObject({ connections: 2, connectionsRejected: 2 });
  });
});

describe('transport layer API', () => {
  it('rebuilds UDP flows from ids without storing them, and knows its connection flows', async () => {
    const { layer } = await start();
    const flow = layer.getFlow('udp:127.0.0.1:5999');
    expect(flow).toMatchObject({ id: 'udp:127.0.0.1:5999', protocol: 'UDP', remote: { address: HOST, port: 5999 } });
    expect(flow?.local).toEqual({ address: HOST, port: layer.udpPort });
    expect(layer.getFlow('tcp:99')).toBeUndefined();
    expect(layer.getFlow('udp:nonsense')).toBeUndefined();
    expect((await layer.flowTo('UDP', { address: HOST, port: 5999 })).id).toBe('udp:127.0.0.1:5999');
    expect(layer.localEndpoint('UDP')).toEqual({ address: HOST, port: layer.udpPort });
    expect(layer.localEndpoint('TCP')).toEqual({ address: HOST, port: layer.tcpPort });
    expect(() => layer.localEndpoint('WS')).toThrow(/not enabled/);
    await expect(layer.flowTo('WS', { address: HOST, port: 1 })).rejects.toThrow(/no open SIP WebSocket/);
  });

  it('does not grow with the number of UDP source ports', async () => {
    const { layer, received } = await start();
    const sockets = await Promise.all(
      Array.from({ length: 20 }, async () => {
        const s = dgram.createSocket('udp4');
        await new Promise<void>((r) => s.bind(0, HOST, r));
        cleanups.push(() => new Promise<void>((r) => s.close(() => r())));
        s.send(MSG, layer.udpPort, HOST);
        return s;
      }),
    );
    await waitFor(() => received.length === sockets.length);
    expect(new Set(received.map((f) => f.id)).size).toBe(20);
    expect(layer.stats().connections).toBe(0);
  });

  it('ignores CRLF-only datagrams', async () => {
    const { layer, received } = await start();
    const s = dgram.createSocket('udp4');
    cleanups.push(() => new Promise<void>((r) => s.close(() => r())));
    s.send('\r\n\r\n', layer.udpPort, HOST);
    s.send(MSG, layer.udpPort, HOST);
    await waitFor(() => received.length === 1);
    expect(layer.stats().udpReceived).toBe(1);
  });

  it('fails to start on a port already taken and leaves nothing bound', async () => {
    const taken = dgram.createSocket('udp4');
    await new Promise<void>((r) => taken.bind(0, HOST, r));
    cleanups.push(() => new Promise<void>((r) => taken.close(() => r())));
    const port = taken.address().port;
    await expect(createTransportLayer({ host: HOST, port, logger: silentLogger })).rejects.toMatchObject({ code: 'EADDRINUSE' });
    const probe = net.createServer();
    await new Promise<void>((resolve, reject) => {
      probe.once('error', reject);
      probe.listen(port, HOST, resolve);
    });
    await new Promise<void>((r) => probe.close(() => r()));
  });

  it('after close, flows refuse to send and flowTo rejects', async () => {
    const { layer } = await start();
    const flow = layer.getFlow('udp:127.0.0.1:5999')!;
    await layer.close();
    expect(flow.open).toBe(false);
    expect(flow.send(MSG)).toBe(false);
    expect(layer.getFlow('udp:127.0.0.1:5999')).toBeUndefined();
    await expect(layer.flowTo('TCP', { address: HOST, port: 5999 })).rejects.toThrow(/closed/);
  });
});

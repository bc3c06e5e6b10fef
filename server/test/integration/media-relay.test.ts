/**
 * The RTP relay with real UDP sockets on 127.0.0.1: two fake endpoints, an intruder, RTCP, close.
 */
import dgram from 'node:dgram';
import { afterEach, describe, expect, it } from 'vitest';
import { PortAllocator, PortExhaustedError, createRelay, type Relay } from '../../src/media/relay/index.js';

const HOST = '127.0.0.1';

interface Peer {
  socket: dgram.Socket;
  port: number;
  inbox: { msg: Buffer; from: string; port: number }[];
}

const open: dgram.Socket[] = [];
const relays: Relay[] = [];

async function peer(address = HOST): Promise<Peer> {
  const socket = dgram.createSocket('udp4');
  open.push(socket);
  await new Promise<void>((resolve) => socket.bind(0, address, resolve));
  const p: Peer = { socket, port: socket.address().port, inbox: [] };
  socket.on('message', (msg, rinfo) => p.inbox.push({ msg, from: rinfo.address, port: rinfo.port }));
  return p;
}

async function relay(allocator: PortAllocator, latch?: 'signalled' | 'any-first'): Promise<Relay> {
  const r = await createRelay({ address: HOST, allocator, ...(latch ? { latch } : {}) });
  relays.push(r);
  return r;
}

function send(from: Peer, port: number, msg: Buffer): Promise<void> {
  return new Promise((resolve, reject) => from.socket.send(msg, port, HOST, (err) => (err ? reject(err) : resolve())));
}

async function waitFor(cond: () => boolean, ms = 2000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 5));
  }
}

const settle = (ms = 100): Promise<void> => new Promise((r) => setTimeout(r, ms));

let seq = 0;
function rtp(payloadByte: number, size = 160): Buffer {
  const b = Buffer.alloc(12 + size, payloadByte);
  b[0] = 0x80; // V=2
  b[1] = 0; // PT 0 PCMU
  b.writeUInt16BE(++seq & 0xffff, 2);
  b.writeUInt32BE(seq * 160, 4);
  b.writeUInt32BE(0x11223344, 8);
  return b;
}
const rtcpRR = (ssrc: number): Buffer => Buffer.from([0x80, 201, 0, 1, (ssrc >>> 24) & 255, (ssrc >>> 16) & 255, (ssrc >>> 8) & 255, ssrc & 255]);

afterEach(async () => {
  await Promise.all(relays.splice(0).map((r) => r.close()));
  for (const s of open.splice(0)) s.close();
});

describe('RtpRelay over real UDP', () => {
  it('relays RTP both ways byte-identical, out of the other leg socket', async () => {
    const r = await relay(new PortAllocator(47000, 47019));
    const a = await peer();
    const b = await peer();
    r.setRemote('A', { address: HOST, port: a.port });
    r.setRemote('B', { address: HOST, port: b.port });
    expect(r.legA.local.rtpPort % 2).toBe(0);
    expect(r.legA.local.rtcpPort).toBe(r.legA.local.rtpPort + 1);

    const fromA = [rtp(0x11), rtp(0x12, 20), rtp(0x13, 320)];
    for (const m of fromA) await send(a, r.legA.local.rtpPort, m);
    await waitFor(() => b.inbox.length === 3);
    expect(b.inbox.map((x) => x.msg)).toEqual(fromA);
    expect(b.inbox.every((x) => x.port === r.legB.local.rtpPort)).toBe(true);

    const fromB = rtp(0x22);
    await send(b, r.legB.local.rtpPort, fromB);
    await waitFor(() => a.inbox.length === 1);
    expect(a.inbox[0]).toEqual({ msg: fromB, from: HOST, port: r.legA.local.rtpPort });

    expect(r.legA.stats.rtp).toMatchObject({ packetsIn: 3, bytesIn: 172 + 32 + 332, packetsOut: 1, bytesOut: 172 });
    expect(r.legB.stats.rtp).toMatchObject({ packetsIn: 1, packetsOut: 3, droppedWrongSource: 0 });
    expect(r.legA.latched.rtp).toEqual({ address: HOST, port: a.port });
  });

  it('after latching, a third socket sending to the leg is ignored and counted', async () => {
    const r = await relay(new PortAllocator(47000, 47019));
    const [a, b, intruder] = [await peer(), await peer(), await peer()];
    r.setRemote('A', { address: HOST, port: a.port });
    r.setRemote('B', { address: HOST, port: b.port });
    await send(a, r.legA.local.rtpPort, rtp(1));
    await waitFor(() => b.inbox.length === 1);

    await send(intruder, r.legA.local.rtpPort, rtp(0x66));
    await send(intruder, r.legA.local.rtpPort, rtp(0x66));
    await send(a, r.legA.local.rtpPort, rtp(2));
    await waitFor(() => b.inbox.length === 2);
    await settle();
    expect(b.inbox.map((x) => x.msg[12])).toEqual([1, 2]);
    expect(r.legA.stats.rtp.droppedWrongSource).toBe(2);
    expect(r.legA.latched.rtp?.port).toBe(a.port);
  });

  it("signalled latch: a source on another IP is refused even before anything latched", async () => {
    const r = await relay(new PortAllocator(47000, 47019));
    const [a, b, intruder] = [await peer(), await peer(), await peer('127.0.0.2')];
    r.setRemote('A', { address: HOST, port: a.port });
    r.setRemote('B', { address: HOST, port: b.port });
    await send(intruder, r.legA.local.rtpPort, rtp(0x66));
    await send(a, r.legA.local.rtpPort, rtp(1));
    await waitFor(() => b.inbox.length === 1);
    expect(b.inbox[0]!.msg[12]).toBe(1);
    expect(r.legA.stats.rtp.droppedWrongSource).toBe(1);
  });

  it('any-first latch (NAT): media goes back to where it came from, not to the signalled private address', async () => {
    const r = await relay(new PortAllocator(47000, 47019), 'any-first');
    const [a, b] = [await peer(), await peer()];
    r.setRemote('A', { address: '192.0.2.1', port: 4000 }); // what a NATed phone puts in its SDP
    r.setRemote('B', { address: HOST, port: b.port });
    await send(a, r.legA.local.rtpPort, rtp(1));
    await waitFor(() => b.inbox.length === 1);
    await send(b, r.legB.local.rtpPort, rtp(2));
    await waitFor(() => a.inbox.length === 1);
    expect(a.inbox[0]!.msg[12]).toBe(2);
    expect(r.legA.latched.rtp).toEqual({ address: HOST, port: a.port });
  });

  it('a changed signalled destination (re-INVITE) unlatches; the same one again does not', async () => {
    const r = await relay(new PortAllocator(47000, 47019));
    const [a1, a2, b] = [await peer(), await peer(), await peer()];
    r.setRemote('A', { address: HOST, port: a1.port });
    r.setRemote('B', { address: HOST, port: b.port });
    await send(a1, r.legA.local.rtpPort, rtp(1));
    await waitFor(() => b.inbox.length === 1);
    r.setRemote('A', { address: HOST, port: a1.port }); // session refresh: latch kept
    expect(r.legA.latched.rtp?.port).toBe(a1.port);

    r.setRemote('A', { address: HOST, port: a2.port });
    expect(r.legA.latched.rtp).toBeNull();
    await send(a2, r.legA.local.rtpPort, rtp(2));
    await waitFor(() => b.inbox.length === 2);
    await send(a1, r.legA.local.rtpPort, rtp(3));
    await send(b, r.legB.local.rtpPort, rtp(4));
    await waitFor(() => a2.inbox.length === 1);
    await settle();
    expect(b.inbox.map((x) => x.msg[12])).toEqual([1, 2]);
    expect(a1.inbox).toHaveLength(0);
    expect(r.legA.stats.rtp.droppedWrongSource).toBe(1);
  });

  it('relays RTCP between the RTCP ports (RTP + 1), latched separately', async () => {
    const r = await relay(new PortAllocator(47000, 47019));
    const [a, aRtcp, b, bRtcp] = [await peer(), await peer(), await peer(), await peer()];
    r.setRemote('A', { address: HOST, port: a.port, rtcpPort: aRtcp.port });
    r.setRemote('B', { address: HOST, port: b.port, rtcpPort: bRtcp.port });
    const rrA = rtcpRR(0xaaaa0001);
    const rrB = rtcpRR(0xbbbb0002);
    await send(aRtcp, r.legA.local.rtcpPort, rrA);
    await waitFor(() => bRtcp.inbox.length === 1);
    await send(bRtcp, r.legB.local.rtcpPort, rrB);
    await waitFor(() => aRtcp.inbox.length === 1);
    expect(bRtcp.inbox[0]).toEqual({ msg: rrA, from: HOST, port: r.legB.local.rtcpPort });
    expect(aRtcp.inbox[0]).toEqual({ msg: rrB, from: HOST, port: r.legA.local.rtcpPort });
    expect(b.inbox).toHaveLength(0);
    expect(r.legA.stats.rtcp).toMatchObject({ packetsIn: 1, packetsOut: 1 });
    expect(r.legA.latched.rtcp?.port).toBe(aRtcp.port);
    expect(r.legA.latched.rtp).toBeNull();
  });

  it('drops malformed packets without latching on them', async () => {
    const r = await relay(new PortAllocator(47000, 47019), 'any-first');
    const [a, b] = [await peer(), await peer()];
    r.setRemote('B', { address: HOST, port: b.port });
    await send(a, r.legA.local.rtpPort, Buffer.from([0x00, 0x01, 0x00, 0x00])); // STUN-ish, short
    await send(a, r.legA.local.rtpPort, Buffer.alloc(40, 0x40)); // version 1
    await waitFor(() => r.legA.stats.rtp.droppedMalformed === 2);
    await settle();
    expect(b.inbox).toHaveLength(0);
    expect(r.legA.latched.rtp).toBeNull();
  });

  it('counts packets with nowhere to go (other leg not signalled yet)', async () => {
    const r = await relay(new PortAllocator(47000, 47019));
    const a = await peer();
    r.setRemote('A', { address: HOST, port: a.port });
    await send(a, r.legA.local.rtpPort, rtp(1));
    await waitFor(() => r.legA.stats.rtp.droppedNoDestination === 1);
  });

  it('close is idempotent, releases the ports, and the allocator can bind them again later', async () => {
    const allocator = new PortAllocator(47100, 47107); // 4 pairs: two relays' worth
    const r1 = await relay(allocator);
    const ports = [r1.legA.local.rtpPort, r1.legB.local.rtpPort];
    expect(allocator.allocated).toBe(2);
    await Promise.all([r1.close(), r1.close()]);
    await r1.close();
    expect(r1.closed).toBe(true);
    expect(allocator.allocated).toBe(0);
    expect(() => r1.setRemote('A', { address: HOST, port: 4000 })).toThrow(/after close/);

    const r2 = await relay(allocator); // round-robin: the other two pairs
    expect([r2.legA.local.rtpPort, r2.legB.local.rtpPort]).not.toContain(ports[0]);
    await r2.close();
    const r3 = await relay(allocator); // wrapped round: r1's ports, bindable again
    expect([r3.legA.local.rtpPort, r3.legB.local.rtpPort]).toEqual(ports);
  });

  it('rejects with PortExhaustedError when the range is used up, leaking nothing', async () => {
    const allocator = new PortAllocator(47200, 47203); // 2 pairs: one relay
    await relay(allocator);
    await expect(createRelay({ address: HOST, allocator })).rejects.toBeInstanceOf(PortExhaustedError);
    expect(allocator.allocated).toBe(2);
  });

  it('skips a port taken by another process', async () => {
    const squatter = dgram.createSocket('udp4');
    open.push(squatter);
    await new Promise<void>((resolve) => squatter.bind(47300, HOST, resolve));
    const warnings: object[] = [];
    const r = await createRelay({ address: HOST, allocator: new PortAllocator(47300, 47309), logger: { debug: () => {}, warn: (o) => warnings.push(o) } });
    relays.push(r);
    expect(r.legA.local.rtpPort).toBe(47302);
    expect(r.legB.local.rtpPort).toBe(47304);
    expect(warnings).toHaveLength(1);
  });
});

/**
 * The worker engine in-process, on in-memory UDP ports and a hand-driven clock: bad input of
 * every kind never throws and is counted; latching; dedupe of a key sent both ways.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Engine, SLOTS } from '../../../../src/media/engine/engine.js';
import type { MediaNotifications } from '../../../../src/media/engine/protocol.js';
import type { PacketHandler, UdpFactory } from '../../../../src/media/engine/udp.js';
import { encodeUlaw } from '../../../../src/media/g711/index.js';
import { PromptLibrary } from '../../../../src/media/prompts/library.js';
import { channel, dtmfSignal, silence, concat } from '../../../../devtools/dsp/generator.js';

interface Wire {
  handlers: Map<number, PacketHandler>;
  sent: { port: number; to: number; len: number; pt: number }[];
}

function fakeUdp(): { udp: UdpFactory; wire: Wire } {
  const wire: Wire = { handlers: new Map(), sent: [] };
  const udp: UdpFactory = async (_address, rtpPort, h) => {
    wire.handlers.set(rtpPort, h.rtp);
    wire.handlers.set(rtpPort + 1, h.rtcp);
    const port = (local: number) => ({
      send: (buf: Uint8Array, len: number, to: number) => void wire.sent.push({ port: local, to, len, pt: buf[1]! & 0x7f }),
      close: async () => void wire.handlers.delete(local),
    });
    return { rtp: port(rtpPort), rtcp: port(rtpPort + 1) };
  };
  return { udp, wire };
}

async function setup() {
  const { udp, wire } = fakeUdp();
  let t = 0;
  const events: { event: string; data: unknown }[] = [];
  const engine = new Engine({
    address: '127.0.0.1', library: new PromptLibrary(), udp, autoStart: false, now: () => t,
    notify: <K extends keyof MediaNotifications & string>(event: K, data: MediaNotifications[K]) => void events.push({ event, data }),
  });
  const b = engine.createBridge('b', {});
  await b.addLeg('c', 'customer', 20000);
  await b.addLeg('a', 'agent', 20002);
  b.configureLeg('c', { remote: { address: '10.0.0.1', port: 5000 }, codec: 'pcmu', payloadType: 0, telephoneEventPt: 101, ptime: 20 });
  b.configureLeg('a', { remote: { address: '10.0.0.2', port: 6000 }, codec: 'pcma', payloadType: 8, telephoneEventPt: null, ptime: 20 });
  let n = 0;
  /** Advance one 20 ms cycle: every slot once. */
  const cycle = (): void => {
    for (let s = 0; s < SLOTS; s++) {
      t += 20 / SLOTS;
      engine.tickSlot(n++);
    }
  };
  const rtp = (port: number, from: string, fromPort: number, buf: Buffer): void => wire.handlers.get(port)?.(buf, from, fromPort);
  return { engine, b, wire, events, cycle, rtp, time: () => t };
}

let seq = 0;
function audio(pcm: Int16Array, ts: number, pt = 0): Buffer {
  const b = Buffer.alloc(12 + pcm.length);
  b[0] = 0x80;
  b[1] = pt;
  b.writeUInt16BE(++seq & 0xffff, 2);
  b.writeUInt32BE(ts >>> 0, 4);
  b.writeUInt32BE(0xabc, 8);
  const u = new Uint8Array(pcm.length);
  encodeUlaw(pcm, u);
  b.set(u, 12);
  return b;
}

describe('media engine (in-process)', () => {
  it('property: random datagrams on every port never throw and the leg keeps working', async () => {
    const { b, cycle, rtp, wire } = await setup();
    const datagram = fc.uint8Array({ minLength: 0, maxLength: 1500 }).map((a) => Buffer.from(a));
    const rtpish = fc.tuple(fc.integer({ min: 0, max: 255 }), fc.integer({ min: 0, max: 255 }), datagram).map(([b0, b1, rest]) => Buffer.concat([Buffer.from([0x80 | (b0 & 0x3f), b1]), rest]));
    const source = fc.constantFrom(['10.0.0.1', 5000], ['10.0.0.1', 5001], ['10.0.0.9', 5000], ['10.0.0.2', 6000]);
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.constantFrom(20000, 20001, 20002, 20003), source, fc.oneof(datagram, rtpish)), { maxLength: 60 }), (packets) => {
        for (const [port, [addr, p], buf] of packets) rtp(port, addr as string, p as number, buf);
        cycle();
      }),
      { numRuns: 400 },
    );
    // still alive: audio from the real customer comes out at the agent
    const before = wire.sent.length;
    for (let k = 0; k < 10; k++) {
      rtp(20000, '10.0.0.1', 5000, audio(new Int16Array(160).fill(1000), 7_000_000 + k * 160));
      cycle();
    }
    expect(wire.sent.length).toBeGreaterThan(before);
    const st = b.stats().legs.find((l) => l.id === 'c')!;
    expect(st.rx.malformed + st.rx.wrongSource + st.rx.wrongPayloadType + st.rx.oversized).toBeGreaterThan(0);
  });

  it('latches to the first packet from the signalled address and ignores everyone else', async () => {
    const { b, cycle, rtp, events } = await setup();
    rtp(20000, '10.0.0.9', 5000, audio(new Int16Array(160), 100)); // wrong address: never latches
    rtp(20000, '10.0.0.1', 5000, audio(new Int16Array(160), 100, 96)); // right address, PT not negotiated: no latch
    rtp(20000, '10.0.0.1', 5004, audio(new Int16Array(160), 260)); // latches here (port learnt)
    rtp(20000, '10.0.0.1', 5000, audio(new Int16Array(160), 420)); // same IP, other port: hijack attempt
    cycle();
    expect(events.filter((e) => e.event === 'latched').map((e) => e.data)).toEqual([{ bridgeId: 'b', legId: 'c', address: '10.0.0.1', port: 5004 }]);
    const rx = b.stats().legs.find((l) => l.id === 'c')!.rx;
    expect(rx).toMatchObject({ packets: 1, wrongSource: 2, wrongPayloadType: 1 });
    // re-signalling the same remote keeps the latch; a new remote unlatches
    b.configureLeg('c', { remote: { address: '10.0.0.1', port: 5000 }, codec: 'pcmu', payloadType: 0, telephoneEventPt: 101, ptime: 20 });
    rtp(20000, '10.0.0.1', 5000, audio(new Int16Array(160), 580));
    expect(b.stats().legs.find((l) => l.id === 'c')!.rx.wrongSource).toBe(3);
    b.configureLeg('c', { remote: { address: '10.0.0.1', port: 5010 }, codec: 'pcmu', payloadType: 0, telephoneEventPt: 101, ptime: 20 });
    rtp(20000, '10.0.0.1', 5000, audio(new Int16Array(160), 740));
    expect(b.stats().legs.find((l) => l.id === 'c')!.latched).toEqual({ address: '10.0.0.1', port: 5000 });
  });

  it('RTP from an unexpected source is warned about once per leg and counted in the worker RTP totals', async () => {
    const { engine, b, cycle, rtp, events } = await setup();
    // The SDP named 10.0.0.1; the phone sends from 127.0.0.1 (two networks): dropped, one-way audio.
    for (let i = 0; i < 5; i++) rtp(20000, '127.0.0.1', 5000, audio(new Int16Array(160), 100 + 160 * i));
    // The agent leg latches, then someone else sends to it.
    rtp(20002, '10.0.0.2', 6000, audio(new Int16Array(160), 100, 8));
    rtp(20002, '10.0.0.66', 6000, audio(new Int16Array(160), 260, 8));
    rtp(20002, '10.0.0.66', 6000, audio(new Int16Array(160), 420, 8));
    cycle();
    const warnings = events.filter((e) => e.event === 'log' && (e.data as { level: string }).level === 'warn').map((e) => e.data as { msg: string; data: Record<string, string> });
    expect(warnings).toHaveLength(2);
    expect(warnings[0]!.msg).toMatch(/another address than the SDP names/);
    expect(warnings[0]!.data).toMatchObject({ bridge: 'b', leg: 'c', from: '127.0.0.1:5000', expected: '10.0.0.1' });
    expect(warnings[1]!.msg).toMatch(/latched/);
    expect(warnings[1]!.data).toMatchObject({ leg: 'a', from: '10.0.0.66:6000', expected: '10.0.0.2:6000' });
    expect(b.stats().legs.find((l) => l.id === 'c')!.rx.wrongSource).toBe(5);
    expect(engine.stats().rtp).toMatchObject({ wrongSource: 7, packetsIn: 1 });
  });

  // RFC 4733 reports a key on its first packet, before the detector can confirm the tone (about
  // 38 ms in); with the first 3 event packets lost the tone is confirmed first. One digit either way.
  it.each([
    ['the event first (reported on its first packet)', 0, { inband: 0, rfc4733: 1, duplicates: 1 }],
    ['the tone first (first 3 event packets lost)', 3, { inband: 1, rfc4733: 0, duplicates: 1 }],
  ])('a key sent both in-band and as RFC 4733 is one digit: %s', async (_name, lost, counts) => {
    const { b, cycle, rtp, events } = await setup();
    const pcm = channel(concat(silence(200), dtmfSignal('7', { lowDbm0: -8, onMs: 120, offMs: 300 })));
    const toneAt = 200 * 8;
    const ts0 = 50_000;
    for (let k = 0; k * 160 < pcm.length; k++) {
      const ts = ts0 + k * 160;
      rtp(20000, '10.0.0.1', 5000, audio(pcm.subarray(k * 160, k * 160 + 160), ts));
      const into = k * 160 - toneAt; // RFC 4733 packets for the same key, same timeline
      if (into >= lost * 160 && into <= 960) {
        const ev = Buffer.alloc(16);
        ev[0] = 0x80;
        ev[1] = (into === 0 ? 0x80 : 0) | 101;
        ev.writeUInt16BE(++seq & 0xffff, 2);
        ev.writeUInt32BE(ts0 + toneAt, 4);
        ev.writeUInt32BE(0xabc, 8);
        ev[12] = 7;
        ev[13] = into === 960 ? 0x8a : 0x0a;
        ev.writeUInt16BE(into + 160, 14);
        rtp(20000, '10.0.0.1', 5000, ev);
      }
      cycle();
    }
    for (let k = 0; k < 20; k++) cycle();
    const digits = events.filter((e) => e.event === 'digit').map((e) => e.data as MediaNotifications['digit']);
    expect(digits.map((d) => [d.digit, d.legId])).toEqual([['7', 'c']]);
    expect(b.stats().legs.find((l) => l.id === 'c')!.dtmf).toMatchObject(counts);
  });
});

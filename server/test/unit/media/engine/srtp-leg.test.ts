/**
 * SRTP legs in the worker engine (in-process, in-memory UDP): what arrives is authenticated and
 * decrypted before latching, DTMF detection and masking; what leaves is SRTP; plain or replayed
 * packets never reach the audio path.
 */
import { describe, expect, it } from 'vitest';
import { Engine, SLOTS } from '../../../../src/media/engine/engine.js';
import type { LegSrtp, MediaNotifications } from '../../../../src/media/engine/protocol.js';
import type { PacketHandler, UdpFactory } from '../../../../src/media/engine/udp.js';
import { encodeUlaw } from '../../../../src/media/g711/index.js';
import { PromptLibrary } from '../../../../src/media/prompts/library.js';
import { SrtpSession } from '../../../../src/media/srtp/srtp.js';
import { channel, concat, dtmfSignal, silence } from '../../../../devtools/dsp/generator.js';

const OURS = Buffer.alloc(30, 0x11);
const PEERS = Buffer.alloc(30, 0x22);
const SUITE = 'AES_CM_128_HMAC_SHA1_80' as const;
const LEG_SRTP: LegSrtp = { suite: SUITE, local: OURS, remote: PEERS };

async function setup() {
  const handlers = new Map<number, PacketHandler>();
  const sent: { from: number; buf: Buffer }[] = [];
  const udp: UdpFactory = async (_a, rtpPort, h) => {
    handlers.set(rtpPort, h.rtp);
    handlers.set(rtpPort + 1, h.rtcp);
    const port = (local: number) => ({
      send: (buf: Uint8Array, len: number) => void sent.push({ from: local, buf: Buffer.from(buf.subarray(0, len)) }),
      close: async () => void handlers.delete(local),
    });
    return { rtp: port(rtpPort), rtcp: port(rtpPort + 1) };
  };
  let t = 0;
  const events: { event: string; data: unknown }[] = [];
  const engine = new Engine({
    address: '127.0.0.1', library: new PromptLibrary(), udp, autoStart: false, now: () => t,
    notify: <K extends keyof MediaNotifications & string>(event: K, data: MediaNotifications[K]) => void events.push({ event, data }),
  });
  const b = engine.createBridge('b', {});
  await b.addLeg('c', 'customer', 20000);
  await b.addLeg('a', 'agent', 20002);
  b.configureLeg('c', { remote: { address: '10.0.0.1', port: 5000 }, codec: 'pcmu', payloadType: 0, telephoneEventPt: 101, ptime: 20, srtp: LEG_SRTP });
  b.configureLeg('a', { remote: { address: '10.0.0.2', port: 6000 }, codec: 'pcmu', payloadType: 0, telephoneEventPt: null, ptime: 20 });
  let n = 0;
  const cycle = (): void => {
    for (let s = 0; s < SLOTS; s++) {
      t += 20 / SLOTS;
      engine.tickSlot(n++);
    }
  };
  // The customer's phone: it protects with its key and unprotects with ours.
  const phone = new SrtpSession({ suite: SUITE, keySalt: PEERS }, { suite: SUITE, keySalt: OURS });
  const fromPhone = (plain: Buffer): Buffer => Buffer.from(phone.protectRtp(plain, plain.length) as Buffer);
  const deliver = (buf: Buffer): void => handlers.get(20000)?.(buf, '10.0.0.1', 5000);
  const digits = (): string[] => events.filter((e) => e.event === 'digit').map((e) => (e.data as MediaNotifications['digit']).digit);
  const legStats = (id: string) => b.stats().legs.find((l) => l.id === id)!;
  return { b, sent, cycle, phone, fromPhone, deliver, digits, legStats };
}

let seq = 100;
function audio(pcm: Int16Array, ts: number): Buffer {
  const b = Buffer.alloc(12 + pcm.length);
  b[0] = 0x80;
  b[1] = 0;
  b.writeUInt16BE(++seq & 0xffff, 2);
  b.writeUInt32BE(ts >>> 0, 4);
  b.writeUInt32BE(0xabc, 8);
  encodeUlaw(pcm, b.subarray(12));
  return b;
}
function event(digit: number, ts: number, duration: number, end: boolean, first: boolean): Buffer {
  const ev = Buffer.alloc(16);
  ev[0] = 0x80;
  ev[1] = (first ? 0x80 : 0) | 101;
  ev.writeUInt16BE(++seq & 0xffff, 2);
  ev.writeUInt32BE(ts, 4);
  ev.writeUInt32BE(0xabc, 8);
  ev[12] = digit;
  ev[13] = end ? 0x8a : 0x0a;
  ev.writeUInt16BE(duration, 14);
  return ev;
}

describe('SRTP media leg (RFC 3711 in the media worker)', () => {
  it('an in-band key in SRTP audio is detected after decryption and masked towards the agent', async () => {
    const { cycle, fromPhone, deliver, digits, legStats } = await setup();
    const pcm = channel(concat(silence(200), dtmfSignal('7', { lowDbm0: -8, onMs: 120, offMs: 300 })));
    for (let k = 0; k * 160 < pcm.length; k++) {
      deliver(fromPhone(audio(pcm.subarray(k * 160, k * 160 + 160), 50_000 + k * 160)));
      cycle();
    }
    for (let k = 0; k < 20; k++) cycle();
    expect(digits()).toEqual(['7']);
    const c = legStats('c');
    expect(c.latched).toEqual({ address: '10.0.0.1', port: 5000 });
    expect(c.dtmf.maskedMs).toBeGreaterThan(100);
    expect(c.srtp).toMatchObject({ suite: SUITE, authFailed: 0, replayed: 0 });
    expect(c.srtp!.unprotectedRtp).toBe(c.rx.packets);
  });

  it('an RFC 4733 event inside SRTP is a digit', async () => {
    const { cycle, fromPhone, deliver, digits } = await setup();
    for (let k = 0; k < 10; k++) {
      deliver(fromPhone(audio(new Int16Array(160), 1000 + k * 160)));
      cycle();
    }
    for (let d = 160; d <= 960; d += 160) {
      deliver(fromPhone(event(4, 2600, d, d === 960, d === 160)));
      cycle();
    }
    for (let k = 0; k < 20; k++) cycle();
    expect(digits()).toEqual(['4']);
  });

  it('what the gateway sends on the SRTP leg is SRTP that the phone can unprotect, plain on the plain leg', async () => {
    const { cycle, sent, phone, fromPhone, deliver } = await setup();
    for (let k = 0; k < 10; k++) {
      deliver(fromPhone(audio(new Int16Array(160), 1000 + k * 160)));
      cycle();
    }
    const toPhone = sent.filter((s) => s.from === 20000);
    expect(toPhone.length).toBeGreaterThan(5);
    for (const s of toPhone) {
      expect(s.buf.length).toBe(12 + 160 + 10);
      expect(phone.unprotectRtp(Buffer.from(s.buf))).toBe(172);
    }
    const toAgent = sent.filter((s) => s.from === 20002);
    expect(toAgent.every((s) => s.buf.length === 172)).toBe(true);
  });

  it('plain RTP sent to an SRTP leg is dropped: no latching, no digit', async () => {
    const { cycle, deliver, digits, legStats } = await setup();
    const pcm = channel(concat(silence(100), dtmfSignal('5', { lowDbm0: -8, onMs: 120, offMs: 300 })));
    for (let k = 0; k * 160 < pcm.length; k++) {
      deliver(audio(pcm.subarray(k * 160, k * 160 + 160), 9000 + k * 160));
      cycle();
    }
    for (let k = 0; k < 20; k++) cycle();
    expect(digits()).toEqual([]);
    const c = legStats('c');
    expect(c.latched).toBeNull();
    expect(c.rx.packets).toBe(0);
    expect(c.srtp!.authFailed).toBeGreaterThan(20);
  });

  it('a replayed SRTP packet is counted and not played twice', async () => {
    const { cycle, fromPhone, deliver, legStats } = await setup();
    const p = fromPhone(audio(new Int16Array(160), 3000));
    deliver(Buffer.from(p));
    deliver(Buffer.from(p));
    cycle();
    expect(legStats('c').srtp).toMatchObject({ unprotectedRtp: 1, replayed: 1 });
    expect(legStats('c').rx.packets).toBe(1);
  });

  it('SRTP keys of the wrong length are a BAD_CONFIG error', async () => {
    const { b } = await setup();
    expect(() => b.configureLeg('a', { remote: null, codec: 'pcmu', payloadType: 0, telephoneEventPt: null, ptime: 20, srtp: { suite: SUITE, local: Buffer.alloc(16), remote: PEERS } }))
      .toThrow(/SRTP keys must be 30 octets/);
  });
});

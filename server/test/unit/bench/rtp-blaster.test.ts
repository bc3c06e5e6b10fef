import { createSocket, type Socket } from 'node:dgram';
import { afterEach, describe, expect, it } from 'vitest';
import { RtpBlaster } from '../../../bench/lib/rtp-blaster.js';
import { pcmuSdp, relayAddress } from '../../../bench/lib/rtpengine-relay.js';

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

async function sink(): Promise<{ sock: Socket; port: number; got: Buffer[] }> {
  const sock = createSocket('udp4');
  await new Promise<void>((r) => sock.bind(0, '127.0.0.1', r));
  const got: Buffer[] = [];
  sock.on('message', (m) => got.push(Buffer.from(m)));
  return { sock, port: sock.address().port, got };
}

describe('RtpBlaster', () => {
  const cleanup: (() => void)[] = [];
  afterEach(() => {
    for (const c of cleanup.splice(0)) c();
  });

  it('sends 20 ms PCMU: V=2, PT 0, 160-byte payload, seq +1, timestamp +160, one SSRC per stream', async () => {
    const bl = await RtpBlaster.create(1);
    const x = await sink();
    const y = await sink();
    cleanup.push(() => bl.close(), () => x.sock.close(), () => y.sock.close());
    await bl.setTargets(0, { aSendsTo: x.port, bSendsTo: y.port });
    bl.start();
    await sleep(230);
    bl.stop();
    await sleep(20);
    for (const { got } of [x, y]) {
      expect(got.length).toBeGreaterThanOrEqual(5);
      expect(got.length).toBeLessThanOrEqual(14);
      for (const [i, p] of got.entries()) {
        expect(p.length).toBe(172);
        expect(p[0]).toBe(0x80);
        expect(p[1]).toBe(0);
        if (i === 0) continue;
        const prev = got[i - 1]!;
        expect(p.readUInt16BE(2)).toBe((prev.readUInt16BE(2) + 1) & 0xffff);
        expect(p.readUInt32BE(4)).toBe((prev.readUInt32BE(4) + 160) >>> 0);
        expect(p.readUInt32BE(8)).toBe(prev.readUInt32BE(8));
      }
    }
    expect(x.got[0]!.readUInt32BE(8)).not.toBe(y.got[0]!.readUInt32BE(8));
    const c = bl.snapshot();
    expect(c.sentAtoB).toBe(x.got.length);
    expect(c.sentBtoA).toBe(y.got.length);
  });

  it('counts what each endpoint receives from its peer (A and B wired straight to each other)', async () => {
    const n = 7;
    const bl = await RtpBlaster.create(n, { phases: 3 });
    cleanup.push(() => bl.close());
    for (let i = 0; i < n; i++) {
      const { aPort, bPort } = bl.endpoints(i);
      await bl.setTargets(i, { aSendsTo: bPort, bSendsTo: aPort });
    }
    bl.start();
    await sleep(200);
    bl.stop();
    await sleep(30);
    const c = bl.snapshot();
    expect(c.sentAtoB).toBeGreaterThanOrEqual(n * 4);
    expect(c.sentAtoB).toBe(c.sentBtoA);
    expect(c.recvAtB).toBe(c.sentAtoB);
    expect(c.recvAtA).toBe(c.sentBtoA);
    expect(c.foreign).toBe(0);
  });

  it('refuses to start before every session has its relay ports', async () => {
    const bl = await RtpBlaster.create(1);
    cleanup.push(() => bl.close());
    expect(() => bl.start()).toThrow('relay ports');
  });
});

describe('SDP for rtpengine', () => {
  it('offers PCMU at the endpoint and reads back the relay address', () => {
    const sdp = pcmuSdp(40000, 3);
    expect(sdp).toContain('m=audio 40000 RTP/AVP 0\r\n');
    expect(relayAddress(sdp)).toEqual({ address: '127.0.0.1', port: 40000 });
    expect(() => relayAddress('v=0\r\n')).toThrow('without c= or m=audio');
  });
});

import { describe, expect, it } from 'vitest';
import { RxCounter } from '../../../bench/lib/rx-counter.js';

const rtp = (seq: number, ts: number, ssrc = 0x1234, pt = 0): Buffer => {
  const b = Buffer.alloc(172);
  b[0] = 0x80;
  b[1] = pt;
  b.writeUInt16BE(seq & 0xffff, 2);
  b.writeUInt32BE(ts >>> 0, 4);
  b.writeUInt32BE(ssrc, 8);
  return b;
};

describe('PayCustomer receive statistics (RFC 3550 A.3, A.8)', () => {
  it('a perfectly paced stream has no loss and zero jitter', () => {
    const c = new RxCounter();
    for (let i = 0; i < 100; i++) c.onPacket(rtp(100 + i, 5000 + i * 160), 1000 + i * 20);
    expect(c.stats()).toEqual({ packets: 100, lost: 0, jitterMs: 0 });
  });

  it('counts gaps as lost, reordering and sequence wrap as not lost', () => {
    const c = new RxCounter();
    const seqs = [65530, 65531, 65533, 65532, 65534, 65535, 0, 1, 4, 5, 6];
    seqs.forEach((s, i) => c.onPacket(rtp(s, i * 160), i * 20));
    expect(c.stats().packets).toBe(11);
    expect(c.stats().lost).toBe(2); // 2 and 3
  });

  it('converges to the mean transit deviation: packets alternately 0 and 10 ms late give J near 10 ms', () => {
    const c = new RxCounter();
    for (let i = 0; i < 400; i++) c.onPacket(rtp(i, i * 160), i * 20 + (i % 2 ? 10 : 0));
    expect(c.stats().jitterMs).toBeCloseTo(10, 1);
  });

  it('a new SSRC restarts the sequence and keeps the earlier loss', () => {
    const c = new RxCounter();
    [1, 2, 4].forEach((s, i) => c.onPacket(rtp(s, i * 160, 1), i * 20));
    [900, 901, 902].forEach((s, i) => c.onPacket(rtp(s, 99_000 + i * 160, 2), 100 + i * 20));
    expect(c.stats()).toEqual({ packets: 6, lost: 1, jitterMs: 0 });
  });

  it('ignores telephone-event packets for jitter (their timestamps repeat)', () => {
    const c = new RxCounter();
    for (let i = 0; i < 10; i++) c.onPacket(rtp(i, 800, 7, 101), i * 20);
    expect(c.stats()).toEqual({ packets: 10, lost: 0, jitterMs: 0 });
  });
});

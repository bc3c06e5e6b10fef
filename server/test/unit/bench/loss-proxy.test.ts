import { createSocket, type Socket } from 'node:dgram';
import { afterEach, describe, expect, it } from 'vitest';
import { LossProxy } from '../../../bench/lib/loss-proxy.js';
import { prng } from '../../../devtools/prng.js';

const open: (Socket | LossProxy)[] = [];
afterEach(() => {
  for (const s of open.splice(0)) s.close();
});

async function udp(): Promise<{ s: Socket; port: number; got: Buffer[] }> {
  const s = createSocket('udp4');
  await new Promise<void>((r) => s.bind(0, '127.0.0.1', () => r()));
  const got: Buffer[] = [];
  s.on('message', (m) => got.push(m));
  open.push(s);
  return { s, port: s.address().port, got };
}

const seqPacket = (n: number): Buffer => {
  const b = Buffer.alloc(4);
  b.writeUInt32BE(n);
  return b;
};
const until = async (pred: () => boolean, ms = 3000): Promise<void> => {
  const end = Date.now() + ms;
  while (!pred()) {
    if (Date.now() > end) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 5));
  }
};

describe('LossProxy (bench:faults customer leg)', () => {
  it('forwards every packet in order with no loss and no reordering, and returns the gateway\'s untouched', async () => {
    const gw = await udp();
    const cust = await udp();
    const p = await LossProxy.open({ loss: 0, reorder: 0, seed: 1, target: { address: '127.0.0.1', port: gw.port } });
    open.push(p);
    for (let i = 0; i < 50; i++) cust.s.send(seqPacket(i), p.address.port, '127.0.0.1');
    await until(() => gw.got.length === 50);
    expect(gw.got.map((b) => b.readUInt32BE(0))).toEqual([...Array(50).keys()]);
    gw.s.send(Buffer.from('prompt'), p.address.port, '127.0.0.1');
    await until(() => cust.got.length === 1);
    expect(cust.got[0]!.toString()).toBe('prompt');
    expect(p.stats).toEqual({ received: 50, forwarded: 50, dropped: 0, reordered: 0, returned: 1 });
  });

  it('drops about the configured share, reorders by one or two packets, and loses nothing else', async () => {
    const gw = await udp();
    const cust = await udp();
    const p = await LossProxy.open({ loss: 0.05, reorder: 0.05, seed: 42, target: { address: '127.0.0.1', port: gw.port } });
    open.push(p);
    const N = 2000;
    for (let i = 0; i < N; i++) {
      cust.s.send(seqPacket(i), p.address.port, '127.0.0.1');
      if (i % 10 === 9) await new Promise((r) => setTimeout(r, 1)); // stay under the socket buffers
    }
    await until(() => p.stats.received === N && gw.got.length === p.stats.forwarded && p.stats.forwarded + p.stats.dropped === N).catch((e: Error) => {
      throw new Error(`${e.message}: ${JSON.stringify(p.stats)} gateway got ${gw.got.length}`);
    });
    const { dropped, reordered, forwarded } = p.stats;
    expect(dropped / N).toBeGreaterThan(0.03);
    expect(dropped / N).toBeLessThan(0.07);
    expect(reordered / N).toBeGreaterThan(0.03);
    expect(reordered / N).toBeLessThan(0.07);
    expect(forwarded).toBe(N - dropped);
    const seqs = gw.got.map((b) => b.readUInt32BE(0));
    expect(new Set(seqs).size).toBe(seqs.length); // no duplicates
    // A packet arrives after a higher-numbered one only when it was held: count the inversions.
    let late = 0;
    let max = -1;
    for (const s of seqs) {
      if (s < max) {
        late++;
        expect(max - s).toBeLessThanOrEqual(4); // one or two later packets (plus drops between)
      }
      max = Math.max(max, s);
    }
    expect(late).toBeGreaterThan(0);
    expect(late).toBeLessThanOrEqual(reordered);
  });

  it('sends a held packet on its own when the customer goes quiet', async () => {
    const gw = await udp();
    const cust = await udp();
    const p = await LossProxy.open({ loss: 0, reorder: 1, seed: 7, target: { address: '127.0.0.1', port: gw.port } });
    open.push(p);
    cust.s.send(seqPacket(9), p.address.port, '127.0.0.1');
    await until(() => gw.got.length === 1, 1000);
    expect(p.stats).toMatchObject({ received: 1, forwarded: 1, reordered: 1, dropped: 0 });
  });

  it('is deterministic for a seed', () => {
    const a = prng(5);
    const b = prng(5);
    expect(Array.from({ length: 5 }, a)).toEqual(Array.from({ length: 5 }, b));
  });
});

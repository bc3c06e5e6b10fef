/**
 * The worker thread of bench:media (server/bench/media.ts): the media engine with in-memory ports
 * fed by simulated calls (`compute`, `micro`), and the UDP packet generator (`open`, `generate`),
 * served over the media worker channel (server/src/media/worker/channel.ts).
 */
import dgram from 'node:dgram';
import { isMainThread } from 'node:worker_threads';
import { channel, dtmfSignal } from '../../devtools/dsp/generator.js';
import { speechCorpus } from '../../devtools/dsp/speech.js';
import { Ticker } from '../../src/media/clock/ticker.js';
import { Engine, SLOTS } from '../../src/media/engine/engine.js';
import type { PacketHandler, UdpFactory } from '../../src/media/engine/udp.js';
import { encodeUlaw } from '../../src/media/g711/index.js';
import { PromptLibrary } from '../../src/media/prompts/library.js';
import { SrtpSession } from '../../src/media/srtp/srtp.js';
import { serve } from '../../src/media/worker/serve.js';
import { SRTP_BENCH_KEYS } from './srtp-cost.js';

export const pct = (xs: number[], p: number): number => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor((p / 100) * xs.length))] ?? NaN;

export type ComputeResult = { calls: number; ticks: number; missed: number; late: number; maxLatenessMs: number; maxBusyMs: number; utilisation: number; cpu: number; usPerCallFrame: number; tickCpuP99Ms: number; tickCpuMaxMs: number; fits: boolean };
export type GenResult = { sent: number; received: number; maxLatenessMs: number };
export type BenchMethods = {
  compute: [{ calls: number; seconds: number }, ComputeResult];
  micro: [{ calls: number; cycles: number; srtp?: boolean }, { usPerCallFrame: number; cpuUsPerCallFrame: number }];
  generate: [{ seconds: number; targets: number[] }, GenResult];
  open: [Record<string, never>, { port: number }];
};

/** µ-law audio: customer = speech with 16 DTMF digits every ~30 s; agent = speech from elsewhere. */
export function streams(): { customer: Uint8Array; agent: Uint8Array } {
  const speech = speechCorpus().pcm;
  const digits = channel(dtmfSignal('0123456789*#ABCD', { lowDbm0: -10, onMs: 70, offMs: 70 }));
  const parts: Int16Array[] = [];
  for (let at = 0; at + 240_000 <= speech.length && parts.length < 8; at += 240_000) parts.push(speech.subarray(at, at + 240_000), digits);
  const pcm = new Int16Array(parts.reduce((n, p) => n + p.length, 0));
  let o = 0;
  for (const p of parts) pcm.set(p, (o += p.length) - p.length);
  const u = (x: Int16Array): Uint8Array => {
    const out = new Uint8Array(x.length - (x.length % 160));
    encodeUlaw(x.subarray(0, out.length), out);
    return out;
  };
  return { customer: u(pcm), agent: u(speech.subarray(speech.length >> 1)) };
}

/** One simulated call's two packet sources. */
class SimLeg {
  readonly pkt = Buffer.alloc(172);
  private seq = 0;
  private ts = 0;
  constructor(private readonly audio: Uint8Array, private off: number, ssrc: number, readonly deliver: (b: Buffer) => void) {
    this.pkt[0] = 0x80;
    this.pkt.writeUInt32BE(ssrc >>> 0, 8);
    this.off -= this.off % 160;
  }
  private sealed: Buffer[] | null = null;
  private sealedAt = 0;
  /** Pre-protect the next `frames` packets (SRTP, the peer's key); next() then hands those out. */
  protect(frames: number): void {
    const tx = new SrtpSession(SRTP_BENCH_KEYS.peer, SRTP_BENCH_KEYS.gateway);
    this.sealed = Array.from({ length: frames }, () => Buffer.from(tx.protectRtp(this.plainNext(), 172) as Buffer));
  }
  next(): Buffer {
    const s = this.sealed;
    if (s) return s[this.sealedAt++ % s.length]!;
    return this.plainNext();
  }
  private plainNext(): Buffer {
    const p = this.pkt;
    p[2] = (this.seq >> 8) & 0xff;
    p[3] = this.seq & 0xff;
    p.writeUInt32BE(this.ts >>> 0, 4);
    const a = this.audio;
    for (let i = 0; i < 160; i++) p[12 + i] = a[this.off + i]!;
    this.off = (this.off + 160) % a.length;
    this.seq = (this.seq + 1) & 0xffff;
    this.ts += 160;
    return p;
  }
}

/**
 * `calls` simulated calls on an engine with in-memory sockets. The engine's own clock runs when
 * `clock`; before each 5 ms slot the packets of the next slot's bridges are delivered (they
 * arrive 5 ms before their bridge's tick, as the engine's phase alignment arranges).
 */
async function simulate(calls: number, clock: boolean, afterSlot?: (n: number) => void, srtpFrames = 0) {
  const { customer, agent } = streams();
  const handlers = new Map<number, PacketHandler>();
  const port = { send: () => {}, close: async () => {} };
  const udp: UdpFactory = async (_a, p, h) => (handlers.set(p, h.rtp), { rtp: port, rtcp: port });
  const sims: { bridge: { slot: number }; c: SimLeg; a: SimLeg }[] = [];
  const beforeSlot = (n: number): void => {
    const next = (n + 1) % SLOTS;
    for (const s of sims) {
      if (s.bridge.slot !== next) continue;
      s.c.deliver(s.c.next());
      s.a.deliver(s.a.next());
    }
  };
  const engine = new Engine({ address: '127.0.0.1', library: new PromptLibrary(), notify: () => {}, udp, autoStart: false, beforeSlot, ...(afterSlot ? { afterSlot } : {}) });
  for (let i = 0; i < calls; i++) {
    const b = engine.createBridge(`b${i}`, {});
    await b.addLeg('c', 'customer', 10000 + 4 * i);
    await b.addLeg('a', 'agent', 10002 + 4 * i);
    // SRTP: both legs keyed; the peers' packets are protected ahead of time so that only the
    // gateway's side (unprotect on receive, protect on send) is measured.
    const srtp = srtpFrames > 0 ? { suite: SRTP_BENCH_KEYS.gateway.suite, local: SRTP_BENCH_KEYS.gateway.keySalt, remote: SRTP_BENCH_KEYS.peer.keySalt } : null;
    b.configureLeg('c', { remote: { address: '10.0.0.1', port: 5000 }, codec: 'pcmu', payloadType: 0, telephoneEventPt: 101, ptime: 20, srtp });
    b.configureLeg('a', { remote: { address: '10.0.0.2', port: 5000 }, codec: 'pcmu', payloadType: 0, telephoneEventPt: 101, ptime: 20, srtp });
    const hc = handlers.get(10000 + 4 * i)!;
    const ha = handlers.get(10002 + 4 * i)!;
    const c = new SimLeg(customer, i * 7919 * 160, i + 1, (buf) => hc(buf, '10.0.0.1', 5000));
    const a = new SimLeg(agent, i * 4001 * 160, i + 1e6, (buf) => ha(buf, '10.0.0.2', 5000));
    if (srtpFrames > 0) {
      c.protect(srtpFrames);
      a.protect(srtpFrames);
    }
    sims.push({ bridge: b, c, a });
  }
  if (clock) engine.ticker.start();
  return engine;
}

async function workerMain(): Promise<void> {
  let genSocket: dgram.Socket | undefined;
  serve<BenchMethods>({
    micro: async ({ calls, cycles, srtp }) => {
      const engine = await simulate(calls, false, undefined, srtp ? 200 + cycles + 10 : 0);
      let n = 0;
      for (let i = 0; i < 200 * SLOTS; i++) engine.tickSlot(n++); // warm-up (JIT, buffers filled)
      const t0 = performance.now();
      const c0 = process.cpuUsage();
      for (let i = 0; i < cycles * SLOTS; i++) engine.tickSlot(n++);
      const c = process.cpuUsage(c0);
      await engine.close();
      return { usPerCallFrame: ((performance.now() - t0) * 1000) / (cycles * calls), cpuUsPerCallFrame: (c.user + c.system) / (cycles * calls) };
    },
    compute: async ({ calls, seconds }) => {
      // CPU time of each 5 ms tick (process.cpuUsage: this thread's work, plus GC helpers),
      // so compute that does not fit can be told from a host that did not schedule the thread.
      let measuring = false;
      let c0: NodeJS.CpuUsage | undefined;
      const tickCpu: number[] = [];
      const engine = await simulate(calls, true, () => {
        if (c0) {
          const d = process.cpuUsage(c0);
          tickCpu.push((d.user + d.system) / 1000);
        }
        c0 = measuring ? process.cpuUsage() : undefined; // from here to the end of the next slot
      });
      const ticker = engine.ticker;
      await new Promise((r) => setTimeout(r, 1000)); // warm-up
      const before = { ...ticker.stats };
      ticker.resetPeaks();
      measuring = true;
      const cpu0 = process.cpuUsage();
      await new Promise((r) => setTimeout(r, seconds * 1000));
      const c = process.cpuUsage(cpu0);
      const t = { ...ticker.stats };
      await engine.close();
      const ticks = t.ticks - before.ticks;
      const busy = t.busyMs - before.busyMs;
      const p99 = pct(tickCpu, 99);
      const cpu = (c.user + c.system) / 1000 / (seconds * 1000);
      return {
        calls, ticks, missed: t.missed - before.missed, late: t.late - before.late, maxLatenessMs: t.maxLatenessMs, maxBusyMs: t.maxBusyMs,
        utilisation: busy / (seconds * 1000), cpu, usPerCallFrame: (busy * 1000) / ((ticks / SLOTS) * calls),
        tickCpuP99Ms: p99, tickCpuMaxMs: Math.max(...tickCpu), fits: p99 < 20 / SLOTS && cpu < 0.9,
      };
    },
    open: async () => {
      genSocket = dgram.createSocket({ type: 'udp4', recvBufferSize: 4 << 20, sendBufferSize: 4 << 20 });
      await new Promise<void>((r) => genSocket!.bind(0, '127.0.0.1', r));
      return { port: genSocket.address().port };
    },
    generate: async ({ seconds, targets }) => {
      const s = genSocket!;
      const { customer, agent } = streams();
      let received = 0;
      s.on('message', () => received++);
      const legs = targets.map((port, i) => ({ port, leg: new SimLeg(i % 2 === 0 ? customer : agent, i * 3001 * 160, i + 7, () => {}) }));
      let sent = 0;
      const ticker = new Ticker({
        periodMs: 5,
        onTick: (n) => {
          for (let i = n % 4; i < legs.length; i += 4) {
            s.send(legs[i]!.leg.next(), legs[i]!.port, '127.0.0.1');
            sent++;
          }
        },
      });
      ticker.start();
      await new Promise((r) => setTimeout(r, seconds * 1000));
      ticker.stop();
      await new Promise((r) => setTimeout(r, 300));
      s.removeAllListeners('message');
      return { sent, received, maxLatenessMs: ticker.stats.maxLatenessMs };
    },
  });
}

if (!isMainThread) await workerMain();

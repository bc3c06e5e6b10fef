/**
 * Added delay customer -> agent through the media plane (DTMF look-ahead included): the customer
 * sends 20 ms PCMU packets of silence with a single-sample click at a known offset in every
 * third packet; the agent endpoint finds each click in the PCMA it receives. Delay of a click =
 * (arrival of its packet + offset / 8 kHz) - (send time of the customer's packet + offset / 8 kHz),
 * i.e. the gateway's contribution to mouth-to-ear delay, both clocks being this process's.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodeAlaw, encodeUlaw } from '../../src/media/g711/index.js';
import { createMediaPlane, type MediaPlane } from '../../src/media/plane.js';
import { writeReport } from '../support/dsp/harness.js';
import { HOST, RtpPeer, pace, sleep } from '../unit/media/helpers/rtp-peer.js';

const quietLogger = { debug: () => {}, info: () => {}, warn: () => {}, error: () => {} };
let plane: MediaPlane;
const peers: RtpPeer[] = [];

beforeAll(async () => {
  const portMin = 30000 + 2 * Math.floor(Math.random() * 4000);
  plane = await createMediaPlane({ workers: 1, address: HOST, portMin, portMax: portMin + 99, logger: quietLogger });
}, 30_000);

afterAll(async () => {
  await plane?.close();
  for (const p of peers) p.close();
});

const pct = (xs: number[], p: number): number => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor((p / 100) * xs.length))]!;

interface Attempt {
  all: ReturnType<typeof summary>;
  steady: ReturnType<typeof summary>;
  workerClock: { lateTicks: number; missedTicks: number; maxLatenessMs: number };
  starvedHost: boolean;
  lostClicks: number;
}

function summary(xs: number[]) {
  return { n: xs.length, p50: +pct(xs, 50).toFixed(1), p99: +pct(xs, 99).toFixed(1), max: +Math.max(...xs).toFixed(1), min: +Math.min(...xs).toFixed(1) };
}

/** One call of `frames` x 20 ms with clicks in every third packet. */
async function measure(name: string, frames: number): Promise<Attempt> {
  const b = await plane.createBridge(name);
  const customer = await RtpPeer.open();
  const agent = await RtpPeer.open();
  peers.push(customer, agent);
  customer.target = (await b.addRtpLeg('customer', 'customer')).rtpPort;
  agent.target = (await b.addRtpLeg('agent', 'agent')).rtpPort;
  await b.configureLeg('customer', { remote: customer.remote, codec: 'pcmu', payloadType: 0, telephoneEventPt: 101, ptime: 20 });
  await b.configureLeg('agent', { remote: agent.remote, codec: 'pcma', payloadType: 8, telephoneEventPt: null, ptime: 20 });
  const before = (await plane.stats({ resetPeaks: true })).workers[0]!;
  const marks: { at: number; offset: number }[] = [];
  await pace(frames, (k) => {
    const pcm = new Int16Array(160);
    const marker = k % 3 === 0 && k > 0;
    const offset = (k * 37) % 150;
    if (marker) pcm[offset] = 16000;
    const u = new Uint8Array(160);
    encodeUlaw(pcm, u);
    const pkt = customer.packet(0, u);
    if (marker) marks.push({ at: performance.now(), offset });
    customer.send(pkt);
  });
  const clicks: { at: number; offset: number }[] = [];
  const pcm = new Int16Array(160);
  let scanned = 0;
  const scan = (): void => {
    for (; scanned < agent.received.length; scanned++) {
      const r = agent.received[scanned]!;
      decodeAlaw(r.payload, pcm);
      for (let i = 0; i < 160; i++) if (Math.abs(pcm[i]!) > 8000) clicks.push({ at: r.at, offset: i });
    }
  };
  for (let waited = 0; waited < 1000 && (scan(), clicks.length < marks.length); waited += 20) await sleep(20);
  const after = (await plane.stats()).workers[0]!;
  await b.close();
  // clicks arrive in order: the n-th received is the n-th sent
  const delays = marks.slice(0, clicks.length).map((m, n) => clicks[n]!.at + clicks[n]!.offset / 8 - (m.at + m.offset / 8));
  // The target is for a worker that gets its core. When the host starved it while we measured
  // (its ticks started late or were missed: other processes on the two cores), say so.
  const workerClock = { lateTicks: after.late - before.late, missedTicks: after.missed - before.missed, maxLatenessMs: +after.maxLatenessMs.toFixed(1) };
  return {
    all: summary(delays),
    // once the tick phase has settled, and without the last 0.5 s (when the stream stops, its last
    // 40 ms wait out the 20 ms grace for a late packet before the look-ahead lets them go)
    steady: summary(delays.slice(Math.floor(delays.length / 5), delays.length - 8)),
    workerClock,
    starvedHost: workerClock.missedTicks > 0 || workerClock.lateTicks > 5,
    lostClicks: marks.length - clicks.length,
  };
}

describe('media plane: latency', () => {
  // The 60 ms p99 target is a performance figure: `npm run bench:media` measures it on a quiet
  // host and writes it to server/bench/RESULTS.md. This test proves the path that figure depends
  // on: every click crosses in order, and the delay is what the design adds (40 ms look-ahead plus
  // a frame or two of playout), not a buffer that keeps growing. It writes what it saw.
  it('every click reaches the agent in order, with the look-ahead delay and no growing buffer', async () => {
    const attempts: Attempt[] = [];
    // Up to three calls: the first whose worker kept time decides, else the least starved one.
    for (let i = 0; i < 3; i++) {
      const a = await measure(`latency-${i}`, 300);
      attempts.push(a);
      if (!a.starvedHost) break;
    }
    const last = attempts.reduce((x, y) => (y.workerClock.missedTicks < x.workerClock.missedTicks ? y : x));
    const report = { method: 'single-sample clicks in 20 ms PCMU packets, found in the agent PCMA stream; delay = receive - send, offsets included; 6 s calls', lookaheadMs: 40, result: last, attempts };
    writeReport('media-latency.json', report);
    console.log('[media latency]', JSON.stringify(report));
    // No click may be lost. (No lower bound on the delay: when this process is starved it sends
    // late and then in a burst, and a click that left late can be played sooner after it left;
    // masking is safe regardless, as it is bound to the analysis position, not to wall time.)
    for (const a of attempts) expect(a.lostClicks).toBe(0);
    // The typical click waits the look-ahead and at most a few frames more: a playout buffer that
    // grew without bound, or a look-ahead applied twice, puts the median far beyond this.
    expect(last.steady.p50).toBeLessThan(40 + 3 * 20);
  }, 60_000);
});

/**
 * The media plane end to end: real worker threads, real UDP on 127.0.0.1, two fake endpoints
 * (customer, agent) and sometimes an intruder.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DTMF_DIGITS } from '../../src/media/dtmf/index.js';
import { encodeUlaw, sinePeakForDbm0 } from '../../src/media/g711/index.js';
import { isRtcpParseError, parseRtcp } from '../../src/media/rtp/index.js';
import { channel, concat, dtmfSignal, silence } from '../../devtools/dsp/generator.js';
import { SIPP_DTMF_NAMES, readPcapUdp, sippDtmfPcap } from '../support/dsp/pcap.js';
import { createMediaPlane, type Bridge, type DigitEndedEvent, type DigitEvent, type MediaPlane } from '../../src/media/plane.js';
import { encodeWav } from '../../src/media/prompts/wav.js';
import { toneLevelDbm0 } from '../unit/media/helpers/residual.js';
import { HOST, RtpPeer, pace, sleep, waitFor } from '../unit/media/helpers/rtp-peer.js';

const logs: { level: string; msg: string; obj: object }[] = [];
const log = (level: string) => (obj: object, msg: string) => void logs.push({ level, msg, obj });
const logger = { debug: log('debug'), info: log('info'), warn: log('warn'), error: log('error') };
const promptsDir = mkdtempSync(join(tmpdir(), 'tonegate-plane-prompts-'));
const portMin = 30000 + 2 * Math.floor(Math.random() * 4000);

let plane: MediaPlane;
const peers: RtpPeer[] = [];
const bridges: Bridge[] = [];

function sine(hz: number, dbm0: number, k: number, n = 160): Int16Array {
  const a = sinePeakForDbm0(dbm0);
  return Int16Array.from({ length: n }, (_, i) => Math.round(a * Math.sin((2 * Math.PI * hz * (k * n + i)) / 8000)));
}

async function peer(withRtcp = false): Promise<RtpPeer> {
  const p = await RtpPeer.open(withRtcp);
  peers.push(p);
  return p;
}

/** A bridge with a PCMU customer and a PCMA agent, both configured and latched-ready. */
async function call(opts: { agentPtime?: 10 | 20 | 30; mask?: 'silence' | 'noise' | 'tone'; captureTone?: boolean; rtcpIntervalMs?: number } = {}) {
  const b = await plane.createBridge(`call-${Math.random().toString(36).slice(2)}`, { ...(opts.mask ? { mask: opts.mask } : {}), ...(opts.captureTone ? { captureTone: true } : {}), ...(opts.rtcpIntervalMs ? { rtcpIntervalMs: opts.rtcpIntervalMs } : {}) });
  bridges.push(b);
  const customer = await peer(true);
  const agent = await peer(true);
  const c = await b.addRtpLeg('customer', 'customer');
  const a = await b.addRtpLeg('agent', 'agent');
  customer.target = c.rtpPort;
  agent.target = a.rtpPort;
  await b.configureLeg('customer', { remote: customer.remote, codec: 'pcmu', payloadType: 0, telephoneEventPt: 101, ptime: 20 });
  await b.configureLeg('agent', { remote: agent.remote, codec: 'pcma', payloadType: 8, telephoneEventPt: 101, ptime: opts.agentPtime ?? 20 });
  const digits: DigitEvent[] = [];
  const ended: DigitEndedEvent[] = [];
  b.events.on('digit', (d) => digits.push(d));
  b.events.on('digitEnded', (d) => ended.push(d));
  return { b, customer, agent, c, a, digits, ended };
}

beforeAll(async () => {
  mkdirSync(join(promptsDir, 'en'));
  writeFileSync(join(promptsDir, 'en', 'beep.wav'), encodeWav(Int16Array.from({ length: 4000 }, (_, i) => Math.round(8000 * Math.sin((2 * Math.PI * 300 * i) / 8000)))));
  plane = await createMediaPlane({ workers: 2, address: HOST, portMin, portMax: portMin + 399, logger, promptsDir });
}, 30_000);

afterAll(async () => {
  await Promise.all(bridges.map((b) => b.close()));
  await plane?.close();
  for (const p of peers) p.close();
  rmSync(promptsDir, { recursive: true, force: true });
});

describe('media plane: audio both ways', () => {
  it('customer (PCMU, 20 ms) and agent (PCMA, 30 ms) hear each other, transcoded, each in its own codec and packet size', async () => {
    const { b, customer, agent, c, a } = await call({ agentPtime: 30 });
    const latched: string[] = [];
    b.events.on('latched', (leg, from) => latched.push(`${leg}:${from.port}`));
    expect(c.rtpPort % 2).toBe(0);
    expect(c.rtcpPort).toBe(c.rtpPort + 1);
    expect(a.address).toBe(HOST);
    await pace(75, (k) => {
      customer.sendAudio(sine(440, -20, k), 'pcmu');
      agent.sendAudio(sine(1000, -15, k), 'pcma');
    });
    await sleep(100);
    expect(latched.sort()).toEqual([`agent:${agent.port}`, `customer:${customer.port}`]);
    // the customer gets PCMU (PT 0) in 20 ms packets carrying the agent's 1 kHz
    const toCustomer = customer.received.filter((r) => r.pt === 0);
    expect(toCustomer.length).toBeGreaterThan(60);
    expect(customer.received.every((r) => r.pt === 0 && r.payload.length === 160)).toBe(true);
    expect(toCustomer[0]!.marker).toBe(true);
    expect(new Set(toCustomer.map((r) => r.ssrc)).size).toBe(1);
    // consecutive sequence numbers; timestamps 160 apart (a multiple of it only if the worker had
    // to skip a frame, which a host that stalls the thread for > 80 ms can cause)
    for (let i = 1; i < toCustomer.length; i++) {
      expect((toCustomer[i]!.seq - toCustomer[i - 1]!.seq) & 0xffff).toBe(1);
      expect(((toCustomer[i]!.ts - toCustomer[i - 1]!.ts) >>> 0) % 160).toBe(0);
    }
    expect(toCustomer.filter((r, i) => i > 0 && ((r.ts - toCustomer[i - 1]!.ts) >>> 0) !== 160).length).toBeLessThanOrEqual(2);
    const heard = customer.audio('pcmu');
    const mid = heard.length >> 1;
    expect(toneLevelDbm0(heard, mid, 1000)).toBeGreaterThan(-16);
    expect(toneLevelDbm0(heard, mid, 1000)).toBeLessThan(-14);
    expect(toneLevelDbm0(heard, mid, 440)).toBeLessThan(-60);
    // the agent gets PCMA (PT 8) in 30 ms packets carrying the customer's 440 Hz
    const toAgent = agent.received.filter((r) => r.pt === 8);
    expect(agent.received.every((r) => r.pt === 8 && r.payload.length === 240)).toBe(true);
    for (let i = 1; i < toAgent.length; i++) expect(((toAgent[i]!.ts - toAgent[i - 1]!.ts) >>> 0) % 80).toBe(0);
    expect(toAgent.filter((r, i) => i > 0 && ((r.ts - toAgent[i - 1]!.ts) >>> 0) !== 240).length).toBeLessThanOrEqual(2);
    const agentHeard = agent.audio('pcma');
    const m2 = agentHeard.length >> 1;
    expect(toneLevelDbm0(agentHeard, m2, 440)).toBeGreaterThan(-21);
    expect(toneLevelDbm0(agentHeard, m2, 440)).toBeLessThan(-19);
    expect(toneLevelDbm0(agentHeard, m2, 1000)).toBeLessThan(-60);
    const st = await b.stats();
    const cs = st.legs.find((l) => l.id === 'customer')!;
    expect(cs.rx.packets).toBe(75);
    expect(cs.playout.late + cs.rx.wrongSource + cs.rx.malformed).toBe(0);
  });
});

/** SIPp's RFC 2833 captures as [offset ms, payload, marker, seq delta] per event packet. */
function sippEvents(name: (typeof SIPP_DTMF_NAMES)[number]): { at: number; payload: Buffer; marker: boolean; dseq: number }[] {
  const d = readPcapUdp(sippDtmfPcap(name)).filter((x) => x.payload.length >= 16 && (x.payload[1]! & 0x7f) === 101);
  const t0 = d[0]!.time;
  const s0 = d[0]!.payload.readUInt16BE(2);
  return d.map((x) => ({ at: (x.time - t0) * 1000, payload: x.payload.subarray(12), marker: (x.payload[1]! & 0x80) !== 0, dseq: (x.payload.readUInt16BE(2) - s0) & 0xffff }));
}

/**
 * Drive a customer stream for `frames` x 20 ms: audio frames from `audioFor(k)` (null: send
 * nothing that tick, as a phone does during an RFC 4733 event), and RFC 4733 events that start
 * at the given ticks, re-stamped onto the customer's SSRC, sequence and timestamp.
 */
async function customerStream(customer: RtpPeer, frames: number, audioFor: (k: number) => Int16Array | null, events: { tick: number; name: (typeof SIPP_DTMF_NAMES)[number] }[] = []): Promise<void> {
  const pending: { k: number; pkt: () => Buffer }[] = [];
  for (const e of events) {
    const evs = sippEvents(e.name);
    let base = { seq: 0, ts: 0 };
    evs.forEach((ev, i) => {
      pending.push({
        k: e.tick + Math.round(ev.at / 20),
        pkt: () => {
          if (i === 0) base = { seq: customer.seq, ts: customer.ts };
          const p = customer.packet(101, ev.payload, { marker: ev.marker, seq: base.seq + ev.dseq, ts: base.ts });
          customer.seq = Math.max(customer.seq, (base.seq + ev.dseq + 1) & 0xffff);
          return p;
        },
      });
    });
  }
  await pace(frames, (k) => {
    for (const p of pending.filter((x) => x.k === k)) customer.send(p.pkt());
    const pcm = audioFor(k);
    if (pcm) customer.sendAudio(pcm, 'pcmu');
    else customer.ts = (customer.ts + 160) >>> 0; // time moves on while the phone sends only events
  });
}

const quiet = (k: number): Int16Array => sine(300, -50, k);
const eventTicks = (names: readonly (typeof SIPP_DTMF_NAMES)[number][], first: number, every: number) => names.map((name, i) => ({ name, tick: first + i * every }));
const during = (evs: { tick: number }[], k: number): boolean => evs.some((e) => k >= e.tick && k <= e.tick + 8);

describe('media plane: DTMF', () => {
  it("SIPp's RFC 2833 captures arrive as rfc4733 digits and are never forwarded to the agent", async () => {
    const { customer, agent, digits, ended } = await call();
    const evs = eventTicks(SIPP_DTMF_NAMES, 10, 20);
    await customerStream(customer, 10 + 20 * 12 + 10, (k) => (during(evs, k) ? null : quiet(k)), evs);
    await sleep(150);
    expect(digits.map((d) => d.digit).join('')).toBe('0123456789*#');
    expect(digits.every((d) => d.transport === 'rfc4733' && d.legId === 'customer' && d.durationMs === undefined)).toBe(true);
    // reported on their first packet; each event's duration follows when it ends
    expect(ended.map((d) => d.digit).join('')).toBe('0123456789*#');
    expect(ended.every((d) => d.transport === 'rfc4733' && d.legId === 'customer' && d.durationMs === 280)).toBe(true);
    expect(agent.received.length).toBeGreaterThan(200);
    expect(agent.received.every((r) => r.pt === 8 && r.payload.length === 160)).toBe(true); // only PCMA audio, no telephone-event
  });

  it('in-band digits (µ-law, 20 ms packets) arrive as inband digits', async () => {
    const { customer, digits } = await call();
    const pcm = channel(concat(silence(100), dtmfSignal(DTMF_DIGITS, { lowDbm0: -10, onMs: 60, offMs: 60 }), silence(300)));
    await customerStream(customer, Math.ceil(pcm.length / 160), (k) => pcm.slice(k * 160, k * 160 + 160));
    await waitFor(() => digits.length >= 16, 1000, '16 digits');
    expect(digits.map((d) => d.digit).join('')).toBe(DTMF_DIGITS);
    expect(digits.every((d) => d.transport === 'inband')).toBe(true);
  });
});

describe('media plane: capture mode and prompts', () => {
  it('capture: the customer hears the prompt and not the agent; the agent hears silence', async () => {
    const { b, customer, agent } = await call();
    await b.setMode('capture');
    const prompt = Int16Array.from({ length: 8000 }, (_, i) => Math.round(sinePeakForDbm0(-12) * Math.sin((2 * Math.PI * 300 * i) / 8000)));
    const played = b.play('customer', [{ pcm: prompt }], { bargeIn: false });
    await pace(60, (k) => {
      customer.sendAudio(sine(440, -15, k), 'pcmu');
      agent.sendAudio(sine(1000, -10, k), 'pcma');
    });
    expect(await played).toBe('done');
    const heard = customer.audio('pcmu');
    expect(toneLevelDbm0(heard, 2000, 300)).toBeGreaterThan(-13);
    expect(toneLevelDbm0(heard, 2000, 1000)).toBeLessThan(-70);
    const agentHeard = agent.audio('pcma');
    expect(agentHeard.length).toBeGreaterThan(8000);
    expect(agentHeard.every((x) => Math.abs(x) <= 8)).toBe(true); // A-law's idle +-8: silence
  });

  it('capture with the capture tone: the agent hears soft 480 Hz beeps and nothing of the customer', async () => {
    const { b, customer, agent } = await call({ captureTone: true });
    await b.setMode('capture');
    await pace(60, (k) => customer.sendAudio(sine(700, -10, k), 'pcmu'));
    const heard = agent.audio('pcma');
    let best = -120;
    for (let at = 0; at + 205 < heard.length; at += 80) best = Math.max(best, toneLevelDbm0(heard, at, 480));
    expect(best).toBeGreaterThan(-32);
    for (let at = 0; at + 205 < heard.length; at += 80) expect(toneLevelDbm0(heard, at, 700)).toBeLessThan(-60);
    await b.setMode('normal');
    agent.received.length = 0;
    await pace(40, (k) => customer.sendAudio(sine(700, -10, k), 'pcmu'));
    const back = agent.audio('pcma');
    expect(toneLevelDbm0(back, back.length - 400, 700)).toBeGreaterThan(-11);
  });

  it('play resolves done; a digit barges in; stopPrompts stops; a missing prompt id is refused clearly', async () => {
    const { b, customer, digits } = await call();
    const t0 = performance.now();
    const sending = customerStream(customer, 90, quiet);
    expect(await b.play('customer', [{ id: 'en/beep' }, { silenceMs: 100 }], { bargeIn: false })).toBe('done');
    expect(performance.now() - t0).toBeGreaterThan(550);
    await expect(b.play('customer', [{ id: 'en/nope' }], { bargeIn: true })).rejects.toMatchObject({ code: 'PROMPT_NOT_FOUND', message: expect.stringMatching(/prompt "en\/nope" not found/) });
    await sending;
    const long = new Int16Array(8000 * 5).fill(1000);
    const barged = b.play('customer', [{ pcm: long }], { bargeIn: true });
    const evs = [{ tick: 10, name: '4' as const }];
    await customerStream(customer, 30, (k) => (during(evs, k) ? null : quiet(k)), evs);
    expect(await barged).toBe('barged');
    expect(digits.map((d) => d.digit)).toEqual(['4']);
    const stopped = b.play('customer', [{ pcm: long }], { bargeIn: false });
    const queued = b.play('customer', [{ id: 'en/beep' }], { bargeIn: false });
    await sleep(50);
    await b.stopPrompts('customer');
    expect(await stopped).toBe('stopped');
    expect(await queued).toBe('stopped');
  });
});

describe('media plane: latching, bad input, RTCP', () => {
  it('an intruder on the same IP cannot inject audio once the customer is latched; garbage is counted, never fatal', async () => {
    const { b, customer, agent } = await call();
    const intruder = await peer();
    const rr = (ssrc: number): Buffer => Buffer.from([0x80, 201, 0, 1, ssrc >>> 24, (ssrc >>> 16) & 255, (ssrc >>> 8) & 255, ssrc & 255]);
    await pace(50, (k) => {
      customer.sendAudio(sine(440, -20, k), 'pcmu');
      if (k === 2) customer.sendRtcp(rr(customer.ssrc)); // latches RTCP
      if (k > 5) {
        intruder.send(rr(intruder.ssrc), customer.target + 1); // valid RTCP, wrong source
        intruder.send(intruder.packet(0, new Uint8Array(160).fill(0x80)), customer.target); // loud, and the right PT
        intruder.send(Buffer.from('garbage'), customer.target);
        customer.send(Buffer.alloc(3)); // truncated, from the right source
        const here = { ts: customer.ts, seq: customer.seq }; // junk that does not move the stream on
        customer.send(customer.packet(0, new Uint8Array(1200), here)); // oversized
        customer.send(customer.packet(13, new Uint8Array(1), here)); // comfort noise: not negotiated
        intruder.send(Buffer.alloc(40), customer.target + 1); // RTCP port garbage
      }
    });
    const heard = agent.audio('pcma');
    // The intruder's packets are µ-law 0x80 (+32124, full scale): not one such sample reaches the
    // agent, while the customer's 440 Hz does (median over windows: a stall on a busy host may
    // put a gap into a window or two).
    expect(heard.reduce((m, x) => Math.max(m, Math.abs(x)), 0)).toBeLessThan(5000);
    const levels: number[] = [];
    for (let at = 1600; at + 1600 < heard.length; at += 160) levels.push(toneLevelDbm0(heard, at, 440));
    expect(levels.sort((x, y) => x - y)[levels.length >> 1]).toBeGreaterThan(-22);
    const st = (await b.stats()).legs.find((l) => l.id === 'customer')!;
    expect(st.latched).toEqual(customer.remote);
    expect(st.rx.wrongSource).toBe(44); // the intruder's RTP
    expect(st.rx.malformed).toBe(2 * 44); // its garbage and the customer's truncated packets (not RTP: checked first)
    expect(st.rx.oversized).toBe(44);
    expect(st.rx.wrongPayloadType).toBe(44);
    expect(st.rtcp.wrongSource).toBe(2 * 44);
    expect(st.rtcp.receiverReportsIn).toBe(1);
    // RTP to a port nobody listens on any more
    await b.close();
    customer.send(customer.packet(0, new Uint8Array(160)));
    await sleep(50);
    const other = await call();
    await pace(10, (k) => other.customer.sendAudio(sine(440, -20, k), 'pcmu'));
    expect(other.agent.received.length).toBeGreaterThan(5);
  });

  it('RTCP: parses the peer\'s SR and garbage without harm and sends SR/RR with SDES', async () => {
    const { b, customer } = await call({ rtcpIntervalMs: 300 });
    const sr = Buffer.alloc(28);
    sr[0] = 0x80;
    sr[1] = 200;
    sr.writeUInt16BE(6, 2);
    sr.writeUInt32BE(customer.ssrc, 4);
    await pace(60, (k) => {
      customer.sendAudio(sine(440, -20, k), 'pcmu');
      if (k === 20) customer.sendRtcp(sr);
      if (k === 21) customer.sendRtcp(Buffer.from([0x80, 200, 0, 50, 1, 2]));
    });
    const st = (await b.stats()).legs.find((l) => l.id === 'customer')!;
    expect(st.rtcp).toMatchObject({ senderReportsIn: 1, malformed: 1 });
    expect(st.rtcp.reportsOut).toBeGreaterThanOrEqual(2);
    const reports = customer.rtcp.map((m) => parseRtcp(m));
    expect(reports.length).toBeGreaterThanOrEqual(2);
    const last = reports[reports.length - 1]!;
    if (isRtcpParseError(last)) throw new Error(last.message);
    expect(last.map((p) => p.packetType)).toEqual([200, 202]);
    const srOut = last[0]!;
    expect('reports' in srOut && srOut.reports[0]!.ssrc).toBe(customer.ssrc);
  });
});

describe('media plane: jitter and worker death', () => {
  // Timing-sensitive: a packet held back arrives right after its successor. The buffer settles
  // to play about 2 ms after a pair arrives (its margin; minimal delay is the aim), so the
  // sender's own jitter must stay inside those 2 ms: a pair that comes later than that can meet
  // a tick between its two packets, and the held one is then rightly late. An idle host sends
  // within 1.0-1.3 ms of schedule; a loaded one (measured: 2.3-6.2 ms) did lose a held packet
  // that way. The socket is connected, so each send() is its sendmsg() at once and the gap inside
  // a pair is measured too (0.1-0.3 ms idle). When the worker misses a tick it skips that frame
  // by design (media stays real-time). An attempt where the sender or the worker did not keep
  // time proves nothing and is repeated; an attempt where both kept time must be perfect.
  it('reordered packets still come out in order, none lost', async () => {
    const outcomes: { senderLateMs: number; pairGapMs: number; workerMissed: number; steps: number[]; late: number }[] = [];
    const missed = async (): Promise<number> => (await plane.stats()).workers.reduce((n, w) => n + w.missed, 0);
    for (let attempt = 0; attempt < 10; attempt++) {
      const { b, customer, agent } = await call();
      const missedBefore = await missed();
      const level = (k: number): number => 1000 + 1500 * (k % 10);
      let held: Buffer | undefined;
      let pairGapMs = 0;
      await new Promise<void>((r) => customer.socket.connect(customer.target, HOST, r));
      const { maxLateMs } = await pace(80, (k) => {
        const u = new Uint8Array(160);
        encodeUlaw(new Int16Array(160).fill(level(k)), u);
        const pkt = customer.packet(0, u);
        if (k % 2 === 0) held = pkt; // an even packet waits and arrives right after its successor
        else {
          const t0 = performance.now();
          customer.socket.send(pkt);
          customer.socket.send(held!);
          pairGapMs = Math.max(pairGapMs, performance.now() - t0);
        }
      });
      await sleep(100);
      const plateaus: number[] = [];
      for (const x of agent.audio('pcma')) if (x > 300 && Math.abs(x - (plateaus[plateaus.length - 1] ?? -9999)) > 700) plateaus.push(x);
      const steps = plateaus.map((v) => Math.round((v - 1000) / 1500));
      const late = (await b.stats()).legs.find((l) => l.id === 'customer')!.playout.late;
      const workerMissed = (await missed()) - missedBefore;
      await b.close();
      outcomes.push({ senderLateMs: +maxLateMs.toFixed(1), pairGapMs: +pairGapMs.toFixed(3), workerMissed, steps, late });
      if (maxLateMs < 2 && pairGapMs < 0.5 && workerMissed === 0) break;
    }
    const clean = outcomes[outcomes.length - 1]!;
    if (clean.senderLateMs >= 2 || clean.pairGapMs >= 0.5 || clean.workerMissed > 0) {
      const why = JSON.stringify(outcomes.map((o) => [o.senderLateMs, o.pairGapMs, o.workerMissed]));
      throw new Error(`sender or worker stalled in every attempt ([late ms, pair gap ms, missed ticks]: ${why}); the host is too loaded for this test`);
    }
    const seen = JSON.stringify(outcomes);
    expect(clean.steps.length, seen).toBeGreaterThanOrEqual(76);
    for (let i = 1; i < clean.steps.length; i++) expect((clean.steps[i]! - clean.steps[i - 1]! + 10) % 10, `step ${i}: ${seen}`).toBe(1);
    expect(clean.late, seen).toBe(0);
  });

  it('a worker killed mid-call closes its bridges (closed + workerDied) and is replaced', async () => {
    const { b, customer } = await call();
    const closed: string[] = [];
    b.events.on('closed', (r) => closed.push(r));
    const died: { worker: number; bridges: string[] }[] = [];
    plane.events.on('workerDied', (d) => died.push(d));
    const sending = pace(20, (k) => customer.sendAudio(sine(440, -20, k), 'pcmu'));
    await sleep(150);
    await plane.crashWorker(b.worker);
    await waitFor(() => closed.length === 1 && died.length === 1, 3000, 'closed + workerDied');
    expect(closed[0]).toMatch(new RegExp(`media worker ${b.worker} died`));
    expect(died[0]!.worker).toBe(b.worker);
    expect(died[0]!.bridges).toContain(b.id);
    await expect(b.configureLeg('customer', { remote: null, codec: 'pcmu', payloadType: 0, telephoneEventPt: null, ptime: 20 })).rejects.toMatchObject({ code: 'CLOSED' });
    await sending;
    await waitFor(() => false, 1500).catch(() => {}); // the replacement starts after 1 s
    const again = await call();
    await pace(10, (k) => again.customer.sendAudio(sine(440, -20, k), 'pcmu'));
    expect(again.agent.received.length).toBeGreaterThan(5);
    expect((await plane.stats()).workers.every((w) => w.alive)).toBe(true);
  });
});

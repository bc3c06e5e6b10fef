/**
 * The media plane end to end: real worker threads, real UDP on 127.0.0.1, two fake endpoints
 * (customer, agent) and sometimes an intruder.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sinePeakForDbm0 } from '../../src/media/g711/index.js';
import { createMediaPlane, type Bridge, type DigitEvent, type MediaPlane } from '../../src/media/plane.js';
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
  b.events.on('digit', (d) => digits.push(d));
  return { b, customer, agent, c, a, digits };
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
    if (process.env.DEBUG_MEDIA) console.log(toCustomer.map((r) => `${r.seq} ${r.ts} ${r.at.toFixed(1)}`).join('\n'), await plane.stats());
    for (let i = 1; i < toCustomer.length; i++) {
      expect((toCustomer[i]!.seq - toCustomer[i - 1]!.seq) & 0xffff).toBe(1);
      expect((toCustomer[i]!.ts - toCustomer[i - 1]!.ts) >>> 0).toBe(160);
    }
    const heard = customer.audio('pcmu');
    const mid = heard.length - 800;
    expect(toneLevelDbm0(heard, mid, 1000)).toBeGreaterThan(-16);
    expect(toneLevelDbm0(heard, mid, 1000)).toBeLessThan(-14);
    expect(toneLevelDbm0(heard, mid, 440)).toBeLessThan(-60);
    // the agent gets PCMA (PT 8) in 30 ms packets carrying the customer's 440 Hz
    const toAgent = agent.received.filter((r) => r.pt === 8);
    expect(agent.received.every((r) => r.pt === 8 && r.payload.length === 240)).toBe(true);
    for (let i = 1; i < toAgent.length; i++) expect((toAgent[i]!.ts - toAgent[i - 1]!.ts) >>> 0).toBe(240);
    const agentHeard = agent.audio('pcma');
    const m2 = agentHeard.length - 800;
    expect(toneLevelDbm0(agentHeard, m2, 440)).toBeGreaterThan(-21);
    expect(toneLevelDbm0(agentHeard, m2, 440)).toBeLessThan(-19);
    expect(toneLevelDbm0(agentHeard, m2, 1000)).toBeLessThan(-60);
    const st = await b.stats();
    const cs = st.legs.find((l) => l.id === 'customer')!;
    expect(cs.rx.packets).toBe(75);
    expect(cs.playout.late + cs.rx.wrongSource + cs.rx.malformed).toBe(0);
  });
});

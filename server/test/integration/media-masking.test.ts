/**
 * Zero-bleed proof through the real media plane (worker thread, UDP on 127.0.0.1): the customer
 * keys 16 digits in-band (µ-law, 20 ms packets) and 16 by RFC 4733 (SIPp's captures for 0-9 * #,
 * the same packets re-coded for A-D), over a -60 dBm0 noise floor, while the agent endpoint
 * records everything it is sent. The agent's audio is decoded and given to spandsp's dtmf_rx
 * (the independent oracle): it must find no digit, and the level at each of the eight DTMF
 * frequencies (205-sample Hann Goertzel windows) must stay below -55 dBm0. The same input is
 * run with each masking signal (silence, comfort noise, masking tone) on three bridges at once.
 * Figures go to the console and .test-results/masking.json.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DTMF_DIGITS } from '../../src/media/dtmf/index.js';
import { createMediaPlane, type Bridge, type DigitEvent, type MaskKind, type MediaPlane } from '../../src/media/plane.js';
import { addWhiteNoise, channel, concat, dtmfSignal, silence } from '../../devtools/dsp/generator.js';
import { writeReport } from '../support/dsp/harness.js';
import { SIPP_DTMF_NAMES, readPcapUdp, sippDtmfPcap } from '../support/dsp/pcap.js';
import { spandspDetect } from '../../devtools/dsp/spandsp.js';
import { dtmfResidual } from '../unit/media/helpers/residual.js';
import { HOST, RtpPeer, pace, sleep } from '../unit/media/helpers/rtp-peer.js';

const quietLogger = { debug: () => {}, info: () => {}, warn: () => {}, error: () => {} };
const KINDS: MaskKind[] = ['silence', 'noise', 'tone'];
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

/** One RFC 4733 key press as [tick offset, payload, marker, seq step] from SIPp's capture (A-D re-coded from '0'). */
function keyPackets(digit: string): { dt: number; payload: Buffer; marker: boolean; newSeq: boolean }[] {
  const name = digit === '*' ? 'star' : digit === '#' ? 'pound' : /[0-9]/.test(digit) ? (digit as (typeof SIPP_DTMF_NAMES)[number]) : '0';
  const d = readPcapUdp(sippDtmfPcap(name)).filter((x) => (x.payload[1]! & 0x7f) === 101);
  let prevSeq = -1;
  return d.map((x) => {
    const payload = Buffer.from(x.payload.subarray(12));
    payload[0] = DTMF_DIGITS.indexOf(digit); // RFC 4733 §3.2 event code
    const seq = x.payload.readUInt16BE(2);
    const newSeq = seq !== prevSeq;
    prevSeq = seq;
    return { dt: Math.round(((x.time - d[0]!.time) * 1000) / 20), payload, marker: (x.payload[1]! & 0x80) !== 0, newSeq };
  });
}

describe('zero bleed: what the agent hears while the customer keys 32 digits', () => {
  it('spandsp finds no digit in the agent audio, and the DTMF residual is below -55 dBm0, for every masking signal', async () => {
    // Customer audio: 16 in-band digits (80 ms on / 100 ms off, -4 to -24 dBm0), then 16 RFC 4733 key presses, all over the noise floor.
    const levels = [-4, -10, -16, -24];
    const inband = concat(silence(300), ...[...DTMF_DIGITS].map((d, i) => concat(dtmfSignal(d, { lowDbm0: levels[i % 4], onMs: 80, offMs: 100 }))), silence(300));
    const RFC_START = Math.ceil(inband.length / 160);
    const RFC_EVERY = 18; // ticks: 360 ms per key press
    const frames = RFC_START + 16 * RFC_EVERY + 20;
    const floor = addWhiteNoise(new Float64Array(frames * 160), -60, 21);
    floor.set(addWhiteNoise(inband, -60, 21));
    const customerAudio = channel(floor);
    const events = new Map<number, { digit: string; pkt: ReturnType<typeof keyPackets>[number] }[]>();
    [...DTMF_DIGITS].forEach((digit, i) => {
      for (const pkt of keyPackets(digit)) {
        const k = RFC_START + i * RFC_EVERY + pkt.dt;
        events.set(k, [...(events.get(k) ?? []), { digit, pkt }]);
      }
    });

    const calls: { kind: MaskKind; b: Bridge; customer: RtpPeer; agent: RtpPeer; digits: DigitEvent[] }[] = [];
    for (const kind of KINDS) {
      const b = await plane.createBridge(`mask-${kind}`, { mask: kind });
      const customer = await RtpPeer.open();
      const agent = await RtpPeer.open();
      peers.push(customer, agent);
      customer.target = (await b.addRtpLeg('customer', 'customer')).rtpPort;
      await b.addRtpLeg('agent', 'agent');
      await b.configureLeg('customer', { remote: customer.remote, codec: 'pcmu', payloadType: 0, telephoneEventPt: 101, ptime: 20 });
      await b.configureLeg('agent', { remote: agent.remote, codec: 'pcma', payloadType: 8, telephoneEventPt: 101, ptime: 20 });
      const digits: DigitEvent[] = [];
      b.events.on('digit', (d) => digits.push(d));
      calls.push({ kind, b, customer, agent, digits });
    }
    const ts0 = calls.map((c) => c.customer.ts);
    const eventStart = new Map<number, number>(); // key press index -> tick
    await pace(frames, (k) => {
      for (const [ci, c] of calls.entries()) {
        for (const e of events.get(k) ?? []) {
          const press = DTMF_DIGITS.indexOf(e.digit);
          if (!eventStart.has(press)) eventStart.set(press, k);
          const ts = ts0[ci]! + 160 * eventStart.get(press)!;
          if (!e.pkt.newSeq) c.customer.seq = (c.customer.seq - 1) & 0xffff; // SIPp repeats the end packet with one sequence number
          c.customer.send(c.customer.packet(101, e.pkt.payload, { marker: e.pkt.marker, ts }));
        }
        c.customer.ts = (ts0[ci]! + 160 * k) >>> 0;
        c.customer.sendAudio(customerAudio.subarray(k * 160, k * 160 + 160), 'pcmu');
      }
    });
    await sleep(200);

    const report: Record<string, unknown> = {
      method: 'agent endpoint records all RTP (PCMA); decoded; spandsp dtmf_rx (default settings) on it; residual = max over 205-sample Hann-windowed Goertzel windows (hop 40) of the level at each DTMF frequency, dBm0',
      input: { inbandDigits: 16, rfc4733Digits: 16, noiseFloorDbm0: -60, inbandLevelsDbm0: levels, spandspOnCustomerAudio: spandspDetect(customerAudio).digits },
    };
    expect(report.input).toMatchObject({ spandspOnCustomerAudio: DTMF_DIGITS }); // the in-band signal is right
    for (const c of calls) {
      const heard = c.agent.audio('pcma');
      const oracle = spandspDetect(heard).digits;
      const residual = dtmfResidual(heard);
      const st = (await c.b.stats()).legs.find((l) => l.id === 'customer')!;
      report[c.kind] = {
        agentSeconds: heard.length / 8000, spandspDigits: oracle, residualDbm0: residual.perHz, maxResidualDbm0: residual.maxDbm0,
        digits: c.digits.map((d) => `${d.digit}:${d.transport}`).join(' '), maskedMs: st.dtmf.maskedMs, unsafeSamples: st.dtmf.unsafeSamples,
        nonAudioPacketsToAgent: c.agent.received.filter((r) => r.pt !== 8).length,
      };
      expect(c.digits.map((d) => d.digit).join('')).toBe(DTMF_DIGITS + DTMF_DIGITS);
      expect(c.digits.map((d) => d.transport)).toEqual([...Array<string>(16).fill('inband'), ...Array<string>(16).fill('rfc4733')]);
      expect(heard.length).toBeGreaterThan((frames - 10) * 160);
      expect(oracle).toBe('');
      expect(residual.maxDbm0).toBeLessThan(-55);
      expect(c.agent.received.every((r) => r.pt === 8)).toBe(true);
      expect(st.dtmf.unsafeSamples).toBe(0);
      await c.b.close();
    }
    const path = writeReport('masking.json', report);
    console.log(`[masking] ${path}\n${JSON.stringify(report, null, 1)}`);
  }, 60_000);
});

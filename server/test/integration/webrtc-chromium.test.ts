/**
 * The WebRTC leg against real Debian Chromium, in both offer directions: the page's peer connection
 * (fake microphone, RTCDTMFSender, WebAudio analyser) on one side, a plain UDP RTP endpoint on the
 * other (standing in for the media plane's leg).
 */
import dgram from 'node:dgram';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Rfc4733Receiver, type Rfc4733Digit, type Rfc4733End } from '../../src/media/dtmf/rfc4733.js';
import { decodeUlaw, sinePeakForDbm0 } from '../../src/media/g711/index.js';
import { isRtpParseError, parseRtp } from '../../src/media/rtp/index.js';
import { WebRtcLeg } from '../../src/webrtc/index.js';
import { ChromiumPeers, type BrowserPeer } from '../support/chromium-webrtc.js';
import { HOST, RtpPeer, sleep, waitFor } from '../unit/media/helpers/rtp-peer.js';

let chromium: ChromiumPeers;
const cleanups: (() => Promise<void> | void)[] = [];

beforeAll(async () => {
  chromium = await ChromiumPeers.launch();
});

afterAll(async () => {
  for (const c of cleanups.reverse()) await c();
  await chromium?.close();
});

/** A 1 kHz tone at -10 dBm0 in 20 ms PCMU packets from `peer` to the leg, until stopped. */
function toneStream(peer: RtpPeer): () => void {
  const a = sinePeakForDbm0(-10);
  let k = 0;
  const timer = setInterval(() => {
    const pcm = Int16Array.from({ length: 160 }, (_, i) => Math.round(a * Math.sin((2 * Math.PI * 1000 * (k * 160 + i)) / 8000)));
    k++;
    peer.sendAudio(pcm, 'pcmu');
  }, 20);
  return () => clearInterval(timer);
}

function rms(pcm: Int16Array, from: number, n: number): number {
  let s = 0;
  for (let i = from; i < from + n; i++) s += pcm[i]! * pcm[i]!;
  return Math.sqrt(s / n);
}

describe.each([
  { offerer: 'browser' as const, title: 'a browser calls the gateway (leg.answer)' },
  { offerer: 'gateway' as const, title: 'the gateway calls a browser (leg.createOffer + setAnswer)' },
])('WebRTC leg with Chromium: $title', ({ offerer }) => {
  let leg: WebRtcLeg;
  let browser: BrowserPeer;
  let plain: RtpPeer;
  let stopTone: () => void = () => {};
  const digits: Rfc4733Digit[] = [];
  const ends: Rfc4733End[] = [];
  const events: string[] = [];

  beforeAll(async () => {
    leg = await WebRtcLeg.create({ mediaAddress: HOST, id: `chromium-${offerer}` });
    plain = await RtpPeer.open();
    cleanups.push(() => leg.close(), () => plain.close());
    leg.events.on('connected', () => events.push('connected'));
    leg.events.on('failed', (r) => events.push(`failed:${r}`));
    leg.events.on('closed', (r) => events.push(`closed:${r}`));
    leg.setPlainTarget(plain.remote);
    plain.target = leg.plainLocal.port;
    const rfc = new Rfc4733Receiver({ payloadType: 101, onDigit: (d) => digits.push(d), onEnd: (e) => ends.push(e) });
    plain.socket.on('message', (msg) => {
      const p = parseRtp(msg);
      if (!isRtpParseError(p)) rfc.push(p, performance.now());
    });
    browser = await chromium.page();
    cleanups.push(() => browser.close());
    if (offerer === 'browser') {
      const offer = await browser.offer();
      expect(offer).toMatch(/opus/i); // Chromium offers Opus and more; the answer must not take them
      const answer = await leg.answer(offer);
      expect(answer).not.toMatch(/opus|rtx|telephone-event\/48000/i);
      await browser.acceptAnswer(answer);
    } else {
      const offer = await leg.createOffer();
      expect(offer).toMatch(/^m=audio \d+ UDP\/TLS\/RTP\/SAVPF 0 101\r$/m);
      await leg.setAnswer(await browser.answer(offer));
    }
    await waitFor(() => events.includes('connected'), 20_000, 'the leg to connect');
    expect(leg.state).toBe('connected');
    stopTone = toneStream(plain);
  });

  afterAll(() => stopTone());

  it('offers and answers only PCMU and telephone-event/8000, with host candidates on the media address', () => {
    const n = leg.negotiated!;
    expect(n.pcmu).toBe(0);
    expect(n.telephoneEvent).not.toBeNull();
    if (offerer === 'gateway') expect(n.telephoneEvent).toBe(101);
  });

  it("the page's insertDTMF('123#') arrives on the plain side as RFC 4733 events decoding to exactly 123#", async () => {
    digits.length = 0;
    ends.length = 0;
    const tones = await browser.dtmf('123#');
    expect(tones).toEqual(['1', '2', '3', '#', '']);
    await waitFor(() => digits.length >= 4 && ends.length >= 4, 5000, 'four digits and their ends');
    await sleep(300); // nothing more may follow
    expect(digits.map((d) => d.digit).join('')).toBe('123#');
    expect(ends.map((e) => `${e.digit}:${e.endedBy}`).join(' ')).toBe('1:end-bit 2:end-bit 3:end-bit #:end-bit');
    expect(leg.stats().fromBrowser.telephoneEvents).toBeGreaterThan(4);
    // the events came on the plain side's telephone-event PT, the audio on PCMU
    expect(new Set(plain.received.map((r) => r.pt))).toEqual(new Set([0, 101]));
  });

  it('a 1 kHz PCMU tone sent from the plain side is heard in the page', async () => {
    const before = await browser.inbound();
    let spectrum = await browser.spectrum(1000);
    for (let i = 0; i < 100 && !(spectrum && Math.abs(spectrum.peakHz - 1000) < 30 && spectrum.peakDb > -50); i++) {
      await sleep(100);
      spectrum = await browser.spectrum(1000);
    }
    expect(spectrum?.contextState).toBe('running');
    expect(Math.abs(spectrum!.peakHz - 1000)).toBeLessThan(30);
    expect(spectrum!.peakDb).toBeGreaterThan(-50);
    await sleep(500); // getStats() results are cached for a while
    const after = await browser.inbound();
    expect(after.totalSamplesReceived).toBeGreaterThan(before.totalSamplesReceived);
    expect(after.packetsReceived).toBeGreaterThan(before.packetsReceived);
    expect(leg.stats().toBrowser.audio).toBeGreaterThan(0);
  });

  it("the page's fake microphone reaches the plain side as non-silent PCMU", async () => {
    const from = plain.received.length;
    await waitFor(() => plain.received.slice(from).filter((r) => r.pt === 0).length >= 100, 10_000, '100 PCMU packets');
    const pkts = plain.received.slice(from).filter((r) => r.pt === 0);
    expect(pkts.every((r) => r.payload.length === 160)).toBe(true);
    const pcm = new Int16Array(pkts.length * 160);
    pkts.forEach((r, i) => {
      const part = new Int16Array(160);
      decodeUlaw(r.payload, part);
      pcm.set(part, i * 160);
    });
    const loudest = Math.max(...pkts.map((_, i) => rms(pcm, i * 160, 160)));
    expect(loudest).toBeGreaterThan(1000);
  });

  it('a packet to plainLocal from a foreign address is dropped and counted; close() ends the peer connection in the page', async () => {
    const intruder = dgram.createSocket('udp4');
    await new Promise<void>((r) => intruder.bind(0, HOST, r));
    const sentBefore = leg.stats().toBrowser.audio;
    const foreignBefore = leg.stats().toBrowser.foreignSource;
    const pkt = plain.packet(0, new Uint8Array(160).fill(0x80));
    await new Promise<void>((r) => intruder.send(pkt, leg.plainLocal.port, HOST, () => r()));
    await waitFor(() => leg.stats().toBrowser.foreignSource > foreignBefore, 3000, 'the foreign packet to be counted');
    intruder.close();
    expect(leg.stats().toBrowser.foreignSource).toBe(foreignBefore + 1);
    expect(leg.stats().toBrowser.audio).toBeGreaterThanOrEqual(sentBefore);
    stopTone();
    await leg.close('test hangs up');
    await leg.close(); // idempotent
    expect(events.filter((e) => e.startsWith('closed'))).toEqual(['closed:test hangs up']);
    expect(events.some((e) => e.startsWith('failed'))).toBe(false);
    expect(leg.state).toBe('closed');
    let state = await browser.connectionState();
    for (let i = 0; i < 300 && !['closed', 'failed', 'disconnected'].includes(state); i++) {
      await sleep(100);
      state = await browser.connectionState();
    }
    expect(['closed', 'failed', 'disconnected']).toContain(state);
    await expect(leg.answer('v=0')).rejects.toMatchObject({ code: 'CLOSED' });
  });
});

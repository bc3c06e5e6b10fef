/**
 * The WebRTC leg in front of the real media plane: Chromium is the agent (the gateway offers, as
 * the B2BUA does when it calls a browser agent), a plain UDP endpoint is the customer. The plane
 * sees the WebRTC leg as an ordinary RTP agent leg: customer audio reaches the page, and the
 * page's insertDTMF digits come out of the plane as RFC 4733 `digit` events.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sinePeakForDbm0 } from '../../src/media/g711/index.js';
import { createMediaPlane, type Bridge, type DigitEvent, type MediaPlane } from '../../src/media/plane.js';
import { WebRtcLeg } from '../../src/webrtc/index.js';
import { ChromiumPeers, type BrowserPeer } from '../support/chromium-webrtc.js';
import { HOST, RtpPeer, sleep, waitFor } from '../unit/media/helpers/rtp-peer.js';

const logs: { level: string; msg: string }[] = [];
const log = (level: string) => (_obj: object, msg: string) => void logs.push({ level, msg });
const logger = { debug: log('debug'), info: log('info'), warn: log('warn'), error: log('error') };
const portMin = 30000 + 2 * Math.floor(Math.random() * 4000);

let chromium: ChromiumPeers;
let plane: MediaPlane;
let bridge: Bridge;
let leg: WebRtcLeg;
let browser: BrowserPeer;
let customer: RtpPeer;
let toneTimer: NodeJS.Timeout | undefined;
const digits: DigitEvent[] = [];
const latched: string[] = [];

beforeAll(async () => {
  chromium = await ChromiumPeers.launch();
  plane = await createMediaPlane({ workers: 1, address: HOST, portMin, portMax: portMin + 99, logger });
  bridge = await plane.createBridge('webrtc-call');
  bridge.events.on('digit', (d) => digits.push(d));
  bridge.events.on('latched', (legId, from) => latched.push(`${legId}:${from.port}`));
  customer = await RtpPeer.open();
  const c = await bridge.addRtpLeg('customer', 'customer');
  customer.target = c.rtpPort;
  await bridge.configureLeg('customer', { remote: customer.remote, codec: 'pcmu', payloadType: 0, telephoneEventPt: 101, ptime: 20 });

  // The B2BUA's part: a WebRTC leg for the agent, its offer in the INVITE, the 200 OK's answer back.
  leg = await WebRtcLeg.create({ mediaAddress: HOST, id: 'agent', plainPayloadTypes: { pcmu: 0, telephoneEvent: 101 } });
  const a = await bridge.addRtpLeg('agent', 'agent');
  leg.setPlainTarget({ address: a.address, port: a.rtpPort });
  await bridge.configureLeg('agent', { remote: leg.plainLocal, codec: 'pcmu', payloadType: 0, telephoneEventPt: 101, ptime: 20 });
  browser = await chromium.page();
  const connected = new Promise<void>((resolve, reject) => {
    leg.events.on('connected', resolve);
    leg.events.on('failed', (r) => reject(new Error(r)));
  });
  await leg.setAnswer(await browser.answer(await leg.createOffer()));
  await connected;

  // The customer talks: a continuous 1 kHz tone at -10 dBm0.
  const amp = sinePeakForDbm0(-10);
  let k = 0;
  toneTimer = setInterval(() => {
    customer.sendAudio(Int16Array.from({ length: 160 }, (_, i) => Math.round(amp * Math.sin((2 * Math.PI * 1000 * (k * 160 + i)) / 8000))), 'pcmu');
    k++;
  }, 20);
}, 60_000);

afterAll(async () => {
  clearInterval(toneTimer);
  await browser?.close();
  await leg?.close();
  await bridge?.close();
  await plane?.close();
  customer?.close();
  await chromium?.close();
});

describe('WebRTC leg + media plane + Chromium agent', () => {
  it('the customer is heard in the page through the plane and the WebRTC leg', async () => {
    let s = await browser.spectrum(1000);
    for (let i = 0; i < 100 && !(s && Math.abs(s.peakHz - 1000) < 30 && s.peakDb > -50); i++) {
      await sleep(100);
      s = await browser.spectrum(1000);
    }
    expect(Math.abs(s!.peakHz - 1000)).toBeLessThan(30);
    expect(s!.peakDb).toBeGreaterThan(-50);
    const st = leg.stats();
    expect(st.toBrowser.audio).toBeGreaterThan(0);
    expect(st.toBrowser.foreignSource).toBe(0);
    // the plane latched the agent leg on the WebRTC leg's plain socket
    await waitFor(() => latched.includes(`agent:${leg.plainLocal.port}`), 5000, 'the agent leg to latch');
  });

  it("the page's microphone reaches the customer through the plane", async () => {
    const from = customer.received.length;
    await waitFor(() => customer.received.length - from >= 100, 10_000, '100 packets to the customer');
    const heard = customer.audio('pcmu');
    // Chromium's fake microphone beeps: some 20 ms frame of the last 2 s carries real audio
    let rms = 0;
    for (let i = Math.max(0, heard.length - 100 * 160); i + 160 <= heard.length; i += 160) {
      let sum = 0;
      for (let j = i; j < i + 160; j++) sum += heard[j]! * heard[j]!;
      rms = Math.max(rms, Math.sqrt(sum / 160));
    }
    expect(rms).toBeGreaterThan(1000);
  });

  it("the page's insertDTMF('123#') comes out of the plane as rfc4733 digit events on the agent leg", async () => {
    digits.length = 0;
    expect(await browser.dtmf('123#')).toEqual(['1', '2', '3', '#', '']);
    await waitFor(() => digits.length >= 4, 5000, 'four digits from the plane');
    await sleep(300);
    expect(digits.map((d) => d.digit).join('')).toBe('123#');
    expect(digits.every((d) => d.legId === 'agent' && d.transport === 'rfc4733')).toBe(true);
    const st = await bridge.stats();
    const agent = st.legs.find((l) => l.id === 'agent')!;
    expect(agent.rx.wrongSource + agent.rx.malformed + agent.rx.wrongPayloadType).toBe(0);
    expect(agent.rx.telephoneEvents).toBeGreaterThan(4);
    expect(logs.filter((l) => l.level === 'error')).toEqual([]);
  });
});

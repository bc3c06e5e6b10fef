/**
 * Real Debian Chromium (playwright-core, /usr/bin/chromium) as a WebRTC peer for tests: a page on a
 * tiny HTTP server at 127.0.0.1 (a secure context, so getUserMedia works with the fake device), an
 * RTCPeerConnection with the fake microphone, RTCDTMFSender, and a WebAudio analyser on the remote
 * audio. SDP goes through page.evaluate. Flags: see launchOptions below.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { chromium, type Browser, type Page } from 'playwright-core';

export const CHROMIUM_PATH = '/usr/bin/chromium';
export const CHROMIUM_ARGS = [
  '--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync',
  '--use-fake-ui-for-media-stream', '--use-fake-device-for-media-stream', '--autoplay-policy=no-user-gesture-required',
  '--allow-loopback-in-peer-connection', '--disable-features=WebRtcHideLocalIpsWithMdns',
];

/** The page's side: `window.tg`, driven through page.evaluate. */
const PAGE = `<!doctype html><html><head><meta charset="utf-8"><title>tonegate webrtc test</title></head><body>
<audio id="remote" autoplay muted></audio>
<script>
const tg = window.tg = { tones: [], state: 'none' };
async function gathered(pc) {
  if (pc.iceGatheringState === 'complete') return;
  await new Promise((r) => pc.addEventListener('icegatheringstatechange', () => pc.iceGatheringState === 'complete' && r()));
}
tg.setup = async () => {
  const stream = await navigator.mediaDevices.getUserMedia({ audio: true });
  const pc = tg.pc = new RTCPeerConnection({ iceServers: [] });
  tg.sender = pc.addTrack(stream.getAudioTracks()[0], stream);
  pc.addEventListener('connectionstatechange', () => { tg.state = pc.connectionState; });
  pc.addEventListener('track', (e) => {
    const remote = new MediaStream([e.track]);
    document.getElementById('remote').srcObject = remote; // Chromium feeds WebAudio only from an attached stream
    const ctx = tg.ctx = new AudioContext({ sampleRate: 48000 });
    const an = tg.analyser = ctx.createAnalyser();
    an.fftSize = 4096;
    an.smoothingTimeConstant = 0;
    ctx.createMediaStreamSource(remote).connect(an);
    ctx.resume();
  });
};
tg.offer = async () => { await tg.pc.setLocalDescription(await tg.pc.createOffer()); await gathered(tg.pc); return tg.pc.localDescription.sdp; };
tg.acceptAnswer = async (sdp) => { await tg.pc.setRemoteDescription({ type: 'answer', sdp }); };
tg.answer = async (sdp) => {
  await tg.pc.setRemoteDescription({ type: 'offer', sdp });
  await tg.pc.setLocalDescription(await tg.pc.createAnswer());
  await gathered(tg.pc);
  return tg.pc.localDescription.sdp;
};
tg.dtmf = async (tones) => {
  const d = tg.sender.dtmf;
  tg.tones = [];
  await new Promise((r) => { d.ontonechange = (e) => { tg.tones.push(e.tone); if (e.tone === '') r(); }; d.insertDTMF(tones, 100, 70); });
  return tg.tones;
};
/** The strongest frequency (Hz) and its level (dB) in the remote audio right now, and the level near 'probe' Hz. */
tg.spectrum = (probe) => {
  const an = tg.analyser;
  if (!an) return null;
  const bins = new Float32Array(an.frequencyBinCount);
  an.getFloatFrequencyData(bins);
  let best = 0;
  for (let i = 1; i < bins.length; i++) if (bins[i] > bins[best]) best = i;
  const hz = (i) => (i * tg.ctx.sampleRate) / an.fftSize;
  const at = Math.round((probe * an.fftSize) / tg.ctx.sampleRate);
  return { peakHz: hz(best), peakDb: bins[best], probeDb: bins[at], contextState: tg.ctx.state };
};
tg.inbound = async () => {
  const out = { totalSamplesReceived: 0, packetsReceived: 0 };
  (await tg.pc.getStats()).forEach((s) => { if (s.type === 'inbound-rtp' && s.kind === 'audio') { out.totalSamplesReceived = s.totalSamplesReceived; out.packetsReceived = s.packetsReceived; } });
  return out;
};
</script></body></html>`;

export interface Spectrum {
  peakHz: number;
  peakDb: number;
  probeDb: number;
  contextState: string;
}

/** One Chromium and one page server for a test file; pages are opened per test. */
export class ChromiumPeers {
  private constructor(
    readonly browser: Browser,
    private readonly server: Server,
    readonly url: string,
  ) {}

  static async launch(): Promise<ChromiumPeers> {
    const server = createServer((_req, res) => {
      res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
      res.end(PAGE);
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
    try {
      const browser = await chromium.launch({ executablePath: CHROMIUM_PATH, args: CHROMIUM_ARGS });
      return new ChromiumPeers(browser, server, url);
    } catch (err) {
      server.close();
      throw err;
    }
  }

  /** A new page with its RTCPeerConnection and fake microphone set up. */
  async page(): Promise<BrowserPeer> {
    const page = await this.browser.newPage();
    await page.goto(this.url);
    await page.evaluate(() => (window as unknown as { tg: { setup(): Promise<void> } }).tg.setup());
    return new BrowserPeer(page);
  }

  async close(): Promise<void> {
    await this.browser.close().catch(() => {});
    await new Promise<void>((r) => this.server.close(() => r()));
  }
}

/** The page's API as seen from Node (each call is one page.evaluate). */
interface PageApi {
  offer(): Promise<string>;
  acceptAnswer(sdp: string): Promise<void>;
  answer(sdp: string): Promise<string>;
  dtmf(tones: string): Promise<string[]>;
  spectrum(probe: number): Spectrum | null;
  inbound(): Promise<{ totalSamplesReceived: number; packetsReceived: number }>;
  state: string;
}

type Win = { tg: PageApi };

export class BrowserPeer {
  constructor(readonly page: Page) {}

  /** The browser offers (it calls the gateway). */
  offer(): Promise<string> {
    return this.page.evaluate(() => (window as unknown as Win).tg.offer());
  }

  acceptAnswer(sdp: string): Promise<void> {
    return this.page.evaluate((s) => (window as unknown as Win).tg.acceptAnswer(s), sdp);
  }

  /** The browser answers the gateway's offer. */
  answer(sdp: string): Promise<string> {
    return this.page.evaluate((s) => (window as unknown as Win).tg.answer(s), sdp);
  }

  /** RTCDTMFSender.insertDTMF (100 ms tones, 70 ms gaps); resolves with the tonechange sequence. */
  dtmf(tones: string): Promise<string[]> {
    return this.page.evaluate((t) => (window as unknown as Win).tg.dtmf(t), tones);
  }

  spectrum(probeHz: number): Promise<Spectrum | null> {
    return this.page.evaluate((p) => (window as unknown as Win).tg.spectrum(p), probeHz);
  }

  inbound(): Promise<{ totalSamplesReceived: number; packetsReceived: number }> {
    return this.page.evaluate(() => (window as unknown as Win).tg.inbound());
  }

  connectionState(): Promise<string> {
    return this.page.evaluate(() => (window as unknown as Win).tg.state);
  }

  close(): Promise<void> {
    return this.page.close().catch(() => {});
  }
}

import type { Page } from '@playwright/test';

/**
 * An audio probe installed in a page before its scripts run (page.addInitScript): it records every
 * RTCPeerConnection the page makes and puts a WebAudio AnalyserNode on each remote audio track.
 * Every 20 ms it reads the last 2048 samples (48 kHz) and stores their RMS level, the amplitude at
 * a probe frequency (Goertzel, Hann window) and the strongest amplitude in each DTMF group (697,
 * 770, 852, 941 / 1209, 1336, 1477, 1633 Hz). A DTMF tone needs energy in both groups at once, so
 * `dtmf` of a sample is the smaller of the two group maxima.
 *
 * `mic` (optional) replaces the page's microphone by a steady sine of that frequency (WebAudio),
 * so what the page sends is narrowband and can be told apart from prompts at the far end.
 */
export interface ProbeOptions {
  /** Frequency (Hz) of the sine this page sends as its microphone; the fake device when unset. */
  micHz?: number;
  /** Frequency (Hz) whose amplitude is measured in the received audio. */
  probeHz: number;
}

export interface AudioWindow {
  /** 20 ms samples taken in the window. */
  samples: number;
  /** Largest RMS level (full scale 1.0). */
  maxRms: number;
  /** Median amplitude at the probe frequency. */
  medianProbe: number;
  /** Largest DTMF amplitude (min of the two groups) in any sample. */
  maxDtmf: number;
}

export const DTMF_HZ = [697, 770, 852, 941, 1209, 1336, 1477, 1633] as const;

/** The code that runs in the page (serialised by Playwright: self-contained). */
function install(opts: ProbeOptions & { dtmf: readonly number[] }): void {
  type Sample = { t: number; rms: number; probe: number; dtmf: number };
  const samples: Sample[] = [];
  const pcs: RTCPeerConnection[] = [];
  let ctx: AudioContext | null = null;
  const context = (): AudioContext => (ctx ??= new AudioContext({ sampleRate: 48000 }));

  const N = 2048;
  const hann = new Float32Array(N).map((_, i) => 0.5 - 0.5 * Math.cos((2 * Math.PI * i) / (N - 1)));
  /** Amplitude (full scale 1.0) of the `hz` component of `x` (Goertzel over a Hann window). */
  const amplitude = (x: Float32Array, hz: number, rate: number): number => {
    const w = (2 * Math.PI * hz) / rate;
    const c = 2 * Math.cos(w);
    let s1 = 0;
    let s2 = 0;
    for (let i = 0; i < x.length; i++) {
      const s0 = x[i]! * hann[i]! + c * s1 - s2;
      s2 = s1;
      s1 = s0;
    }
    const re = s1 - s2 * Math.cos(w);
    const im = s2 * Math.sin(w);
    return (4 * Math.sqrt(re * re + im * im)) / x.length;
  };
  const measure = (x: Float32Array, rate: number): Omit<Sample, 't'> => {
    let sum = 0;
    for (const v of x) sum += v * v;
    const low = Math.max(...opts.dtmf.slice(0, 4).map((f) => amplitude(x, f, rate)));
    const high = Math.max(...opts.dtmf.slice(4).map((f) => amplitude(x, f, rate)));
    return { rms: Math.sqrt(sum / x.length), probe: amplitude(x, opts.probeHz, rate), dtmf: Math.min(low, high) };
  };

  const watch = (track: MediaStreamTrack): void => {
    const ac = context();
    const an = ac.createAnalyser();
    an.fftSize = N;
    an.smoothingTimeConstant = 0;
    ac.createMediaStreamSource(new MediaStream([track])).connect(an);
    void ac.resume();
    const buf = new Float32Array(N);
    setInterval(() => {
      if (track.readyState === 'ended') return;
      an.getFloatTimeDomainData(buf);
      samples.push({ t: performance.now(), ...measure(buf, ac.sampleRate) });
      if (samples.length > 30_000) samples.splice(0, 10_000);
    }, 20);
  };

  const Native = window.RTCPeerConnection;
  class Probed extends Native {
    constructor(config?: RTCConfiguration) {
      super(config);
      pcs.push(this);
      this.addEventListener('track', (e) => {
        if (e.track.kind === 'audio') watch(e.track);
      });
    }
  }
  window.RTCPeerConnection = Probed;

  if (opts.micHz !== undefined) {
    const hz = opts.micHz;
    const md = navigator.mediaDevices;
    md.getUserMedia = async (c?: MediaStreamConstraints) => {
      if (!c?.audio) throw new DOMException('only audio is faked', 'NotSupportedError');
      const ac = context();
      const osc = ac.createOscillator();
      osc.frequency.value = hz;
      const gain = ac.createGain();
      gain.gain.value = 0.3;
      const dest = ac.createMediaStreamDestination();
      osc.connect(gain).connect(dest);
      osc.start();
      await ac.resume();
      return dest.stream;
    };
  }

  const win = window as unknown as { __probe: unknown };
  win.__probe = {
    now: () => performance.now(),
    window: (from: number, to: number) => {
      const s = samples.filter((x) => x.t >= from && x.t <= to);
      const probes = s.map((x) => x.probe).sort((a, b) => a - b);
      return {
        samples: s.length,
        maxRms: Math.max(0, ...s.map((x) => x.rms)),
        medianProbe: probes.length ? probes[Math.floor(probes.length / 2)]! : 0,
        maxDtmf: Math.max(0, ...s.map((x) => x.dtmf)),
      };
    },
    /** The 20 ms samples themselves (time, RMS, probe-frequency amplitude) taken in the window. */
    series: (from: number, to: number) => samples.filter((x) => x.t >= from && x.t <= to).map(({ t, rms, probe }) => ({ t, rms, probe })),
    /** The detector on a synthetic DTMF pair at -20 dBFS per tone: proves it can see one. */
    selfTest: (lowHz: number, highHz: number) => {
      const x = new Float32Array(N).map((_, i) => 0.1 * Math.sin((2 * Math.PI * lowHz * i) / 48000) + 0.1 * Math.sin((2 * Math.PI * highHz * i) / 48000));
      return measure(x, 48000).dtmf;
    },
    inboundSamples: async () => {
      let total = 0;
      for (const pc of pcs) {
        if (pc.connectionState === 'closed') continue;
        (await pc.getStats()).forEach((r: { type?: string; kind?: string; totalSamplesReceived?: number }) => {
          if (r.type === 'inbound-rtp' && r.kind === 'audio') total += r.totalSamplesReceived ?? 0;
        });
      }
      return total;
    },
  };
}

export async function installProbe(page: Page, opts: ProbeOptions): Promise<void> {
  await page.addInitScript(install, { ...opts, dtmf: DTMF_HZ });
}

/** One 20 ms sample of received audio: page time (ms), RMS level, amplitude at the probe frequency. */
export interface AudioSample {
  t: number;
  rms: number;
  probe: number;
}

interface ProbeApi {
  now(): number;
  window(from: number, to: number): AudioWindow;
  series(from: number, to: number): AudioSample[];
  selfTest(lowHz: number, highHz: number): number;
  inboundSamples(): Promise<number>;
}
type ProbeWin = { __probe: ProbeApi };

/** The page's clock (ms), for the window boundaries. */
export const pageNow = (page: Page): Promise<number> => page.evaluate(() => (window as unknown as ProbeWin).__probe.now());
export const audioWindow = (page: Page, from: number, to: number): Promise<AudioWindow> =>
  page.evaluate(([f, t]) => (window as unknown as ProbeWin).__probe.window(f, t), [from, to] as const);
export const audioSeries = (page: Page, from: number, to: number): Promise<AudioSample[]> =>
  page.evaluate(([f, t]) => (window as unknown as ProbeWin).__probe.series(f, t), [from, to] as const);
export const dtmfSelfTest = (page: Page, lowHz: number, highHz: number): Promise<number> =>
  page.evaluate(([l, h]) => (window as unknown as ProbeWin).__probe.selfTest(l, h), [lowHz, highHz] as const);
export const inboundSamples = (page: Page): Promise<number> => page.evaluate(() => (window as unknown as ProbeWin).__probe.inboundSamples());

import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { recordedClipIds } from '../../src/calls/payment/prompt-clips.js';
import { ulawDecode } from '../../src/media/g711/g711.js';
import { encodeWav } from '../../src/media/prompts/wav.js';
import type { Gateway } from '../../src/gateway.js';
import { freeMediaPort, freePort } from '../../devtools/ports.js';
import { payHangupScenario, payHeaders } from '../../devtools/sipp/pay-scenario.js';
import { runSipp } from '../../devtools/sipp/run.js';
import { startTestGateway, type LogSink } from '../support/gateway.js';
import { startCapture } from '../support/pcap-udp.js';

/**
 * A language given only as recorded clips (docs/operations.md, "A language of recorded prompts"):
 * a configuration file naming `mr` (Marathi: no espeak voice used, no text, no code) with a folder
 * of WAV files made here, each a tone of its own frequency and length (8 kHz 16-bit mono) followed
 * by 40 ms of silence. The gateway starts with it, /api/widget-config offers it, and a SIPp
 * payment call asking for it (X-Pay-Language: mr) hears those files: the RTP the gateway sends the
 * caller, captured by tcpdump and decoded, is the greeting's clips in order, each as long as its
 * file, the amount 1499.00 INR read digit by digit, then the card-number prompt.
 */
const RATE = 8000;
const SILENCE_MS = 40;
const dir = mkdtempSync(join(tmpdir(), 'tg-recorded-lang-'));
const PROMPTS = join(dir, 'prompts');
const EN = fileURLToPath(new URL('../../prompts/en', import.meta.url));

/** Tone frequency (Hz) and length (ms, a multiple of 20) of each clip the test tells apart; others 2700 Hz, 200 ms. */
const TONES: Record<string, { hz: number; ms: number }> = {
  'greeting.secure': { hz: 500, ms: 600 },
  'greeting.amount': { hz: 620, ms: 300 },
  ...Object.fromEntries(Array.from({ length: 10 }, (_, d) => [`digit-${d}`, { hz: 740 + 120 * d, ms: 100 + 20 * d }])),
  'enter.pan': { hz: 2000, ms: 400 },
  'star.clears': { hz: 2200, ms: 260 },
  'currency-inr': { hz: 2450, ms: 240 },
};
const OTHER = { hz: 2700, ms: 200 };
const toneOf = (name: string) => TONES[name] ?? OTHER;

function clip(hz: number, ms: number): Int16Array {
  const n = (ms * RATE) / 1000;
  const pcm = new Int16Array(n + (SILENCE_MS * RATE) / 1000);
  for (let i = 0; i < n; i++) pcm[i] = Math.round(8000 * Math.sin((2 * Math.PI * hz * i) / RATE));
  return pcm;
}

/** Amplitude of `hz` in one 20 ms frame (Goertzel). */
function amplitude(x: Int16Array, hz: number): number {
  const c = 2 * Math.cos((2 * Math.PI * hz) / RATE);
  let s1 = 0;
  let s2 = 0;
  for (const v of x) {
    const s0 = v + c * s1 - s2;
    s2 = s1;
    s1 = s0;
  }
  return Math.sqrt(s1 * s1 + s2 * s2 - c * s1 * s2) / x.length;
}

/** The heard audio as runs of one tone: [clip name, ms]; silence between them left out. */
function toneRuns(pcm: Int16Array): [string, number][] {
  const names = [...Object.keys(TONES), 'other'];
  const runs: [string, number][] = [];
  let last = '';
  for (let at = 0; at + 160 <= pcm.length; at += 160) {
    const f = pcm.subarray(at, at + 160);
    const rms = Math.sqrt(f.reduce((s, v) => s + v * v, 0) / f.length);
    if (rms < 500) {
      last = '';
      continue;
    }
    const best = names.map((n) => [n, amplitude(f, (TONES[n] ?? OTHER).hz)] as const).sort((a, b) => b[1] - a[1])[0]![0];
    if (best === last) runs.at(-1)![1] += 20;
    else runs.push([best, 20]);
    last = best;
  }
  return runs;
}

let gw: Gateway;
let logs: LogSink;
let target: string;

beforeAll(async () => {
  // The built-in default language's clips as shipped; mr only as the files made here.
  mkdirSync(join(PROMPTS, 'mr'), { recursive: true });
  symlinkSync(EN, join(PROMPTS, 'en'));
  for (const id of [...recordedClipIds('mr'), 'mr/currency-inr']) {
    const name = id.slice('mr/'.length);
    const { hz, ms } = toneOf(name);
    writeFileSync(join(PROMPTS, `${id}.wav`), encodeWav(clip(hz, ms)));
  }
  writeFileSync(join(dir, 'tonegate.yaml'), `prompts:\n  dir: ${PROMPTS}\n  languages: [en, mr]\n`);
  ({ gw, logs, target } = await startTestGateway({ TONEGATE_CONFIG: join(dir, 'tonegate.yaml') }));
}, 60_000);

afterAll(async () => {
  await gw?.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('a language of recorded prompts, configured without code', () => {
  it('is offered in /api/widget-config', async () => {
    const r = await fetch(`http://127.0.0.1:${gw.httpPort}/api/widget-config`);
    expect(await r.json()).toMatchObject({ languages: ['en', 'mr'], defaultLanguage: 'en' });
  });

  it('a SIPp payment call with X-Pay-Language: mr hears its files: greeting, 1499 digit by digit, the currency, the card prompt', async () => {
    const mediaPort = await freeMediaPort();
    const capture = await startCapture(join(dir, 'rtp.pcap'), 'lo', `udp and dst port ${mediaPort}`);
    const scenario = payHangupScenario({ headers: payHeaders({ 'X-Pay-Language': 'mr', 'X-Pay-Amount': '1499.00', 'X-Pay-Currency': 'INR' }), steps: [{ pauseMs: 5000 }] });
    const r = await runSipp({ scenario, target, localPort: await freePort(), mediaPort, timeoutS: 30 }).done;
    const dgrams = await capture.stop();
    expect(r.code, r.stderr).toBe(0);

    // What the gateway says it played (its debug log of clip ids), first the greeting.
    const played = logs.lines.map((l) => JSON.parse(l) as { msg?: string; clips?: string[] }).filter((l) => l.msg === 'prompt clips').map((l) => l.clips!);
    expect(played[0]).toEqual(['mr/greeting.secure', 'mr/greeting.amount', 'mr/digit-1', 'mr/digit-4', 'mr/digit-9', 'mr/digit-9', 'mr/currency-inr']);
    expect(played[1]?.[0]).toBe('mr/enter.pan');

    // What the caller heard: the PCMU RTP to SIPp's media port, in sequence order, decoded.
    const rtp = dgrams.map((d) => d.payload).filter((p) => p.length > 12 && p[0]! >> 6 === 2 && (p[1]! & 0x7f) === 0);
    rtp.sort((a, b) => a.readUInt16BE(2) - b.readUInt16BE(2));
    const pcm = Int16Array.from(rtp.flatMap((p) => [...p.subarray(12 + 4 * (p[0]! & 0x0f))].map(ulawDecode)));
    const heard = toneRuns(pcm);
    const expected = [...played[0]!, ...played[1]!].map((id) => id.slice('mr/'.length)).map((n) => [TONES[n] ? n : 'other', toneOf(n).ms] as const);
    expect(heard.map(([n]) => n).slice(0, expected.length)).toEqual(expected.map(([n]) => n));
    for (const [i, [name, ms]] of expected.entries()) {
      expect(Math.abs(heard[i]![1] - ms), `${name}: heard ${heard[i]![1]} ms of its ${ms} ms file`).toBeLessThanOrEqual(20);
    }
  }, 60_000);

  it('a missing recorded clip refuses the start, naming it', async () => {
    rmSync(join(PROMPTS, 'mr', 'enter.expiry.wav'));
    await expect(startTestGateway({ TONEGATE_CONFIG: join(dir, 'tonegate.yaml') })).rejects.toThrow(/prompts\.languages: mr: 1 recorded clip\(s\) missing in .*mr: enter\.expiry \(/);
  });
});

/**
 * In-band DTMF detector throughput: tonegate's GoertzelDtmfDetector vs spandsp's dtmf_rx (C,
 * Debian libspandsp, gcc -O2) on the same audio in one run.
 *
 *   npx tsx server/bench/media-detector.ts [seconds-per-side]
 *
 * Audio: the talk-off speech corpus (espeak-ng English + Hindi through µ-law, ~14 min) with a
 * DTMF sequence appended, so both detectors do their full per-block work and report digits.
 * Ours is fed in 20 ms (160-sample) frames as the media worker will; spandsp in 10 ms chunks
 * (the oracle program's loop). Each side runs for about the same wall time after a warm-up;
 * reported as samples per second, real-time channels per core (8000 samples/s each) and the
 * ratio ours / spandsp.
 */
import { GoertzelDtmfDetector } from '../src/media/dtmf/index.js';
import { channel, dtmfSignal } from '../devtools/dsp/generator.js';
import { speechCorpus } from '../devtools/dsp/speech.js';
import { spandspThroughput } from '../devtools/dsp/spandsp.js';

const seconds = Number(process.argv[2] ?? 3);
const speech = speechCorpus().pcm;
const tones = channel(dtmfSignal('123A456B789C*0#D'.repeat(4), { lowDbm0: -10 }));
const audio = new Int16Array(speech.length + tones.length);
audio.set(speech);
audio.set(tones, speech.length);

function runOurs(): number {
  let digits = 0;
  const d = new GoertzelDtmfDetector({ onDigit: () => digits++ });
  for (let i = 0; i < audio.length; i += 160) d.push(audio, i, Math.min(160, audio.length - i));
  return digits;
}

const digitsOurs = runOurs(); // warm-up and correctness
for (let i = 0; i < 2; i++) runOurs();

/** Our rate over about `secs` seconds. */
function timeOurs(secs: number): number {
  let passes = 0;
  const t0 = performance.now();
  while (performance.now() - t0 < secs * 1000) {
    runOurs();
    passes++;
  }
  return (audio.length * passes) / ((performance.now() - t0) / 1000);
}

// Interleave the two in rounds so load from other processes hits both alike; keep the best
// round of each (the least disturbed) and the median.
const rounds = 5;
const oneC = spandspThroughput(audio, 1);
const repeats = Math.max(1, Math.round((seconds / rounds) * (oneC.samplesPerSecond / audio.length)));
const ours: number[] = [];
const theirs: number[] = [];
let digitsC = oneC.digits;
for (let r = 0; r < rounds; r++) {
  ours.push(timeOurs(seconds / rounds));
  const c = spandspThroughput(audio, repeats);
  theirs.push(c.samplesPerSecond);
  digitsC = c.digits;
}
const best = (xs: number[]): number => Math.max(...xs);
const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[xs.length >> 1]!;
const fmt = (r: number): string => `${(r / 1e6).toFixed(1)} M samples/s (${Math.round(r / 8000)} real-time channels)`;
console.log(`audio: ${(audio.length / 8000 / 60).toFixed(1)} min (speech + 64 DTMF digits), node ${process.version}, ${rounds} interleaved rounds`);
console.log(`ours    (TypeScript): best ${fmt(best(ours))}, median ${fmt(median(ours))}  [${digitsOurs} digits]`);
console.log(`spandsp (C, -O2)    : best ${fmt(best(theirs))}, median ${fmt(median(theirs))}  [${digitsC} digits]`);
console.log(`ratio ours/spandsp  : best ${(best(ours) / best(theirs)).toFixed(2)}, median ${(median(ours) / median(theirs)).toFixed(2)}`);

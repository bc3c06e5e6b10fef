/**
 * Zero bleed at the unit level: generated DTMF through the customer receive path (jittered
 * µ-law packets -> playout buffer -> detector + hint -> mask); spandsp's dtmf_rx must find every
 * digit in the input (the signal is right) and none in the output, and the residual at the eight
 * DTMF frequencies must stay below -55 dBm0. Speech must come through untouched.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { DTMF_DIGITS } from '../../../../src/media/dtmf/index.js';
import { addWhiteNoise, channel, concat, dtmfSignal, dtmfWithBreak, silence, toInt16 } from '../../../../devtools/dsp/generator.js';
import { writeReport } from '../../../support/dsp/harness.js';
import { spandspDetect } from '../../../../devtools/dsp/spandsp.js';
import { type SpeechCorpus, speechCorpus } from '../../../../devtools/dsp/speech.js';
import { dtmfResidual } from '../helpers/residual.js';
import { throughGuard } from '../helpers/simulate.js';

const ALL = DTMF_DIGITS; // 0-9 * # A-D

/** Clean cases: [expected digits, signal]. A -60 dBm0 noise floor runs under all of them. */
function cleanCases(): { expected: string; pcm: Int16Array } {
  const parts: Float64Array[] = [];
  let expected = '';
  const add = (digits: string, sig: Float64Array): void => {
    parts.push(sig, silence(120));
    expected += digits;
  };
  add(ALL, dtmfSignal(ALL, { lowDbm0: -4, onMs: 50, offMs: 50 }));
  add(ALL, dtmfSignal(ALL, { lowDbm0: -25, onMs: 80, offMs: 80 }));
  add('1111', dtmfSignal('1111', { lowDbm0: -10, onMs: 45, offMs: 45 }));
  add('5', dtmfSignal('5', { lowDbm0: -8, highDbm0: -5, onMs: 600 })); // long key, reverse twist 3 dB
  add('9', dtmfSignal('9', { lowDbm0: -6, highDbm0: -13, onMs: 70 })); // normal twist 7 dB
  add('2D', dtmfSignal('2D', { lowDbm0: -12, lowOffset: 0.01, highOffset: -0.01, onMs: 60, offMs: 60 }));
  add('#', dtmfWithBreak('#', 120, 50, 10, { lowDbm0: -10 }));
  for (let ph = 0; ph < 4; ph++) add('7', dtmfSignal('7', { lowDbm0: -15, onMs: 41 + ph * 7, phase: ph, leadMs: ph * 3 }));
  const sig = concat(silence(200), ...parts, silence(300));
  return { expected, pcm: channel(addWhiteNoise(sig, -60, 5)) };
}

let speech: SpeechCorpus;
beforeAll(() => {
  speech = speechCorpus();
}, 180_000);

describe('DTMF guard: detection and zero-bleed masking', () => {
  const report: Record<string, unknown> = {};

  it('detects every keyed digit, and spandsp finds none of them in what leaves (silence masking)', () => {
    const { expected, pcm } = cleanCases();
    // The input is right. (spandsp splits the '#' with a 10 ms break in two; Q.24 says it must not, and ours does not.)
    expect(spandspDetect(pcm).digits).toBe(expected.replace('D#', 'D##'));
    const run = throughGuard(pcm, { jitterMs: 6 });
    expect(run.digits.map((d) => d.digit).join('')).toBe(expected);
    expect(spandspDetect(run.out).digits).toBe('');
    const residual = dtmfResidual(run.out);
    report.silence = { residual, maskedMs: run.guard.stats.maskedSamples / 8, stalls: run.buffer.stats.stalls };
    expect(run.guard.stats.unsafeSamples).toBe(0);
    expect(residual.maxDbm0).toBeLessThan(-55);
  });

  it.each(['noise', 'tone'] as const)('masking with %s leaves no digit and no DTMF residual either', (kind) => {
    const { expected, pcm } = cleanCases();
    const run = throughGuard(pcm, { jitterMs: 3, kind, seed: 9 });
    expect(run.digits.map((d) => d.digit).join('')).toBe(expected);
    expect(spandspDetect(run.out).digits).toBe('');
    const residual = dtmfResidual(run.out);
    report[kind] = { residual, maskedMs: run.guard.stats.maskedSamples / 8 };
    expect(residual.maxDbm0).toBeLessThan(-55);
  });

  it('masks digits in 15 dB SNR white noise as well (spandsp finds none)', () => {
    const sig = addWhiteNoise(concat(silence(100), dtmfSignal(ALL, { lowDbm0: -10, onMs: 60, offMs: 60 }), silence(200)), -22, 3);
    const pcm = channel(sig);
    expect(spandspDetect(pcm).digits).toBe(ALL);
    const run = throughGuard(pcm, { jitterMs: 4 });
    expect(run.digits.map((d) => d.digit).join('')).toBe(ALL);
    expect(spandspDetect(run.out).digits).toBe('');
  });

  // A lost or late packet inside a tone leaves pieces each too short for the detector (it may
  // reject anything under 40 ms), but loud and decodable: the hint chunks beside the gap are masked.
  // The 65 ms '2' fills packets 10-12 and 40 samples of 13.
  it.each([
    ['packet 11 lost', (k: number) => (k === 11 ? null : 0)],
    ['packet 12 lost', (k: number) => (k === 12 ? null : 0)],
    ['packet 11 40 ms late (dropped)', (k: number) => (k === 11 ? 40 : 0)],
    ['packet 11 80 ms late (dropped)', (k: number) => (k === 11 ? 80 : 0)],
    // Inside a tone the buffer waits 200 ms for late packets (next test): only a longer hold-up cuts it.
    ['packets 11 on 240 ms late (the stream resumes after a pause)', (k: number) => (k >= 11 ? 240 : 0)],
  ])('a tone cut by a gap in the stream (%s) leaves nothing of it', (_name, delay) => {
    const pcm = channel(addWhiteNoise(concat(silence(200), dtmfSignal('2', { lowDbm0: -4, onMs: 65 }), silence(300)), -60, 1));
    const run = throughGuard(pcm, { delay });
    expect(run.buffer.stats.lostSamples + run.buffer.stats.reanchors).toBeGreaterThan(0); // the gap happened
    expect(spandspDetect(run.out).digits).toBe('');
    expect(dtmfResidual(run.out).maxDbm0).toBeLessThan(-55);
  });

  it.each([30, 60, 100])('under %i ms of jitter with reordering and late packets, 10 runs leak nothing', (jitterMs) => {
    let lost = 0;
    for (let seed = 1; seed <= 10; seed++) {
      const sig = concat(silence(200), dtmfSignal(ALL, { lowDbm0: -4, onMs: 50, offMs: 50 }), silence(120), dtmfSignal('41111111', { lowDbm0: -10, onMs: 70, offMs: 40 }), silence(300));
      const run = throughGuard(channel(addWhiteNoise(sig, -60, seed)), { jitterMs, kind: 'tone', seed });
      lost += run.buffer.stats.lostSamples;
      expect(spandspDetect(run.out).digits).toBe('');
      expect(dtmfResidual(run.out).maxDbm0).toBeLessThan(-55);
    }
    expect(lost).toBeGreaterThan(0);
  });

  it('with 30 ms of jitter, speech loses only the rare hint chunks beside a lost packet (under 0.5 %)', () => {
    const run = throughGuard(speech.pcm, { jitterMs: 30, seed: 3 });
    const share = run.guard.stats.maskedSamples / speech.pcm.length;
    report.speechJitter30 = { lostMs: run.buffer.stats.lostSamples / 8, maskedMs: run.guard.stats.maskedSamples / 8, fragments: run.guard.stats.fragments, share };
    expect(run.buffer.stats.lostSamples).toBeGreaterThan(0);
    expect(run.digits).toHaveLength(0);
    expect(share).toBeLessThan(0.005);
  });

  it('leaves speech alone: no digits and not one sample masked over the talk-off corpus', () => {
    const run = throughGuard(speech.pcm);
    report.speech = { seconds: speech.seconds, digits: run.digits.length, maskedSamples: run.guard.stats.maskedSamples, hintChunks: run.guard.stats.hintChunks };
    writeReport('masking-unit.json', report);
    console.log('[masking unit]', JSON.stringify(report));
    expect(run.digits).toHaveLength(0);
    expect(run.guard.stats.maskedSamples).toBe(0);
  });

  it('plays the unmasked audio unchanged, 40 ms + at most one tick later', () => {
    const pcm = toInt16(addWhiteNoise(new Float64Array(8000), -20, 11));
    const run = throughGuard(pcm);
    const out = run.out;
    // find the delay by matching the first 400 samples
    let delay = -1;
    for (let d = 0; d < 1200 && delay < 0; d++) {
      let ok = true;
      for (let i = 0; i < 400 && ok; i++) ok = Math.abs(out[d + i]! - pcm[i]!) <= Math.max(64, Math.abs(pcm[i]!) / 8);
      if (ok) delay = d;
    }
    expect(delay).toBeGreaterThanOrEqual(320);
    expect(delay).toBeLessThanOrEqual(320 + 160 + 16);
  });
});

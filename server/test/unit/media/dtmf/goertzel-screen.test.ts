/**
 * The row screen (goertzel.ts: the column filters run only on blocks whose strongest row bin holds
 * a fair share of the energy) changes no decision: the detector with its default screen reports
 * exactly the digits, starts, ends and levels of the same detector with `rowScreen: 0` (all eight
 * filters on every block), over the talk-off speech corpus and DTMF at every twist, level and
 * frequency offset the detector accepts or nearly accepts, in noise, fed in three chunk sizes.
 * (Only the diagnostic count of rejected candidate pairs may differ: a far-off pair, ±3 % at 5-8
 * dB of twist, that the full tests would reject for its frequency is not a candidate at all.)
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { DTMF_DIGITS, GoertzelDtmfDetector } from '../../../../src/media/dtmf/index.js';
import { addWhiteNoise, channel, concat, dtmfSignal, silence } from '../../../../devtools/dsp/generator.js';
import { speechCorpus } from '../../../../devtools/dsp/speech.js';

function events(pcm: Int16Array, chunk: number, rowScreen?: number): { log: string[]; rejected: number } {
  const log: string[] = [];
  const d = new GoertzelDtmfDetector({
    ...(rowScreen !== undefined ? { rowScreen } : {}),
    onDigit: (x) => log.push(`on ${x.digit} ${x.startSample} ${x.detectedAtSample} ${x.rowDbm0} ${x.colDbm0}`),
    onEnd: (x) => log.push(`off ${x.digit} ${x.startSample} ${x.endSample}`),
  });
  for (let i = 0; i < pcm.length; i += chunk) d.push(pcm, i, Math.min(chunk, pcm.length - i));
  log.push(`blocks ${d.stats.blocks} digits ${d.stats.digits}`);
  return { log, rejected: d.stats.rejectedFrequency + d.stats.rejectedLevel + d.stats.rejectedTwist + d.stats.rejectedEnergy };
}

/** Every digit at twists -6..+8 dB (column vs row), levels, offsets up to ±3 %, 15-40 dB SNR, 30-90 ms. */
function tones(seed: number): Int16Array {
  const parts: Float64Array[] = [silence(50 + seed * 7)];
  const low = -12 - (seed % 20);
  for (const twist of [-6, -3, 0, 3, 5, 8]) {
    parts.push(dtmfSignal(DTMF_DIGITS, { lowDbm0: low, highDbm0: low + twist, onMs: 30 + seed * 2, offMs: 20 + seed, lowOffset: ((seed % 7) - 3) * 0.01, highOffset: ((seed % 5) - 2) * 0.015, phase: seed }), silence(40));
  }
  return channel(addWhiteNoise(concat(...parts), low - 15 - seed, seed));
}

describe('the in-band detector row screen', () => {
  let speech: Int16Array;
  beforeAll(() => {
    speech = speechCorpus().pcm;
  }, 180_000);

  it('decides exactly as all eight filters on every block do, over speech and 30 sets of DTMF', () => {
    let digits = 0;
    let rejectedAll = 0;
    let rejectedScreened = 0;
    for (const pcm of [speech, ...Array.from({ length: 30 }, (_, i) => tones(i + 1))]) {
      for (const chunk of [160, 77, 1000]) {
        const all = events(pcm, chunk, 0);
        const screened = events(pcm, chunk);
        expect(screened.log).toEqual(all.log);
        digits += all.log.filter((l) => l.startsWith('on')).length;
        rejectedAll += all.rejected;
        rejectedScreened += screened.rejected;
      }
    }
    console.log(`[row screen] ${digits} digits alike; pairs of candidate blocks rejected: ${rejectedAll} with all filters, ${rejectedScreened} screened`);
    expect(digits).toBeGreaterThan(2000); // the sets really hold digits (2508 when written)
  });
});

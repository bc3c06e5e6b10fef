/**
 * The DTMF test-signal generator is itself checked: levels against the dBm0 definition,
 * frequencies by zero crossings, noise level and determinism. (That spandsp decodes what it
 * makes is shown case by case in goertzel.test.ts.)
 */
import { describe, expect, it } from 'vitest';
import { sinePeakForDbm0 } from '../../../../src/media/g711/index.js';
import { dtmfFrequencies } from '../../../../src/media/dtmf/index.js';
import { addDialTone, addWhiteNoise, channel, dtmfSignal, levelDbm0, ms, toInt16 } from '../../../../devtools/dsp/generator.js';
import { prng } from '../../../../devtools/prng.js';

const zeroCrossingHz = (x: ArrayLike<number>): number => {
  let n = 0;
  for (let i = 1; i < x.length; i++) if ((x[i - 1]! < 0) !== (x[i]! < 0)) n++;
  return (n / 2) * (8000 / x.length);
};

describe('DTMF generator', () => {
  it('makes each tone of a pair at the requested dBm0 (pair = tone + 3.01 dB)', () => {
    for (const l of [-4, -10, -30]) {
      const s = dtmfSignal('5', { lowDbm0: l, onMs: 1000, offMs: 0 });
      expect(levelDbm0(s)).toBeCloseTo(l + 3.01, 1);
      expect(levelDbm0(channel(s))).toBeCloseTo(l + 3.01, 1); // µ-law keeps the level
    }
    expect(sinePeakForDbm0(0)).toBeCloseTo(22656.7, 0);
  });

  it('applies twist to the high tone and offsets to the right tone', () => {
    const s = dtmfSignal('D', { lowDbm0: -40, highDbm0: -10, onMs: 1000, offMs: 0, highOffset: 0.02 });
    expect(zeroCrossingHz(s)).toBeCloseTo(dtmfFrequencies('D').col * 1.02, -1);
    const t = dtmfSignal('1', { lowDbm0: -10, highDbm0: -40, onMs: 1000, offMs: 0, lowOffset: -0.03 });
    expect(zeroCrossingHz(t)).toBeCloseTo(697 * 0.97, -1);
  });

  it('times digits: on/off lengths in samples, lead silence', () => {
    const s = dtmfSignal('12', { onMs: 40, offMs: 60, leadMs: 10 });
    expect(s.length).toBe(ms(10) + 2 * ms(100));
    expect(s[ms(10) - 1]).toBe(0);
    expect(Math.abs(s[ms(10) + 5]!)).toBeGreaterThan(0);
    expect(s[ms(10) + ms(40) + 1]).toBe(0);
  });

  it('adds seeded white noise at the requested level, the same for the same seed', () => {
    const a = addWhiteNoise(new Float64Array(80000), -20, 7);
    const b = addWhiteNoise(new Float64Array(80000), -20, 7);
    const c = addWhiteNoise(new Float64Array(80000), -20, 8);
    expect(levelDbm0(a)).toBeCloseTo(-20, 1);
    expect(a).toEqual(b);
    expect(a).not.toEqual(c);
    const r = prng(1);
    const xs = Array.from({ length: 10000 }, r);
    expect(Math.min(...xs)).toBeGreaterThanOrEqual(0);
    expect(Math.max(...xs)).toBeLessThan(1);
  });

  it('adds dial tone at the requested level per component and saturates on conversion', () => {
    const d = addDialTone(new Float64Array(8000), -13);
    expect(levelDbm0(d)).toBeCloseTo(-13 + 3.01, 1);
    const loud = toInt16(Float64Array.from([40000, -40000, 1.4]));
    expect([...loud]).toEqual([32767, -32768, 1]);
  });
});

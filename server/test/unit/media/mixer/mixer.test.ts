import { describe, expect, it } from 'vitest';
import { CaptureTone } from '../../../../src/media/mixer/capture-tone.js';
import { presetMatrix, validateMatrix } from '../../../../src/media/mixer/matrix.js';
import { MixBus, softLimit } from '../../../../src/media/mixer/mix.js';
import { toneLevelDbm0 } from '../helpers/residual.js';

const frame = (f: (i: number) => number): Int16Array => Int16Array.from({ length: 160 }, (_, i) => f(i));

describe('mixer', () => {
  it('sums sources exactly below the knee and copies a single source untouched', () => {
    const bus = new MixBus();
    const out = new Int16Array(160);
    const a = frame((i) => i * 10 - 800);
    bus.clear();
    bus.add(a);
    bus.render(out);
    expect([...out]).toEqual([...a]);
    bus.clear();
    bus.add(a);
    bus.add(frame(() => 1000));
    bus.add(frame((i) => -i));
    bus.render(out);
    expect([...out]).toEqual([...a].map((x, i) => x + 1000 - i));
    bus.clear();
    bus.render(out);
    expect(out.every((x) => x === 0)).toBe(true);
  });

  it('limits loud sums softly: monotonic, never beyond full scale, no wrap-around', () => {
    const bus = new MixBus();
    const out = new Int16Array(160);
    bus.clear();
    bus.add(frame(() => 30000));
    bus.add(frame(() => 30000));
    bus.add(frame(() => -32768));
    bus.add(frame((i) => (i < 80 ? 32767 : -32768)));
    bus.render(out);
    expect(out[0]).toBeGreaterThan(24576);
    expect(out[0]).toBeLessThanOrEqual(32767);
    expect(out[100]).toBeLessThan(0);
    let prev = -Infinity;
    for (let x = -200000; x <= 200000; x += 97) {
      const y = softLimit(x);
      expect(y).toBeGreaterThanOrEqual(prev);
      expect(Math.abs(y)).toBeLessThanOrEqual(32767);
      prev = y;
    }
    expect(softLimit(24576)).toBe(24576);
    expect(softLimit(-1000)).toBe(-1000);
  });

  it('presets: normal = everyone hears everyone else; capture = customer hears prompts only, agent never hears the customer', () => {
    const legs = [{ id: 'c', role: 'customer' as const }, { id: 'a', role: 'agent' as const }, { id: 's', role: 'agent' as const }];
    expect(presetMatrix('normal', legs, false)).toEqual({
      c: { legs: ['a', 's'], prompt: true, captureTone: false },
      a: { legs: ['c', 's'], prompt: true, captureTone: false },
      s: { legs: ['c', 'a'], prompt: true, captureTone: false },
    });
    expect(presetMatrix('capture', legs, true)).toEqual({
      c: { legs: [], prompt: true, captureTone: false },
      a: { legs: ['s'], prompt: false, captureTone: true },
      s: { legs: ['a'], prompt: false, captureTone: true },
    });
    const ids = new Set(['c', 'a']);
    expect(() => validateMatrix({ c: { legs: ['x'], prompt: true, captureTone: false } }, ids)).toThrow(/unknown leg "x"/);
    expect(() => validateMatrix({ z: { legs: [], prompt: true, captureTone: false } }, ids)).toThrow(/unknown listener/);
    expect(() => validateMatrix({ c: { legs: ['c'], prompt: true, captureTone: false } }, ids)).toThrow(/itself/);
  });

  it('the capture tone is a soft 480 Hz beep with nothing at the DTMF frequencies', () => {
    const t = new CaptureTone();
    const pcm = new Int16Array(16000);
    const f = new Int16Array(160);
    for (let i = 0; i < 100; i++) {
      t.render(f);
      pcm.set(f, i * 160);
    }
    expect(toneLevelDbm0(pcm, 600, 480)).toBeGreaterThan(-31);
    expect(toneLevelDbm0(pcm, 600, 480)).toBeLessThan(-29);
    for (const hz of [697, 770, 852, 941, 1209, 1336, 1477, 1633]) for (let at = 0; at < 2000; at += 40) expect(toneLevelDbm0(pcm, at, hz)).toBeLessThan(-60);
    expect(pcm.subarray(1700, 15900).every((x) => x === 0)).toBe(true); // quiet between beeps
  });
});

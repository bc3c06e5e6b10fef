import { describe, expect, it } from 'vitest';
import { Ticker } from '../../../../src/media/clock/ticker.js';
import { FakeClock } from '../../../support/fake-clock.js';

function setup(opts: { lateFire?: () => number; maxCatchUp?: number } = {}) {
  const clock = new FakeClock();
  let busy = 0; // extra time a callback "spends", seen by now()
  const dues: number[] = [];
  const skips: number[] = [];
  const hooks: { onTick?: (n: number) => void } = {};
  const ticker = new Ticker({
    periodMs: 20,
    now: () => clock.now() + busy,
    setTimer: (fn, ms) => clock.setTimeout(fn, ms + (opts.lateFire?.() ?? 0)),
    onTick: (n, due) => {
      dues.push(due);
      hooks.onTick?.(n);
    },
    onSkip: (n) => skips.push(n),
    ...(opts.maxCatchUp !== undefined ? { maxCatchUp: opts.maxCatchUp } : {}),
  });
  return { clock, ticker, dues, skips, hooks, spend: (ms: number) => (busy += ms) };
}

describe('drift-free ticker', () => {
  it('keeps every deadline on start + n * period although each timer fires up to 3 ms late', () => {
    let seed = 7;
    const rnd = () => ((seed = (seed * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff) * 3;
    const { clock, ticker, dues } = setup({ lateFire: rnd });
    ticker.start();
    clock.advance(20 * 1000 + 10);
    expect(dues.length).toBeGreaterThanOrEqual(999);
    dues.forEach((d, n) => expect(d).toBe(ticker.epochMs + 20 * n));
    expect(ticker.stats.skipped).toBe(0);
    expect(ticker.stats.missed).toBe(0);
    expect(ticker.stats.maxLatenessMs).toBeLessThanOrEqual(3.01);
  });

  it('a blocked thread catches up with at most maxCatchUp frames and skips (and counts) the rest', () => {
    const { clock, ticker, dues, skips, hooks, spend } = setup({ maxCatchUp: 2 });
    hooks.onTick = (n) => {
      if (n === 5) spend(130); // tick 5 blocks for 130 ms: ticks 6..11 become due meanwhile
    };
    ticker.start();
    clock.advance(20 * 30);
    expect(skips.length).toBeGreaterThan(0);
    expect(ticker.stats.skipped).toBe(skips.length);
    // every tick index is either run or skipped, exactly once
    const ran = dues.map((d) => Math.round((d - ticker.epochMs) / 20));
    const all = [...ran, ...skips].sort((a, b) => a - b);
    expect(all).toEqual(Array.from({ length: all.length }, (_, i) => i));
    expect(ticker.stats.missed).toBeGreaterThanOrEqual(skips.length + 1);
    expect(ticker.stats.late).toBeGreaterThan(0);
  });

  it('a throwing callback does not stop the clock', () => {
    const clock = new FakeClock();
    const errors: unknown[] = [];
    let ticks = 0;
    const ticker = new Ticker({
      periodMs: 20,
      now: () => clock.now(),
      setTimer: (fn, ms) => clock.setTimeout(fn, ms),
      onTick: () => {
        ticks++;
        throw new Error('boom');
      },
      onError: (e) => errors.push(e),
    });
    ticker.start();
    clock.advance(20 * 10);
    expect(ticks).toBe(10);
    expect(errors).toHaveLength(10);
    ticker.stop();
    clock.advance(100);
    expect(ticks).toBe(10);
    expect(clock.pending()).toBe(0);
  });
});

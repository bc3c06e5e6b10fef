import { describe, expect, it } from 'vitest';
import type { BridgeStats, LegStats } from '../../../src/media/plane.js';
import { InactivityTracker, pollIntervalMs, watchMedia } from '../../../src/calls/media-watch.js';
import { FakeClock } from '../../support/fake-clock.js';

type Sample = { at: number; a: number; b: number; hold?: boolean; expect?: string };

/** Each row: samples of the two legs' packet counters in order, with the leg expected to time out. */
const TABLE: { name: string; samples: Sample[] }[] = [
  { name: 'both legs flowing never time out', samples: [{ at: 0, a: 0, b: 0 }, { at: 5_000, a: 10, b: 10 }, { at: 10_000, a: 20, b: 20 }, { at: 15_000, a: 30, b: 30 }] },
  { name: 'a leg silent from the start times out after the timeout', samples: [{ at: 0, a: 0, b: 0 }, { at: 5_000, a: 0, b: 10 }, { at: 9_999, a: 0, b: 20 }, { at: 10_000, a: 0, b: 30, expect: 'A' }] },
  { name: 'a leg that stops sending times out counted from its last packet', samples: [{ at: 0, a: 0, b: 0 }, { at: 4_000, a: 50, b: 5 }, { at: 13_000, a: 50, b: 9 }, { at: 14_000, a: 50, b: 10, expect: 'A' }] },
  { name: 'the B leg is reported when it is the silent one', samples: [{ at: 0, a: 1, b: 1 }, { at: 10_000, a: 2, b: 1, expect: 'B' }] },
  { name: 'hold exempts silence; off hold the count runs from the last sample on hold', samples: [{ at: 0, a: 0, b: 0 }, { at: 9_000, a: 0, b: 0, hold: true }, { at: 20_000, a: 0, b: 0, hold: true }, { at: 25_000, a: 0, b: 0 }, { at: 29_999, a: 0, b: 0 }, { at: 30_000, a: 0, b: 0, expect: 'A' }] },
];

describe('InactivityTracker (10 s timeout)', () => {
  for (const row of TABLE) {
    it(row.name, () => {
      const t = new InactivityTracker(10_000);
      for (const s of row.samples) {
        const got = t.observe(s.at, [{ id: 'A', packets: s.a }, { id: 'B', packets: s.b }], s.hold ?? false);
        expect(got, `at ${s.at}`).toBe(s.expect);
      }
    });
  }
});

describe('pollIntervalMs', () => {
  it.each([[60_000, 5_000], [8_000, 2_000], [400, 250]])('timeout %i ms -> every %i ms', (timeout, every) => {
    expect(pollIntervalMs(timeout)).toBe(every);
  });
});

const leg = (id: string, packets: number): LegStats => ({ id, rx: { packets } }) as unknown as LegStats; // only rx.packets is read
const stats = (a: number, b: number): BridgeStats => ({ id: 'x', mode: 'normal', slot: 0, legs: [leg('customer', a), leg('agent', b)] });

describe('watchMedia', () => {
  const flush = () => new Promise((r) => setImmediate(r));

  it('reports the silent leg once, after the timeout, and stops polling', async () => {
    const clock = new FakeClock();
    let a = 0;
    const fired: [string, number][] = [];
    watchMedia({ clock, timeoutMs: 4_000, stats: () => Promise.resolve(stats(a, 0)), exempt: () => false, onTimeout: (l, ms) => fired.push([l, ms]) });
    await flush();
    for (let i = 0; i < 10; i++) {
      a += 10; // the customer keeps sending; the agent never does
      clock.advance(1_000);
      await flush();
    }
    expect(fired).toEqual([['agent', 4_000]]);
    expect(clock.pending()).toBe(0);
  });

  it('stop() ends the polling without a report; 0 disables the watch', async () => {
    const clock = new FakeClock();
    const fired: string[] = [];
    const w = watchMedia({ clock, timeoutMs: 4_000, stats: () => Promise.resolve(stats(0, 0)), exempt: () => false, onTimeout: (l) => fired.push(l) });
    await flush();
    w.stop();
    clock.advance(10_000);
    await flush();
    expect(fired).toEqual([]);
    let polled = 0;
    watchMedia({ clock, timeoutMs: 0, stats: () => (polled++, Promise.resolve(stats(0, 0))), exempt: () => false, onTimeout: (l) => fired.push(l) });
    clock.advance(10_000);
    await flush();
    expect(polled).toBe(0);
  });

  it('a bridge whose stats fail stops the watch and reports the error', async () => {
    const clock = new FakeClock();
    const errors: unknown[] = [];
    watchMedia({ clock, timeoutMs: 4_000, stats: () => Promise.reject(new Error('gone')), exempt: () => false, onTimeout: () => errors.push('timeout'), onError: (e) => errors.push(e) });
    await flush();
    clock.advance(10_000);
    await flush();
    expect(errors).toHaveLength(1);
    expect(clock.pending()).toBe(0);
  });
});

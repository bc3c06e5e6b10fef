import { describe, expect, it } from 'vitest';
import type { LoadLimits } from '../../../../src/calls/load/decide.js';
import { LoadMonitor } from '../../../../src/calls/load/monitor.js';

const LIMITS: LoadLimits = { maxCalls: 2, maxCaptures: 2, rtpReservePairs: 2, mediaBusy: 0.8, loopLagMs: 250, retryAfterS: 5 };

function monitor(over: { calls?: number; captures?: number; allocated?: number; active?: number[] } = {}) {
  const src = { calls: over.calls ?? 0, captures: over.captures ?? 0, allocated: over.allocated ?? 0, active: over.active ?? [0] };
  let t = 0;
  const refused: string[] = [];
  const m = new LoadMonitor({
    limits: LIMITS,
    now: () => t,
    sources: {
      calls: () => src.calls,
      captures: () => src.captures,
      ports: () => ({ allocated: src.allocated, capacity: 10 }),
      workerActiveMs: () => Promise.resolve(src.active.map((activeMs, worker) => ({ worker, activeMs }))),
    },
    onRefused: (r) => refused.push(r.reason),
  });
  return { m, src, refused, advance: (ms: number) => (t += ms) };
}

describe('LoadMonitor: admitted requests count until released', () => {
  it('a burst of payment INVITEs admits the limit while their handoffs are read, the rest are refused', () => {
    const { m, refused } = monitor();
    const a = m.admit('payment-invite');
    const b = m.admit('payment-invite');
    const c = m.admit('payment-invite');
    expect('release' in a && 'release' in b).toBe(true);
    expect('refusal' in c && c.refusal.reason).toBe('calls');
    expect(refused).toEqual(['calls']);
  });

  it('release gives the place back, once only', () => {
    const { m } = monitor({ calls: 1 });
    const a = m.admit('payment-refer');
    const b = m.admit('payment-refer');
    expect('release' in a && 'release' in b).toBe(true);
    expect('refusal' in m.admit('payment-refer')).toBe(true);
    if ('release' in a) {
      a.release();
      a.release();
    }
    expect(m.measures().captures).toBe(1);
    expect('release' in m.admit('payment-refer')).toBe(true);
    expect('refusal' in m.admit('payment-refer')).toBe(true);
  });

  it('pending payment calls hold their RTP pair against the reserve', () => {
    const { m } = monitor({ allocated: 7 }); // 3 pairs free, 2 kept
    expect('release' in m.admit('payment-invite')).toBe(true);
    const r = m.admit('bridged');
    expect('refusal' in r && r.refusal.reason).toBe('rtp-ports');
  });
});

describe('LoadMonitor: media workers busy share from their active time', () => {
  it('the busiest worker counts, once busy two samples in a row; the first sample only sets the base', async () => {
    const { m, src, advance } = monitor({ active: [100, 100] });
    await m.sample();
    expect(m.measures().mediaBusy).toBe(0);
    advance(1000);
    src.active = [400, 950]; // worker 1: 85 % of the second
    await m.sample();
    expect(m.measures().mediaBusy).toBe(0); // one busy second is a spike
    expect('release' in m.admit('payment-refer')).toBe(true);
    advance(1000);
    src.active = [700, 1850]; // worker 1: 90 %
    await m.sample();
    expect(m.measures().mediaBusy).toBeCloseTo(0.85);
    const r = m.admit('payment-refer');
    expect('refusal' in r && r.refusal.reason).toBe('media-busy');
    expect(m.reached().map((x) => x.reason)).toEqual(['media-busy']);
    advance(1000);
    src.active = [800, 1950]; // quiet again: admitted at once
    await m.sample();
    expect(m.measures().mediaBusy).toBeCloseTo(0.1);
  });

  it('a replaced worker (active time back near 0) gives no share until its next sample', async () => {
    const { m, src, advance } = monitor({ active: [5000] });
    await m.sample();
    advance(1000);
    src.active = [10];
    await m.sample();
    expect(m.measures().mediaBusy).toBe(0);
    advance(1000);
    src.active = [510];
    await m.sample();
    advance(1000);
    src.active = [1010];
    await m.sample();
    expect(m.measures().mediaBusy).toBeCloseTo(0.5);
  });
});

/** Holds the main thread for `ms`, as overload or a long GC pause does. */
function block(ms: number): void {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    // busy: no timer runs meanwhile
  }
}

describe('LoadMonitor: event-loop lag from the 20 ms drift timer', () => {
  it('a blocked main loop, two samples in a row, refuses new work with loop-lag; one sample does not', async () => {
    const { m } = monitor();
    m.start();
    try {
      await new Promise((r) => setTimeout(r, 50));
      block(300); // the loop is held 300 ms: the drift timer's tick comes late by about that
      await new Promise((r) => setTimeout(r, 20));
      await m.sample();
      expect(m.measures().loopLagMs).toBe(0);
      block(300);
      await new Promise((r) => setTimeout(r, 20));
      await m.sample();
      expect(m.measures().loopLagMs).toBeGreaterThanOrEqual(250);
      const r = m.admit('bridged');
      expect('refusal' in r && r.refusal.reason).toBe('loop-lag');
    } finally {
      m.stop();
    }
  });

  it('one stall across a sample boundary counts in one sample only, so two stalls two samples apart refuse nothing', async () => {
    const { m } = monitor();
    m.start();
    try {
      await new Promise((r) => setTimeout(r, 50));
      block(300);
      await m.sample(); // the sample closes while the stall's timers are still overdue
      await new Promise((r) => setTimeout(r, 100)); // the overdue timers run now, in the next sample
      await m.sample();
      expect(m.measures().loopLagMs).toBeLessThan(250);
      block(300);
      await new Promise((r) => setTimeout(r, 20));
      await m.sample();
      // Samples 2 and 3 are the last two; only sample 3 holds a stall (sample 1 the other).
      expect(m.measures().loopLagMs).toBeLessThan(250);
      expect('release' in m.admit('bridged')).toBe(true);
    } finally {
      m.stop();
    }
  });
});

import { describe, expect, it } from 'vitest';
import {
  BreakerState,
  CircuitBreaker,
  InvalidBreakerMoveError,
  breakerStep,
  initialBreaker,
  DEFAULT_BREAKER,
  RATE_CALLS,
  type BreakerConfig,
  type BreakerEvent,
  type BreakerSnapshot,
} from '../../../src/providers/resilience/circuit-breaker.js';
import { ProviderError } from '../../../src/providers/errors.js';
import { FakeClock } from '../../support/fake-clock.js';

const CFG: BreakerConfig = { failureThreshold: 3, windowMs: 1_000, cooldownMs: 5_000 };
const { Closed, Open, HalfOpen } = BreakerState;

const snap = (p: Partial<BreakerSnapshot>): BreakerSnapshot => ({ ...initialBreaker(0), ...p });
const acquire = (at: number): BreakerEvent => ({ kind: 'acquire', at });
const ok = (at: number, epoch = 0): BreakerEvent => ({ kind: 'success', at, epoch });
const fail = (at: number, epoch = 0): BreakerEvent => ({ kind: 'failure', at, epoch });

describe('breakerStep (pure transition table)', () => {
  it.each<[string, BreakerSnapshot, BreakerEvent, BreakerState, boolean, Partial<BreakerSnapshot>]>([
    ['closed admits', snap({}), acquire(10), Closed, true, {}],
    ['closed: success changes nothing', snap({ failures: [5] }), ok(10), Closed, false, { failures: [5] }],
    ['closed: a failure is counted', snap({ failures: [5] }), fail(10), Closed, false, { failures: [5, 10] }],
    ['closed: Nth failure in the window opens', snap({ failures: [5, 10] }), fail(20), Open, false, { openedAt: 20, epoch: 1, failures: [] }],
    ['closed: failures older than the window are forgotten', snap({ failures: [0, 10], at: 10 }), fail(1_010), Closed, false, { failures: [1_010] }],
    ['closed: a stale result is ignored', snap({ epoch: 2 }), fail(10, 1), Closed, false, { epoch: 2, failures: [] }],
    ['open refuses during cooldown', snap({ state: Open, openedAt: 0, epoch: 1 }), acquire(4_999), Open, false, {}],
    ['open lets one probe through after cooldown', snap({ state: Open, openedAt: 0, epoch: 1 }), acquire(5_000), HalfOpen, true, { epoch: 2 }],
    ['open ignores a stale result', snap({ state: Open, epoch: 1 }), ok(10, 0), Open, false, { epoch: 1 }],
    ['half-open refuses a second caller', snap({ state: HalfOpen, epoch: 2 }), acquire(6_000), HalfOpen, false, {}],
    ['half-open: probe success closes', snap({ state: HalfOpen, epoch: 2 }), ok(6_000, 2), Closed, false, { epoch: 3, failures: [] }],
    ['half-open: probe failure re-opens', snap({ state: HalfOpen, epoch: 2 }), fail(6_000, 2), Open, false, { epoch: 3, openedAt: 6_000 }],
    ['half-open: a stale result is ignored', snap({ state: HalfOpen, epoch: 2 }), fail(6_000, 1), HalfOpen, false, { epoch: 2 }],
  ])('%s', (_name, from, event, state, admitted, expected) => {
    const r = breakerStep(from, event, CFG);
    expect(r.next.state).toBe(state);
    expect(r.admitted).toBe(admitted);
    expect(r.next).toMatchObject(expected);
  });

  const RATE: BreakerConfig = { ...CFG, minFailureRate: 0.5 };
  it.each<[string, BreakerSnapshot, BreakerEvent, BreakerState, Partial<BreakerSnapshot>]>([
    ['rate: a success is remembered', snap({ successes: [5] }), ok(10), Closed, { successes: [5, 10] }],
    ['rate: Nth failure opens when failures are at least the rate', snap({ failures: [5, 10], successes: [7, 8, 9] }), fail(20), Open, { failures: [], successes: [], openedAt: 20 }],
    ['rate: Nth failure does not open while successes outweigh failures', snap({ failures: [5, 10], successes: [6, 7, 8, 9] }), fail(20), Closed, { failures: [5, 10, 20] }],
    ['rate: only the last 20 results count', snap({ failures: [30, 31, 32, 33], successes: Array.from({ length: 16 }, (_, i) => 34 + i) }), fail(60), Closed, {}],
    ['rate: successes older than the window no longer count', snap({ failures: [995, 996], successes: [0, 1, 2, 3], at: 996 }), fail(1_001), Open, {}],
  ])('%s', (_name, from, event, state, expected) => {
    const r = breakerStep(from, event, RATE);
    expect(r.next.state).toBe(state);
    expect(r.next).toMatchObject(expected);
  });

  it.each<[string, BreakerSnapshot, BreakerEvent]>([
    ['a result in open for the current epoch (nothing was admitted)', snap({ state: Open, epoch: 1 }), ok(10, 1)],
    ['a result from a future epoch', snap({ epoch: 0 }), fail(10, 3)],
    ['time going backwards', snap({ at: 100 }), acquire(99)],
  ])('throws on a bad move: %s', (_name, from, event) => {
    expect(() => breakerStep(from, event, CFG)).toThrow(InvalidBreakerMoveError);
  });
});

describe('CircuitBreaker on the fake clock', () => {
  it('with the default config, 10 % failures under load (1 in 10 of 400 calls, 30 calls/s) never open it; an outage does', () => {
    const clock = new FakeClock();
    const b = new CircuitBreaker('payment', clock, DEFAULT_BREAKER);
    for (let i = 0; i < 400; i++) {
      clock.advance(33);
      const t = b.acquire();
      if (i % 10 === 3) b.failure(t);
      else b.success(t);
    }
    expect(b.state).toBe(Closed);
    for (let i = 0; i < 5; i++) {
      clock.advance(33);
      b.failure(b.acquire());
    }
    expect(b.state).toBe(Closed); // 5 failures in the last 20 results: still under 50 %
    let failuresToOpen = 5;
    while (b.state === Closed) {
      clock.advance(33);
      b.failure(b.acquire());
      failuresToOpen++;
    }
    expect(b.state).toBe(Open);
    expect(failuresToOpen).toBeLessThanOrEqual(10); // half of the last 20 results (one was an earlier failure)
    expect(() => b.acquire()).toThrow(ProviderError);
  });

  it('is refusing only while open within the cooldown; past it the state still reads open until the probe', () => {
    const clock = new FakeClock();
    const b = new CircuitBreaker('payment', clock, CFG);
    expect(b.refusing).toBe(false);
    for (let i = 0; i < 3; i++) b.failure(b.acquire());
    expect([b.state, b.refusing]).toEqual([Open, true]);
    clock.advance(CFG.cooldownMs);
    expect([b.state, b.refusing]).toEqual([Open, false]);
    const probe = b.acquire();
    expect([b.state, b.refusing]).toEqual([HalfOpen, false]);
    b.success(probe);
    expect(b.state).toBe(Closed);
  });

  it('keeps at most RATE_CALLS results per list', () => {
    let s = initialBreaker(0);
    for (let i = 1; i <= 1000; i++) s = breakerStep(s, ok(i), DEFAULT_BREAKER).next;
    expect(s.successes).toHaveLength(RATE_CALLS);
  });

  it('opens after N failures in the window, refuses fast, probes after cooldown, closes on success', () => {
    const clock = new FakeClock();
    const changes: string[] = [];
    const b = new CircuitBreaker('payment', clock, CFG, (from, to) => changes.push(`${from}->${to}`));
    for (let i = 0; i < 3; i++) {
      const t = b.acquire();
      clock.advance(100);
      b.failure(t);
    }
    expect(b.state).toBe(Open);
    expect(b.tryAcquire()).toBeNull();
    expect(() => b.acquire()).toThrow(ProviderError);
    try {
      b.acquire();
    } catch (e) {
      expect((e as ProviderError).code).toBe('breaker-open');
      expect((e as ProviderError).retryable).toBe(false);
    }
    clock.advance(4_999);
    expect(b.tryAcquire()).toBeNull();
    clock.advance(1);
    const probe = b.acquire();
    expect(b.state).toBe(HalfOpen);
    expect(b.tryAcquire()).toBeNull();
    b.success(probe);
    expect(b.state).toBe(Closed);
    expect(changes).toEqual(['closed->open', 'open->half-open', 'half-open->closed']);
  });

  it('a slow call admitted before opening cannot close the breaker later', () => {
    const clock = new FakeClock();
    const b = new CircuitBreaker('p', clock, CFG);
    const slow = b.acquire();
    for (let i = 0; i < 3; i++) b.failure(b.acquire());
    expect(b.state).toBe(Open);
    b.success(slow);
    expect(b.state).toBe(Open);
  });

  it('failures spread wider than the window never open it', () => {
    const clock = new FakeClock();
    const b = new CircuitBreaker('p', clock, CFG);
    for (let i = 0; i < 10; i++) {
      b.failure(b.acquire());
      clock.advance(600);
    }
    expect(b.state).toBe(Closed);
  });
});

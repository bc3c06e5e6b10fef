import { describe, expect, it } from 'vitest';
import { backoffMs, LOCK_AFTER, LOCK_MS, SignInLockout, type LockoutEvent } from '../../../src/security/lockout.js';
import { KeyedCounter, KeyedRateLimit } from '../../../src/security/rate-limit.js';

function setup() {
  let now = 1_000_000;
  const events: LockoutEvent[] = [];
  const l = new SignInLockout({ now: () => now, onEvent: (e) => void events.push(e) });
  return { l, events, advance: (ms: number) => void (now += ms) };
}

describe('SignInLockout (one for SIP and HTTP, keyed by user and source)', () => {
  it('backoff: none for the first 4 failures, then 1 s doubling, capped at 60 s', () => {
    expect([1, 2, 3, 4, 5, 6, 7, 8, 11, 20].map(backoffMs)).toEqual([0, 0, 0, 0, 1000, 2000, 4000, 8000, 60_000, 60_000]);
  });

  it(`locks after ${LOCK_AFTER} failures for 30 minutes, the right password refused meanwhile, every step audited`, () => {
    const { l, events, advance } = setup();
    for (let i = 0; i < LOCK_AFTER; i++) {
      expect(l.attempt('agent-1', '10.0.0.1', 'sip').ok).toBe(true);
      l.failed('agent-1', '10.0.0.1', i % 2 ? 'sip' : 'http');
      advance(61_000);
    }
    expect(l.isLocked('agent-1', '10.0.0.1')).toBe(true);
    expect(events.filter((e) => e.kind === 'failure')).toHaveLength(LOCK_AFTER);
    expect(events.filter((e) => e.kind === 'locked')).toHaveLength(1);
    expect(l.attempt('agent-1', '10.0.0.1', 'http')).toMatchObject({ ok: false, reason: 'locked' });
    expect(events.at(-1)).toMatchObject({ kind: 'refused', reason: 'locked', channel: 'http', source: '10.0.0.1' });
    // Another source, or another user, is not locked.
    expect(l.attempt('agent-1', '10.0.0.2', 'sip').ok).toBe(true);
    expect(l.attempt('agent-2', '10.0.0.1', 'sip').ok).toBe(true);
    advance(LOCK_MS - 61_000 - 1);
    expect(l.attempt('agent-1', '10.0.0.1', 'sip').ok).toBe(false);
    advance(1);
    expect(l.attempt('agent-1', '10.0.0.1', 'sip').ok).toBe(true);
  });

  it('attempts during the backoff are refused and counted: a tight loop is locked after exactly 10 attempts', () => {
    const { l } = setup();
    let refused = 0;
    for (let i = 0; i < LOCK_AFTER; i++) {
      const d = l.attempt('agent-9', '10.0.0.1', 'sip');
      if (d.ok) l.failed('agent-9', '10.0.0.1', 'sip');
      else refused++;
    }
    expect(refused).toBe(5);
    expect(l.isLocked('agent-9', '10.0.0.1')).toBe(true);
  });

  it('unknown user names are locked exactly like real ones (no enumeration)', () => {
    const { l } = setup();
    for (let i = 0; i < LOCK_AFTER; i++) if (l.attempt('nobody', '10.0.0.1', 'sip').ok) l.failed('nobody', '10.0.0.1', 'sip');
    expect(l.isLocked('nobody', '10.0.0.1')).toBe(true);
  });

  it('a success clears the key; a supervisor unlock clears every source of that user', () => {
    const { l, events } = setup();
    for (let i = 0; i < 4; i++) l.failed('agent-1', '10.0.0.1', 'sip');
    l.succeeded('agent-1', '10.0.0.1');
    for (let i = 0; i < 4; i++) l.failed('agent-1', '10.0.0.1', 'sip');
    expect(l.attempt('agent-1', '10.0.0.1', 'sip').ok).toBe(true); // 4 failures: still no backoff
    for (let i = 0; i < LOCK_AFTER; i++) {
      l.failed('agent-1', '10.0.0.1', 'sip');
      l.failed('agent-1', '10.0.0.2', 'sip');
    }
    expect(l.lockedCount()).toBe(2);
    expect(l.unlock('agent-1')).toBe(2);
    expect(l.lockedCount()).toBe(0);
    expect(events.filter((e) => e.kind === 'unlocked').map((e) => e.source).sort()).toEqual(['10.0.0.1', '10.0.0.2']);
    expect(l.attempt('agent-1', '10.0.0.1', 'sip').ok).toBe(true);
  });

  it('a throwing audit listener never changes the decision', () => {
    const l = new SignInLockout({ now: () => 0, onEvent: () => { throw new Error('disk full'); } });
    expect(() => l.failed('a', 'b', 'sip')).not.toThrow();
  });

  it('the table is bounded and forgets unlocked keys before locked ones', () => {
    let now = 0;
    const l = new SignInLockout({ now: () => now, maxKeys: 3 });
    for (let i = 0; i < LOCK_AFTER; i++) l.failed('victim', '10.0.0.1', 'sip');
    for (let i = 0; i < 20; i++) l.failed(`spray-${i}`, '10.0.0.1', 'sip');
    now += 1;
    expect(l.isLocked('victim', '10.0.0.1')).toBe(true);
  });
});

describe('KeyedRateLimit and KeyedCounter', () => {
  it('gives burst tokens, refills at the rate, and tells how long to wait', () => {
    let now = 0;
    const r = new KeyedRateLimit({ ratePerS: 2, burst: 3, now: () => now });
    expect([r.take('a'), r.take('a'), r.take('a'), r.take('a')]).toEqual([true, true, true, false]);
    expect(r.take('b')).toBe(true); // keys are independent
    expect(r.retryAfterMs('a')).toBe(500);
    now += 500;
    expect(r.take('a')).toBe(true);
    expect(r.take('a')).toBe(false);
  });

  it('is bounded: the least recently used key is forgotten', () => {
    const r = new KeyedRateLimit({ ratePerS: 1, burst: 1, now: () => 0, maxKeys: 2 });
    r.take('a');
    r.take('b');
    r.take('c');
    expect(r.size).toBe(2);
    expect(r.take('a')).toBe(true); // forgotten, so full again
  });

  it('KeyedCounter caps open things per key', () => {
    const c = new KeyedCounter(2);
    expect([c.acquire('ip'), c.acquire('ip'), c.acquire('ip')]).toEqual([true, true, false]);
    c.release('ip');
    expect(c.acquire('ip')).toBe(true);
    expect(c.total()).toBe(2);
  });

  it('rejects nonsense settings', () => {
    expect(() => new KeyedRateLimit({ ratePerS: 0, burst: 1, now: () => 0 })).toThrow(RangeError);
  });
});

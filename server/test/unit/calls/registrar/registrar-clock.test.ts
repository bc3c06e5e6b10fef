import { describe, expect, it } from 'vitest';
import { Registrar } from '../../../../src/calls/registrar/index.js';
import type { Clock } from '../../../../src/lib/clock.js';

/** A clock stopped at `t` ms (fractional, as performance.now() is). */
const at = (t: number): Clock => ({ now: () => t, setTimeout: () => ({ cancel: () => undefined }) });

describe('Registrar: the expires it grants with a fractional clock (RFC 3261 10.3 step 8)', () => {
  // (t + 60000) - t is 60000.000000000015 in binary floating point for these t.
  it.each([
    [113465.47536368568, 60],
    [788717.4044467012, 3600],
  ])('at t=%s a request for %s s is granted exactly that, never a second more', (t, expires) => {
    const reg = new Registrar({ clock: at(t) });
    const r = reg.register('agent-1', [{ uri: 'sip:agent-1@a.invalid;transport=ws' }], expires, 'c1', 1, 'ws:1');
    expect(r).toMatchObject({ status: 200, bindings: [{ expires }] });
    expect(reg.contacts('agent-1')[0]!.expires).toBe(expires);
  });

  it('counts the remaining time down to 0 as the clock moves', () => {
    let t = 0.3;
    const reg = new Registrar({ clock: { now: () => t, setTimeout: () => ({ cancel: () => undefined }) } });
    reg.register('agent-1', [{ uri: 'sip:agent-1@a.invalid' }], 60, 'c1', 1, 'udp:x');
    t += 59_000.5;
    expect(reg.contacts('agent-1')[0]!.expires).toBe(1);
    t += 1_000;
    expect(reg.isRegistered('agent-1')).toBe(false);
  });
});

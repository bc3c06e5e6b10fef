import { describe, expect, it } from 'vitest';
import { CallSessionTimers } from '../../../../src/calls/b2bua/session-timers.js';
import type { Leg } from '../../../../src/calls/media-anchor.js';
import { negotiateAsUas } from '../../../../src/sip/dialog/session-timer.js';
import { createLogger } from '../../../../src/observability/logger.js';
import { FakeClock } from '../../../support/fake-clock.js';

const msg = (h: Record<string, string>) => ({ getHeader: (n: string) => h[n.toLowerCase()] });
const S = { expiresS: 90, minSeS: 90 };

function setup(refreshOk = true) {
  const clock = new FakeClock();
  const sent: string[] = [];
  const expired: string[] = [];
  const timers = new CallSessionTimers({
    clock,
    log: createLogger('silent'),
    sendRefresh: (leg: Leg, method, headers, done) => {
      sent.push(`${leg} ${method} ${headers.map(([k, v]) => `${k}=${v}`).join(' ')}`);
      done(refreshOk, refreshOk ? 'ok' : '481');
    },
    expire: (r) => expired.push(r),
  }, S);
  return { clock, sent, expired, timers };
}

describe('CallSessionTimers (RFC 4028 on both legs)', () => {
  it('caller asks us to refresh (UPDATE allowed), agent asks us too (re-INVITE): both refreshed at 45 s, again at 90 s', () => {
    const { clock, sent, expired, timers } = setup();
    const invite = msg({ supported: 'timer', 'session-expires': '90;refresher=uas', allow: 'INVITE, ACK, BYE, UPDATE' });
    timers.agreeA(negotiateAsUas(invite, S), invite);
    timers.agreeB(msg({ 'session-expires': '90;refresher=uac', allow: 'INVITE, ACK, BYE' }));
    expect(timers.answerHeaders('A')).toEqual([['Session-Expires', '90;refresher=uas'], ['Require', 'timer']]);
    timers.start();
    clock.advance(45_000);
    expect(sent).toEqual([
      'A UPDATE Supported=timer Session-Expires=90;refresher=uac Min-SE=90',
      'B INVITE Supported=timer Session-Expires=90;refresher=uac Min-SE=90',
    ]);
    clock.advance(45_000);
    expect(sent).toHaveLength(4);
    expect(expired).toEqual([]);
  });

  it('a caller that should refresh and does not: expired at 60 s; a refresh from it restarts the count', () => {
    const { clock, sent, expired, timers } = setup();
    const invite = msg({ supported: 'timer', 'session-expires': '90;refresher=uac' });
    timers.agreeA(negotiateAsUas(invite, S), invite);
    timers.start();
    clock.advance(30_000);
    timers.refreshed('A', msg({ supported: 'timer' }));
    clock.advance(59_999);
    expect(expired).toEqual([]);
    clock.advance(1);
    expect(expired).toEqual(['session expired on the caller leg: no session refresh within 90 s (RFC 4028 10)']);
    expect(sent).toEqual([]);
  });

  it('a failed refresh of ours ends the call; an agent without Session-Expires in its 2xx gets no timer', () => {
    const { clock, expired, timers } = setup(false);
    const invite = msg({ supported: 'timer', 'session-expires': '90;refresher=uas' });
    timers.agreeA(negotiateAsUas(invite, S), invite);
    timers.agreeB(msg({}));
    expect(timers.has('B')).toBe(false);
    timers.start();
    clock.advance(45_000);
    expect(expired).toEqual(['session expired on the caller leg: session refresh (INVITE) failed: 481 (RFC 4028 10)']);
  });

  it('no timer agreed: nothing runs, no headers', () => {
    const { clock, sent, expired, timers } = setup();
    timers.agreeA(negotiateAsUas(msg({}), S), msg({}));
    timers.start();
    clock.advance(1_000_000);
    expect([sent, expired, timers.answerHeaders('A')]).toEqual([[], [], []]);
  });
});

import { describe, expect, it } from 'vitest';
import {
  expiryMs, listsTimer, negotiateAsUac, negotiateAsUas, parseMinSe, parseSessionExpires, refreshMs, SessionTimer, uacOfferHeaders, uasAnswerHeaders,
} from '../../../../src/sip/dialog/session-timer.js';
import { FakeClock } from '../../../support/fake-clock.js';

const msg = (h: Record<string, string>) => ({ getHeader: (n: string) => h[n.toLowerCase()] });
const S = { expiresS: 1800, minSeS: 90 };

describe('Session-Expires / Min-SE parsing (RFC 4028 4, 5)', () => {
  it.each([
    ['1800', { seconds: 1800 }],
    ['90;refresher=uac', { seconds: 90, refresher: 'uac' }],
    [' 120 ; refresher=UAS ', { seconds: 120, refresher: 'uas' }],
    ['600;foo=bar;refresher=uas', { seconds: 600, refresher: 'uas' }],
    ['600;refresher=other', { seconds: 600 }],
    ['abc', undefined],
    ['', undefined],
    [undefined, undefined],
  ])('Session-Expires %j', (v, want) => expect(parseSessionExpires(v)).toEqual(want));

  it.each([['90', 90], ['120;x=y', 120], ['x', undefined], [undefined, undefined]])('Min-SE %j', (v, want) => expect(parseMinSe(v)).toBe(want));

  it.each([[['timer'], true], [['100rel, timer'], true], [['100rel'], false], [[undefined, 'timer'], true], [[undefined], false]] as const)(
    'timer listed in %j: %s', (vals, want) => expect(listsTimer(...vals)).toBe(want),
  );
});

describe('the gateway as UAS (RFC 4028 8.1, 9)', () => {
  it.each([
    ['no timer support, no Session-Expires: none', {}, { kind: 'none' }],
    ['Session-Expires below Min-SE: 422', { 'session-expires': '60' }, { kind: 'too-small', minSe: 90 }],
    ['Session-Expires below Min-SE with timer support: 422', { supported: 'timer', 'session-expires': '89;refresher=uac' }, { kind: 'too-small', minSe: 90 }],
    ['timer support only: our interval, the UAC refreshes', { supported: 'timer' }, { kind: 'timer', seconds: 1800, refresher: 'uac', uacSupportsTimer: true }],
    ['a smaller interval is taken', { supported: 'timer', 'session-expires': '300' }, { kind: 'timer', seconds: 300, refresher: 'uac', uacSupportsTimer: true }],
    ['a larger interval is lowered to ours', { supported: 'timer', 'session-expires': '7200' }, { kind: 'timer', seconds: 1800, refresher: 'uac', uacSupportsTimer: true }],
    ['refresher=uas asked: we refresh', { supported: 'timer', 'session-expires': '600;refresher=uas' }, { kind: 'timer', seconds: 600, refresher: 'uas', uacSupportsTimer: true }],
    ['Session-Expires without timer support: the UAS must refresh', { 'session-expires': '600;refresher=uac' }, { kind: 'timer', seconds: 600, refresher: 'uas', uacSupportsTimer: false }],
    ["the UAC's Min-SE is respected", { supported: 'timer', 'session-expires': '100', 'min-se': '150' }, { kind: 'timer', seconds: 150, refresher: 'uac', uacSupportsTimer: true }],
    ['compact forms k and x', { k: 'timer', x: '400;refresher=uac' }, { kind: 'timer', seconds: 400, refresher: 'uac', uacSupportsTimer: true }],
  ])('%s', (_name, headers, want) => expect(negotiateAsUas(msg(headers), S)).toEqual(want));

  it('answer headers: Require: timer only when the UAC supports it', () => {
    expect(uasAnswerHeaders({ seconds: 600, refresher: 'uas', uacSupportsTimer: true })).toEqual([['Session-Expires', '600;refresher=uas'], ['Require', 'timer']]);
    expect(uasAnswerHeaders({ seconds: 600, refresher: 'uas', uacSupportsTimer: false })).toEqual([['Session-Expires', '600;refresher=uas']]);
  });
});

describe('the gateway as UAC (RFC 4028 7.1, 7.2)', () => {
  it('offers timer and asks the far end to refresh', () => {
    expect(uacOfferHeaders(S)).toEqual([['Supported', 'timer'], ['Session-Expires', '1800;refresher=uas'], ['Min-SE', '90']]);
  });
  it.each([
    [{}, undefined],
    [{ 'session-expires': '900;refresher=uas' }, { seconds: 900, refresher: 'uas' }],
    [{ 'session-expires': '900' }, { seconds: 900, refresher: 'uac' }],
  ])('2xx %j', (h, want) => expect(negotiateAsUac(msg(h))).toEqual(want));
});

describe('SessionTimer (RFC 4028 10)', () => {
  it.each([[90, 45_000, 60_000], [1800, 900_000, 1_768_000], [120, 60_000, 88_000]])('%i s: refresh at %i ms, BYE at %i ms', (s, r, e) => {
    expect(refreshMs(s)).toBe(r);
    expect(expiryMs(s)).toBe(e);
  });

  const run = (weRefresh: boolean) => {
    const clock = new FakeClock();
    const seen: string[] = [];
    const t = new SessionTimer(clock, 90, weRefresh, { refresh: () => seen.push(`refresh@${clock.now()}`), expire: (why) => seen.push(`expire@${clock.now()}: ${why}`) });
    return { clock, seen, t };
  };

  it('the refresher refreshes at half the interval, again after each success', () => {
    const { clock, seen, t } = run(true);
    clock.advance(44_999);
    expect(seen).toEqual([]);
    clock.advance(1);
    expect(seen).toEqual(['refresh@45000']);
    t.refreshed();
    clock.advance(45_000);
    expect(seen).toEqual(['refresh@45000', 'refresh@90000']);
  });

  it('a failed refresh ends the session once', () => {
    const { clock, seen, t } = run(true);
    clock.advance(45_000);
    t.failed('408');
    t.failed('408');
    clock.advance(100_000);
    expect(seen).toEqual(['refresh@45000', 'expire@45000: 408']);
  });

  it('the other side expires at interval - min(32, interval/3) without a refresh, and a refresh restarts it', () => {
    const { clock, seen, t } = run(false);
    clock.advance(50_000);
    t.refreshed();
    clock.advance(59_999);
    expect(seen).toEqual([]);
    clock.advance(1);
    expect(seen).toEqual(['expire@110000: no session refresh within 90 s (RFC 4028 10)']);
  });

  it('a refresh can hand the refresher role over; stop() silences it', () => {
    const { clock, seen, t } = run(false);
    t.refreshed({ seconds: 120, weRefresh: true });
    clock.advance(60_000);
    expect(seen).toEqual(['refresh@60000']);
    t.stop();
    clock.advance(1_000_000);
    expect(seen).toEqual(['refresh@60000']);
  });
});

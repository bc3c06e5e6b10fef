import { describe, expect, it } from 'vitest';
import { limitsReached, loadRefusal, type LoadLimits, type LoadMeasures, type LoadReason, type LoadRequestKind } from '../../../../src/calls/load/decide.js';

const LIMITS: LoadLimits = { maxCalls: 3, maxCaptures: 2, rtpReservePairs: 4, mediaBusy: 0.85, loopLagMs: 250, retryAfterS: 5 };
const IDLE: LoadMeasures = { calls: 0, captures: 0, freePortPairs: 500, mediaBusy: 0.1, loopLagMs: 12 };

describe('loadRefusal: whether a new call or payment may start, from the measures and the limits', () => {
  // [name, kind, measures over IDLE, limits over LIMITS, expected reason or null]
  const table: [string, LoadRequestKind, Partial<LoadMeasures>, Partial<LoadLimits>, LoadReason | null][] = [
    ['an idle gateway takes a bridged call', 'bridged', {}, {}, null],
    ['an idle gateway takes a payment call', 'payment-invite', {}, {}, null],
    ['an idle gateway takes a payment REFER', 'payment-refer', {}, {}, null],
    ['the third call fits under MAX_CALLS 3', 'bridged', { calls: 2 }, {}, null],
    ['a fourth call passes MAX_CALLS 3', 'bridged', { calls: 3 }, {}, 'calls'],
    ['a payment call counts as a call', 'payment-invite', { calls: 3 }, {}, 'calls'],
    ['a REFER adds no call: taken with MAX_CALLS reached', 'payment-refer', { calls: 3 }, {}, null],
    ['no MAX_CALLS: any number of calls', 'bridged', { calls: 100_000 }, { maxCalls: undefined }, null],
    ['a payment call adds a capture: refused at MAX_CAPTURES', 'payment-invite', { calls: 1, captures: 2 }, {}, 'captures'],
    ['a REFER adds a capture: refused at MAX_CAPTURES', 'payment-refer', { captures: 2 }, {}, 'captures'],
    ['a bridged call adds no capture', 'bridged', { captures: 2 }, {}, null],
    ['no MAX_CAPTURES: any number of captures', 'payment-refer', { captures: 9_999 }, { maxCaptures: undefined }, null],
    ['a bridged call needs 2 pairs above the reserve: 6 free is enough', 'bridged', { freePortPairs: 6 }, {}, null],
    ['a bridged call with 5 free would eat into the reserve of 4', 'bridged', { freePortPairs: 5 }, {}, 'rtp-ports'],
    ['a payment call needs 1 pair: 5 free is enough', 'payment-invite', { freePortPairs: 5 }, {}, null],
    ['a payment call with 4 free would eat into the reserve', 'payment-invite', { freePortPairs: 4 }, {}, 'rtp-ports'],
    ['a REFER needs no port (the call has its own): taken with none free', 'payment-refer', { freePortPairs: 0 }, {}, null],
    ['reserve 0: the last pair may go', 'payment-invite', { freePortPairs: 1 }, { rtpReservePairs: 0 }, null],
    ['media workers just under the limit', 'bridged', { mediaBusy: 0.84 }, {}, null],
    ['media workers at the limit: bridged refused', 'bridged', { mediaBusy: 0.85 }, {}, 'media-busy'],
    ['media workers at the limit: REFER refused', 'payment-refer', { mediaBusy: 0.97 }, {}, 'media-busy'],
    ['loop lag just under the limit', 'payment-invite', { loopLagMs: 249 }, {}, null],
    ['loop lag at the limit: payment refused', 'payment-invite', { loopLagMs: 250 }, {}, 'loop-lag'],
    ['loop lag at the limit: REFER refused', 'payment-refer', { loopLagMs: 900 }, {}, 'loop-lag'],
    ['several limits: the held calls are named first', 'payment-invite', { calls: 3, captures: 2, freePortPairs: 0, mediaBusy: 1, loopLagMs: 999 }, {}, 'calls'],
    ['REFER with everything passed but calls and ports: captures named', 'payment-refer', { calls: 3, captures: 2, freePortPairs: 0 }, {}, 'captures'],
  ];
  it.each(table)('%s', (_name, kind, m, l, expected) => {
    const r = loadRefusal(kind, { ...IDLE, ...m }, { ...LIMITS, ...l });
    expect(r?.reason ?? null).toBe(expected);
    if (r) {
      expect(r.status).toBe(503);
      expect(r.retryAfterS).toBe(5);
      expect(r.text).toMatch(/^overload: .+; retry later$/);
    }
  });

  it.each([
    ['calls', { calls: 3 }, 'overload: 3 of 3 calls held (MAX_CALLS); retry later'],
    ['captures', { captures: 2 }, 'overload: 2 of 2 payment captures running (MAX_CAPTURES); retry later'],
    ['rtp-ports', { freePortPairs: 3 }, 'overload: 3 RTP port pairs free, 4 kept in reserve (ADMIT_RTP_RESERVE); retry later'],
    ['media-busy', { mediaBusy: 0.9 }, 'overload: media workers 90 % busy, limit 85 % (ADMIT_MEDIA_BUSY); retry later'],
    ['loop-lag', { loopLagMs: 312.4 }, 'overload: event loop lag 312 ms, limit 250 ms (ADMIT_LOOP_LAG_MS); retry later'],
  ] as const)('the Warning text names the limit: %s', (_r, m, text) => {
    expect(loadRefusal('payment-invite', { ...IDLE, ...m }, LIMITS)?.text).toBe(text);
  });

  it('Retry-After is the configured one', () => {
    expect(loadRefusal('bridged', { ...IDLE, calls: 3 }, { ...LIMITS, retryAfterS: 17 })?.retryAfterS).toBe(17);
  });
});

describe('limitsReached: what /healthz reports as degraded', () => {
  it.each([
    ['nothing reached', {}, []],
    ['MAX_CALLS reached', { calls: 3 }, ['calls']],
    ['MAX_CAPTURES reached', { captures: 2 }, ['captures']],
    ['one under every count limit', { calls: 2, captures: 1 }, []],
    ['ports at the reserve for a bridged call', { freePortPairs: 5 }, ['rtp-ports']],
    ['every limit at once, each named once', { calls: 3, captures: 2, freePortPairs: 1, mediaBusy: 0.9, loopLagMs: 300 }, ['calls', 'rtp-ports', 'media-busy', 'loop-lag', 'captures']],
  ] as const)('%s', (_n, m, reasons) => {
    expect(limitsReached({ ...IDLE, ...m }, LIMITS).map((r) => r.reason)).toEqual(reasons);
  });
});

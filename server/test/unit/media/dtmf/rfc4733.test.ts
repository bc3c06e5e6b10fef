import { describe, expect, it } from 'vitest';
import { type Rfc4733Digit, type Rfc4733End, Rfc4733Receiver } from '../../../../src/media/dtmf/rfc4733.js';
import { digitForEventCode, eventCodeForDigit } from '../../../../src/media/dtmf/events.js';
import { type RtpPacket, isRtpParseError, parseRtp } from '../../../../src/media/rtp/index.js';
import { SIPP_DTMF_NAMES, readPcapUdp, sippDtmfPcap } from '../../../support/dsp/pcap.js';

interface Pkt {
  seq: number;
  ts: number;
  code: number | string;
  dur: number;
  e?: boolean;
  m?: boolean;
  pt?: number;
  ssrc?: number;
  at?: number;
  raw?: Buffer;
}
type Step = Pkt | { tick: number };

const packet = (p: Pkt): RtpPacket => {
  const payload = p.raw ?? Buffer.alloc(4);
  if (!p.raw) {
    payload[0] = typeof p.code === 'string' ? eventCodeForDigit(p.code) : p.code;
    payload[1] = (p.e ? 0x80 : 0) | 10;
    payload.writeUInt16BE(p.dur, 2);
  }
  return { marker: !!p.m, payloadType: p.pt ?? 101, sequenceNumber: p.seq, timestamp: p.ts, ssrc: p.ssrc ?? 0x1234, csrcs: [], payload };
};

/**
 * Runs the steps and logs, in order, `<step>:key D@ts` when a key is reported (its step's index:
 * reported on which packet) and `<step>:end D@ts/duration/endedBy` when its event ends.
 */
const run = (steps: Step[], pt = 101): { log: string[]; digits: Rfc4733Digit[]; ends: Rfc4733End[]; starts: string[]; rx: Rfc4733Receiver } => {
  const digits: Rfc4733Digit[] = [];
  const ends: Rfc4733End[] = [];
  const starts: string[] = [];
  const log: string[] = [];
  let i = 0;
  const rx = new Rfc4733Receiver({
    payloadType: pt,
    onDigit: (d) => {
      digits.push(d);
      log.push(`${i}:key ${d.digit}@${d.timestamp}${d.reportedOn === 'end-packet' ? ' (end packet)' : ''}`);
    },
    onStart: (s) => starts.push(s.digit),
    onEnd: (e) => {
      ends.push(e);
      log.push(`${i}:end ${e.digit}@${e.timestamp}/${e.durationMs}ms/${e.endedBy}${e.reported ? '' : ' (dropped)'}`);
    },
  });
  let now = 0;
  for (; i < steps.length; i++) {
    const s = steps[i]!;
    if ('tick' in s) {
      now = s.tick;
      rx.tick(now);
    } else {
      now = s.at ?? now + 20;
      rx.push(packet(s), now);
    }
  }
  return { log, digits, ends, starts, rx };
};

/** A well-formed event: M first packet, updates every 160, the end packet three times. */
const event = (digit: string, ts: number, seq0: number, updates: number, endSeqs: 'same' | 'increment' = 'same'): Pkt[] => {
  const out: Pkt[] = [];
  for (let i = 0; i < updates; i++) out.push({ seq: seq0 + i, ts, code: digit, dur: i * 160, m: i === 0 });
  for (let k = 0; k < 3; k++) {
    out.push({ seq: seq0 + updates + (endSeqs === 'same' ? 0 : k), ts, code: digit, dur: updates * 160, e: true });
  }
  return out;
};

const LONG = ((0xffff + 1600) * 1000) / 8000;
const WRAP = ((0xffff + 8000) * 1000) / 8000;

const cases: Array<[string, Step[], string[], number?]> = [
  ['a plain event: the key on its first packet, the end on the first end packet', event('5', 1000, 1, 5), ['0:key 5@1000', '5:end 5@1000/100ms/end-bit']],
  ['end bit repeated with incrementing sequence numbers: the extra end packets report nothing', event('9', 1000, 1, 5, 'increment'), ['0:key 9@1000', '5:end 9@1000/100ms/end-bit']],
  [
    'the start packet sent again (M bit, same timestamp) is not a new key',
    [{ seq: 1, ts: 700, code: '2', dur: 0, m: true }, { seq: 2, ts: 700, code: '2', dur: 0, m: true }, { seq: 3, ts: 700, code: '2', dur: 160 }, { seq: 4, ts: 700, code: '2', dur: 320, e: true }],
    ['0:key 2@700', '3:end 2@700/40ms/end-bit'],
  ],
  ['first packets lost: the key on the first update that arrives', event('3', 500, 1, 6).slice(2), ['0:key 3@500', '4:end 3@500/120ms/end-bit']],
  ['only end packets arrive: the key and its end on the first of them, the other two ignored', event('#', 500, 1, 6).slice(6), ['0:key #@500', '0:end #@500/120ms/end-bit']],
  [
    'lost end packets: the next event (different timestamp) ends it and is reported on its own first packet',
    [...event('1', 1000, 1, 4).slice(0, 4), ...event('2', 3000, 10, 4)],
    ['0:key 1@1000', '4:end 1@1000/60ms/new-event', '4:key 2@3000', '8:end 2@3000/80ms/end-bit'],
  ],
  ['lost end packets: ended by timeout, the key already reported', [...event('7', 1000, 1, 4).slice(0, 4), { tick: 300 }, { tick: 600 }], ['0:key 7@1000', '5:end 7@1000/60ms/timeout']],
  [
    'duplicates and reordering: late updates never shrink or repeat an event',
    [
      { seq: 1, ts: 800, code: '4', dur: 0, m: true },
      { seq: 3, ts: 800, code: '4', dur: 320 },
      { seq: 2, ts: 800, code: '4', dur: 160 },
      { seq: 3, ts: 800, code: '4', dur: 320 },
      { seq: 4, ts: 800, code: '4', dur: 480, e: true },
      { seq: 2, ts: 800, code: '4', dur: 160 },
      { seq: 4, ts: 800, code: '4', dur: 480, e: true },
    ],
    ['0:key 4@800', '4:end 4@800/60ms/end-bit'],
  ],
  [
    'reordered start: an update overtakes the M-bit packet; the key once, on the update',
    [{ seq: 2, ts: 900, code: '6', dur: 160 }, { seq: 1, ts: 900, code: '6', dur: 0, m: true }, { seq: 3, ts: 900, code: '6', dur: 320, e: true }],
    ['0:key 6@900', '2:end 6@900/40ms/end-bit'],
  ],
  [
    'a late packet of an event already ended by a newer one is ignored',
    [
      ...event('1', 1000, 1, 3).slice(0, 3),
      { seq: 20, ts: 4000, code: '2', dur: 0, m: true },
      { seq: 4, ts: 1000, code: '1', dur: 480, e: true },
      { seq: 21, ts: 4000, code: '2', dur: 160, e: true },
    ],
    ['0:key 1@1000', '3:end 1@1000/40ms/new-event', '3:key 2@4000', '5:end 2@4000/20ms/end-bit'],
  ],
  [
    'the same digit twice in a row (new timestamp) is reported twice',
    [...event('8', 1000, 1, 5), ...event('8', 4000, 20, 5)],
    ['0:key 8@1000', '5:end 8@1000/100ms/end-bit', '8:key 8@4000', '13:end 8@4000/100ms/end-bit'],
  ],
  [
    'the same digit twice with the first end lost',
    [...event('8', 1000, 1, 5).slice(0, 5), ...event('8', 4000, 20, 5)],
    ['0:key 8@1000', '5:end 8@1000/80ms/new-event', '5:key 8@4000', '10:end 8@4000/100ms/end-bit'],
  ],
  [
    'a long event in two segments (RFC 4733 §2.5.1.3 / §2.5.2.3): one key, the durations summed',
    [
      { seq: 1, ts: 100, code: '0', dur: 0, m: true },
      { seq: 2, ts: 100, code: '0', dur: 40000 },
      { seq: 3, ts: 100, code: '0', dur: 0xffff },
      { seq: 4, ts: 100 + 0xffff, code: '0', dur: 800 },
      { seq: 5, ts: 100 + 0xffff, code: '0', dur: 1600, e: true },
      { seq: 5, ts: 100 + 0xffff, code: '0', dur: 1600, e: true },
    ],
    ['0:key 0@100', `4:end 0@100/${LONG}ms/end-bit`],
  ],
  [
    'a long event whose first segment was lost after its start: the second segment is no new key',
    [
      { seq: 1, ts: 100, code: '0', dur: 0, m: true },
      { seq: 4, ts: 100 + 0xffff, code: '0', dur: 800 },
      { seq: 5, ts: 100 + 0xffff, code: '0', dur: 1600, e: true },
    ],
    ['0:key 0@100', `2:end 0@100/${((0 + 0xffff + 1600) * 1000) / 8000}ms/end-bit`],
  ],
  [
    'a long event across the 32-bit timestamp wrap',
    [
      { seq: 1, ts: 0xfffff000, code: 'D', dur: 0xffff, m: true },
      { seq: 2, ts: (0xfffff000 + 0xffff) >>> 0, code: 'D', dur: 8000, e: true },
    ],
    [`0:key D@${0xfffff000}`, `1:end D@${0xfffff000}/${WRAP}ms/end-bit`],
  ],
  ['event codes above 15 (16 = flash) are not digits', [{ seq: 1, ts: 10, code: 16, dur: 800, e: true, m: true }], []],
  [
    'A-D are codes 12-15, * is 10, # is 11',
    [...event('A', 10, 1, 1), ...event('*', 2000, 10, 1), ...event('D', 4000, 20, 1)],
    ['0:key A@10', '1:end A@10/20ms/end-bit', '4:key *@2000', '5:end *@2000/20ms/end-bit', '8:key D@4000', '9:end D@4000/20ms/end-bit'],
  ],
  ['a payload shorter than 4 octets is ignored', [{ seq: 1, ts: 10, code: 1, dur: 0, raw: Buffer.from([1, 0x8a, 0]) }], []],
  ['another payload type on the stream is ignored', [{ seq: 1, ts: 10, code: 1, dur: 160, e: true, pt: 0 }], []],
  ['a negotiated payload type other than 101 works', event('6', 10, 1, 2).map((p) => ({ ...p, pt: 96 })), ['0:key 6@10', '2:end 6@10/40ms/end-bit'], 96],
  [
    'an SSRC change starts a new timeline (even with an older timestamp)',
    [...event('1', 90000, 1, 2), ...event('2', 500, 1, 2).map((p) => ({ ...p, ssrc: 99 }))],
    ['0:key 1@90000', '2:end 1@90000/40ms/end-bit', '5:key 2@500', '7:end 2@500/40ms/end-bit'],
  ],
  [
    'a timestamp far behind the last event (sender restart on the same SSRC) is a new event',
    [...event('1', 900000, 1, 2), ...event('2', 500, 10, 2)],
    ['0:key 1@900000', '2:end 1@900000/40ms/end-bit', '5:key 2@500', '7:end 2@500/40ms/end-bit'],
  ],
  [
    'a timestamp just behind the last event after a silence (a replaying sender): the key on its end packet only',
    [...event('1', 5000, 1, 2), { seq: 10, ts: 4000, code: '1', dur: 0, m: true, at: 400 }, { seq: 11, ts: 4000, code: '1', dur: 160 }, { seq: 12, ts: 4000, code: '1', dur: 320, e: true }],
    ['0:key 1@5000', '2:end 1@5000/40ms/end-bit', '7:key 1@4000 (end packet)', '7:end 1@4000/40ms/end-bit'],
  ],
  [
    'a replayed start with no end packet is dropped: never reported, its end still closes the mask',
    [...event('1', 5000, 1, 2), { seq: 10, ts: 4000, code: '1', dur: 0, m: true, at: 400 }, { tick: 1000 }],
    ['0:key 1@5000', '2:end 1@5000/40ms/end-bit', '6:end 1@4000/0ms/timeout (dropped)'],
  ],
];

describe('Rfc4733Receiver (RFC 4733 §2.5.2): packets -> keys on their first packet, then ends', () => {
  it.each(cases)('%s', (_name, steps, expected, pt) => {
    expect(run(steps, pt ?? 101).log).toEqual(expected);
  });

  it('onStart fires at the first packet of each event, with the key, before the end', () => {
    const { starts, digits, ends } = run([...event('1', 100, 1, 3).slice(0, 2)]);
    expect(starts).toEqual(['1']);
    expect(digits.map((d) => d.digit)).toEqual(['1']);
    expect(ends).toEqual([]);
  });

  it('counts what it ignored', () => {
    const { rx } = run([
      { seq: 1, ts: 10, code: 1, dur: 0, raw: Buffer.from([1]) },
      { seq: 2, ts: 10, code: 16, dur: 0 },
      { seq: 3, ts: 10, code: 1, dur: 0, pt: 8 },
      { seq: 4, ts: 20, code: 1, dur: 0, raw: Buffer.from('010a0000020a0000', 'hex') },
      { seq: 5, ts: 20, code: 1, dur: 160, e: true },
      { seq: 5, ts: 20, code: 1, dur: 160, e: true },
    ]);
    expect(rx.stats).toMatchObject({ shortPayloads: 1, nonDigitEvents: 1, otherPayloadType: 1, extraBlocks: 1, latePackets: 1, digits: 1 });
  });

  it('a throwing listener does not stop the receiver', () => {
    const errors: unknown[] = [];
    let n = 0;
    const rx = new Rfc4733Receiver({
      payloadType: 101,
      onDigit: () => {
        n++;
        throw new Error('boom');
      },
      onEnd: () => {
        throw new Error('boom at the end');
      },
      onListenerError: (e) => errors.push(e),
    });
    for (const p of [...event('1', 10, 1, 1), ...event('2', 2000, 10, 1)]) rx.push(packet(p), 0);
    expect(n).toBe(2);
    expect(errors).toHaveLength(4);
  });

  it('maps event codes to digits per RFC 4733 §3.2', () => {
    expect([...Array(17).keys()].map((c) => digitForEventCode(c) ?? '-').join('')).toBe('0123456789*#ABCD-');
  });
});

describe('Rfc4733Receiver on SIPp captures', () => {
  const expectedDigit: Record<string, string> = { star: '*', pound: '#' };
  it.each(SIPP_DTMF_NAMES.map((n) => [n]))('dtmf_2833_%s.pcap gives exactly one digit', (name) => {
    const digits: Rfc4733Digit[] = [];
    const ends: Rfc4733End[] = [];
    const rx = new Rfc4733Receiver({ payloadType: 101, onDigit: (d) => digits.push(d), onEnd: (e) => ends.push(e) });
    for (const d of readPcapUdp(sippDtmfPcap(name))) {
      const p = parseRtp(d.payload);
      if (isRtpParseError(p)) throw new Error(p.message);
      rx.push(p, d.time * 1000);
    }
    rx.tick(Number.MAX_SAFE_INTEGER);
    expect(digits).toHaveLength(1);
    expect(digits[0]).toMatchObject({ digit: expectedDigit[name] ?? name, reportedOn: 'first-packet' });
    expect(ends).toHaveLength(1);
    expect(ends[0]).toMatchObject({ digit: expectedDigit[name] ?? name, durationMs: 280, endedBy: 'end-bit', reported: true });
  });
});

describe('Rfc4733Receiver with senders whose timestamps jump back (SIPp pcap replay)', () => {
  const load = (name: (typeof SIPP_DTMF_NAMES)[number]) =>
    readPcapUdp(sippDtmfPcap(name)).map((d) => {
      const p = parseRtp(d.payload);
      if (isRtpParseError(p)) throw new Error(p.message);
      return { p, t: d.time * 1000 };
    });
  const play = (keys: readonly (typeof SIPP_DTMF_NAMES)[number][], gapMs: number) => {
    const digits: string[] = [];
    const rx = new Rfc4733Receiver({ payloadType: 101, onDigit: (d) => digits.push(d.digit) });
    let clock = 0;
    for (const k of keys) {
      const pkts = load(k);
      const t0 = pkts[0]!.t;
      for (const { p, t } of pkts) rx.push(p, clock + (t - t0));
      clock += pkts[pkts.length - 1]!.t - t0 + gapMs;
      rx.tick(clock);
    }
    return { digits, rx };
  };

  it('the same key replayed five times and a lower key after a higher one are each reported once', () => {
    const { digits } = play(['4', '1', '1', '1', '1', '1', 'pound', '0'] as const, 150);
    expect(digits.join('')).toBe('411111#0');
  });

  it('an old end packet arriving late never invents a digit, and a quick duplicate is still a duplicate', () => {
    const pkts = load('5');
    const digits: string[] = [];
    const rx = new Rfc4733Receiver({ payloadType: 101, onDigit: (d) => digits.push(d.digit) });
    const t0 = pkts[0]!.t;
    for (const { p, t } of pkts) rx.push(p, t - t0);
    const last = pkts[pkts.length - 1]!;
    rx.push(last.p, 2000); // an end packet (E bit) of the finished event, very late
    rx.push(pkts[3]!.p, last.t - t0 + 40); // a duplicate update 40 ms after the end
    rx.tick(5000);
    expect(digits).toEqual(['5']);
  });
});

describe('Rfc4733Receiver: a replayed start that never ends', () => {
  it('a late duplicate of an old start packet (no end packet follows) is dropped, not reported on timeout', () => {
    const pkts = readPcapUdp(sippDtmfPcap('7')).map((d) => {
      const p = parseRtp(d.payload);
      if (isRtpParseError(p)) throw new Error(p.message);
      return { p, t: d.time * 1000 };
    });
    const digits: string[] = [];
    const rx = new Rfc4733Receiver({ payloadType: 101, onDigit: (d) => digits.push(d.digit) });
    const t0 = pkts[0]!.t;
    for (const { p, t } of pkts) rx.push(p, t - t0);
    rx.push(pkts[0]!.p, 3000); // the first (M-bit) packet again, 3 s later, alone
    rx.tick(10_000);
    expect(digits).toEqual(['7']);
  });
});

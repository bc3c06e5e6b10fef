import { describe, expect, it } from 'vitest';
import {
  RTCP_RR,
  RTCP_SR,
  type RtcpReceiverReport,
  type RtcpSenderReport,
  isRtcpParseError,
  parseRtcp,
  serializeRtcpReport,
} from '../../../../src/media/rtp/index.js';

const block = { ssrc: 0x11111111, fractionLost: 64, cumulativeLost: -3, extendedHighestSeq: 0x1ffff, jitter: 42, lastSr: 0xabcd1234, delaySinceLastSr: 65536 };
const sr: RtcpSenderReport = {
  packetType: RTCP_SR,
  ssrc: 0x0e05384e,
  ntpSeconds: 0xe5a1b2c3,
  ntpFraction: 0x80000000,
  rtpTimestamp: 160000,
  packetCount: 1000,
  octetCount: 160000,
  reports: [block],
  extension: Buffer.alloc(0),
};
const rr: RtcpReceiverReport = { packetType: RTCP_RR, ssrc: 7, reports: [], extension: Buffer.alloc(0) };
// SDES with one CNAME item "ab" (RFC 3550 §6.5): header, SSRC, item 1 len 2 "ab", end, pad to 4.
const sdes = Buffer.from('81ca0003' + '00000007' + '01026162' + '00000000', 'hex');

describe('RTCP SR/RR (RFC 3550 §6.4)', () => {
  it('parses a compound SR + RR + SDES and round-trips the reports', () => {
    const bytes = Buffer.concat([serializeRtcpReport(sr), serializeRtcpReport(rr), sdes]);
    const r = parseRtcp(bytes);
    if (isRtcpParseError(r)) throw new Error(r.message);
    expect(r).toHaveLength(3);
    expect(r[0]).toEqual(sr);
    expect(r[1]).toEqual(rr);
    expect(r[2]).toMatchObject({ packetType: 202, count: 1 });
    expect(serializeRtcpReport(r[0] as RtcpSenderReport).equals(bytes.subarray(0, 52))).toBe(true);
    expect(bytes.subarray(0, 4).toString('hex')).toBe('81c8000c'); // V=2, RC=1, PT=200, length 12
  });

  it('reports every truncation of the compound packet, never throws', () => {
    const bytes = Buffer.concat([serializeRtcpReport(sr), serializeRtcpReport(rr)]);
    for (let n = 0; n < bytes.length; n++) {
      const r = parseRtcp(bytes.subarray(0, n));
      if (n === 52) {
        expect(isRtcpParseError(r)).toBe(false); // exactly the SR
      } else {
        expect(isRtcpParseError(r) && r.error, `cut at ${n}`).toBe('truncated');
      }
    }
  });

  it('rejects a bad version, an RC that does not fit the length, and bad padding', () => {
    const v1 = serializeRtcpReport(rr);
    v1[0] = 0x40;
    expect(isRtcpParseError(parseRtcp(v1)) && (parseRtcp(v1) as { error: string }).error).toBe('bad-version');
    const rc = serializeRtcpReport(rr);
    rc[0] = 0x81; // claims one report block, length says none
    expect((parseRtcp(rc) as { error: string }).error).toBe('bad-length');
    const pad = Buffer.from('a0c90001' + '00000000', 'hex'); // P set, count 0
    expect((parseRtcp(pad) as { error: string }).error).toBe('bad-padding');
    const pad2 = Buffer.from('a0c90001' + '00000009', 'hex'); // count 9 > 4 body octets
    expect((parseRtcp(pad2) as { error: string }).error).toBe('bad-padding');
  });

  it('reads the signed 24-bit cumulative loss', () => {
    const r = parseRtcp(serializeRtcpReport({ ...rr, reports: [{ ...block, cumulativeLost: -8388608 }] }));
    expect(isRtcpParseError(r)).toBe(false);
    expect((r as RtcpReceiverReport[])[0]!.reports[0]!.cumulativeLost).toBe(-8388608);
  });
});

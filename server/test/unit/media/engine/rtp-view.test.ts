import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { RtpView, writeRtpHeader } from '../../../../src/media/engine/rtp-view.js';
import { isRtpParseError, parseRtp } from '../../../../src/media/rtp/index.js';

const datagram = fc.uint8Array({ minLength: 0, maxLength: 90 }).map((a) => Buffer.from(a));
const rtpLike = fc.tuple(fc.integer({ min: 0, max: 0x3f }), datagram).map(([b0, rest]) => Buffer.concat([Buffer.from([0x80 | b0]), rest]));

describe('allocation-free RTP header view', () => {
  it('accepts exactly what parseRtp accepts and agrees on every field', () => {
    const v = new RtpView();
    fc.assert(
      fc.property(fc.oneof(datagram, rtpLike), (buf) => {
        const p = parseRtp(buf);
        const ok = v.read(buf);
        expect(ok).toBe(!isRtpParseError(p));
        if (isRtpParseError(p)) {
          expect(v.error).toBe(p.error);
          return;
        }
        expect([v.marker, v.payloadType, v.sequenceNumber, v.timestamp, v.ssrc]).toEqual([p.marker, p.payloadType, p.sequenceNumber, p.timestamp, p.ssrc]);
        expect(v.payloadOffset).toBe(p.payload.byteOffset - buf.byteOffset);
        expect(v.payloadLength).toBe(p.payload.length);
      }),
      { numRuns: 5000 },
    );
  });

  it('writes a header parseRtp reads back', () => {
    const b = Buffer.alloc(20);
    writeRtpHeader(b, true, 8, 0xfffe, 0xfedcba98, 0x89abcdef);
    const p = parseRtp(b);
    expect(isRtpParseError(p)).toBe(false);
    if (!isRtpParseError(p)) expect([p.marker, p.payloadType, p.sequenceNumber, p.timestamp, p.ssrc, p.payload.length]).toEqual([true, 8, 0xfffe, 0xfedcba98, 0x89abcdef, 8]);
  });
});

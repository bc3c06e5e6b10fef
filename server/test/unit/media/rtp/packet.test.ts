import { describe, expect, it } from 'vitest';
import {
  type RtpPacket,
  isRtpParseError,
  looksLikeRtcp,
  parseRtp,
  rtpPadding,
  serializeRtp,
  writeRtp,
} from '../../../../src/media/rtp/index.js';
import { SIPP_DTMF_NAMES, SIPP_G711A_PCAP, readPcapUdp, sippDtmfPcap } from '../../../support/dsp/pcap.js';

const captured = (): Array<{ file: string; bytes: Buffer }> => {
  const files = [...SIPP_DTMF_NAMES.map(sippDtmfPcap), SIPP_G711A_PCAP];
  return files.flatMap((file) => readPcapUdp(file).map((d) => ({ file, bytes: d.payload })));
};

const ok = (buf: Buffer): RtpPacket => {
  const p = parseRtp(buf);
  if (isRtpParseError(p)) throw new Error(`${p.error}: ${p.message}`);
  return p;
};

/** A packet with every optional part: 2 CSRCs, a 2-word extension, 5 payload octets, 3 of padding. */
const rich = (): Buffer =>
  serializeRtp({
    marker: true,
    payloadType: 96,
    sequenceNumber: 65535,
    timestamp: 0xfffffff0,
    ssrc: 0xdeadbeef,
    csrcs: [1, 0xffffffff],
    extension: { profile: 0xbede, data: Buffer.from('0102030405060708', 'hex') },
    payload: Buffer.from('aabbccddee', 'hex'),
    padding: rtpPadding(3),
  });

describe('RTP parse/serialise against captured bytes (SIPp pcaps)', () => {
  const packets = captured();

  it('reads every UDP datagram of the 12 RFC 2833 captures and g711a.pcap', () => {
    expect(packets.length).toBe(12 * 10 + 236);
  });

  it('parse -> serialise reproduces every captured packet byte for byte', () => {
    for (const { file, bytes } of packets) {
      const p = ok(bytes);
      expect(serializeRtp(p).equals(bytes), file).toBe(true);
    }
  });

  it('the payload is a view on the input, not a copy', () => {
    const { bytes } = packets[0]!;
    const p = ok(bytes);
    expect(p.payload.buffer).toBe(bytes.buffer);
    expect(p.payload.byteOffset).toBe(bytes.byteOffset + 12);
  });

  it('decodes the fields of the first packet of dtmf_2833_1.pcap', () => {
    const p = ok(readPcapUdp(sippDtmfPcap('1'))[0]!.payload);
    expect(p).toMatchObject({ marker: true, payloadType: 101, sequenceNumber: 7984, timestamp: 13280, ssrc: 0x0e05384e });
    expect(p.payload.toString('hex')).toBe('010a0000');
  });

  it('every truncation of every captured packet is reported, never thrown', () => {
    for (const { bytes } of packets.slice(0, 40)) {
      for (let n = 0; n < bytes.length; n++) {
        const r = parseRtp(bytes.subarray(0, n));
        if (n < 12) expect(isRtpParseError(r) && r.error).toBe('truncated-header');
        else expect(isRtpParseError(r)).toBe(false); // no CSRC/extension/padding: any cut >= 12 is a shorter payload
      }
    }
  });
});

describe('RTP optional parts (RFC 3550 §5.1, §5.3.1)', () => {
  it('round-trips CSRCs, extension and padding', () => {
    const bytes = rich();
    const p = ok(bytes);
    expect(p.csrcs).toEqual([1, 0xffffffff]);
    expect(p.extension?.profile).toBe(0xbede);
    expect(p.extension?.data.toString('hex')).toBe('0102030405060708');
    expect(p.payload.toString('hex')).toBe('aabbccddee');
    expect(p.padding?.length).toBe(3);
    expect(serializeRtp(p).equals(bytes)).toBe(true);
    const out = Buffer.alloc(bytes.length + 4);
    expect(writeRtp(p, out, 4)).toBe(bytes.length);
    expect(out.subarray(4).equals(bytes)).toBe(true);
  });

  it('keeps non-zero padding filler octets byte-exact', () => {
    const bytes = Buffer.concat([rich().subarray(0, 12 + 8 + 12 + 5), Buffer.from([9, 9, 3])]);
    expect(serializeRtp(ok(bytes)).equals(bytes)).toBe(true);
  });

  it('reports each cut of a rich packet with the precise error', () => {
    const bytes = rich(); // header 12 | CSRC 8 (to 20) | ext hdr 4 (to 24) | ext 8 (to 32) | payload 5 | pad 3
    const expected = (n: number): string | undefined => {
      if (n < 12) return 'truncated-header';
      if (n < 20) return 'truncated-csrc';
      if (n < 32) return 'truncated-extension';
      return 'bad-padding'; // the last octet is no longer the padding count 3 (or exceeds what is left)
    };
    for (let n = 0; n < bytes.length; n++) {
      const r = parseRtp(bytes.subarray(0, n));
      const want = expected(n);
      const cutPayload = bytes.subarray(0, n);
      const last = cutPayload[n - 1];
      if (want === 'bad-padding' && last !== undefined && last >= 1 && last <= n - 32) {
        expect(isRtpParseError(r)).toBe(false); // a payload octet happens to read as a valid count
      } else {
        expect(isRtpParseError(r) && r.error, `cut at ${n}`).toBe(want);
      }
    }
  });

  const invalid: Array<[string, Buffer, string]> = [
    ['version 0', Buffer.from('00000001000000000000000000', 'hex'), 'bad-version'],
    ['version 1', Buffer.from('40000001000000000000000000', 'hex'), 'bad-version'],
    ['version 3', Buffer.from('c0000001000000000000000000', 'hex'), 'bad-version'],
    ['CC=15 with one CSRC present', Buffer.from('8f00000100000000000000000000000a', 'hex'), 'truncated-csrc'],
    ['extension length 2 words with 1 present', Buffer.from('9000000100000000000000000000000200000001', 'hex'), 'truncated-extension'],
    ['extension header cut', Buffer.from('900000010000000000000000bede', 'hex'), 'truncated-extension'],
    ['padding count 0', Buffer.from('a000000100000000000000000000', 'hex'), 'bad-padding'],
    ['padding count larger than the payload', Buffer.from('a00000010000000000000000aa05', 'hex'), 'bad-padding'],
    ['P set on a bare header (the count would be a header octet)', Buffer.from('a00000010000000000000000', 'hex'), 'bad-padding'],
  ];
  it.each(invalid)('rejects %s', (_name, bytes, error) => {
    const r = parseRtp(bytes);
    expect(isRtpParseError(r) && r.error).toBe(error);
    expect(isRtpParseError(r) && r.message.length).toBeGreaterThan(5);
  });

  it('accepts padding that exactly fills what follows the header', () => {
    const p = ok(Buffer.from('a0000001000000000000000000000003', 'hex'));
    expect(p.payload.length).toBe(1);
    expect(p.padding?.length).toBe(3);
  });

  it('refuses to serialise impossible packets', () => {
    const base = ok(rich());
    expect(() => serializeRtp({ ...base, csrcs: new Array<number>(16).fill(1) })).toThrow(RangeError);
    expect(() => serializeRtp({ ...base, payloadType: 128 })).toThrow(RangeError);
    expect(() => serializeRtp({ ...base, extension: { profile: 1, data: Buffer.alloc(3) } })).toThrow(RangeError);
    expect(() => serializeRtp({ ...base, padding: Buffer.from([0, 2, 0]) })).toThrow(RangeError);
    expect(() => writeRtp(base, Buffer.alloc(10))).toThrow(RangeError);
  });

  it('tells RTCP from RTP on a muxed port (RFC 5761 §4)', () => {
    expect(looksLikeRtcp(Buffer.from('80c80006', 'hex'))).toBe(true);
    expect(looksLikeRtcp(Buffer.from('80c90001', 'hex'))).toBe(true);
    expect(looksLikeRtcp(rich())).toBe(false);
    expect(looksLikeRtcp(Buffer.from('80', 'hex'))).toBe(false);
  });

  it('survives random bytes without throwing', () => {
    let seed = 12345;
    const rnd = (): number => (seed = (seed * 1103515245 + 12345) >>> 0) >>> 24;
    for (let i = 0; i < 5000; i++) {
      const b = Buffer.alloc(rnd() % 64);
      for (let j = 0; j < b.length; j++) b[j] = rnd();
      if (b.length) b[0] = (b[0]! & 0x3f) | 0x80;
      const r = parseRtp(b);
      if (!isRtpParseError(r)) expect(serializeRtp(r).equals(b)).toBe(true);
    }
  });
});

/**
 * RTP fixed header, CSRC list, header extension and padding (RFC 3550 §5.1, §5.3.1).
 *
 *  0                   1                   2                   3
 *  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |V=2|P|X|  CC   |M|     PT      |       sequence number         |
 * |                           timestamp                           |
 * |           synchronization source (SSRC) identifier            |
 * |            contributing source (CSRC) identifiers (CC x 32)   |
 * | [profile-defined 16 | length in 32-bit words 16] [ext data]   |  if X
 * | payload ...                   | [padding ... | pad count]     |  if P
 *
 * Parsing never copies: `payload`, `extension.data` and `padding` are subarrays of the input.
 * Bad input returns `{ error, message }` (docs/architecture.md practice 2: parse at the edge, never throw).
 */

export const RTP_VERSION = 2;
export const RTP_HEADER_SIZE = 12;

/** RFC 3550 §5.3.1 header extension. `data` length is a multiple of 4. */
export interface RtpExtension {
  profile: number;
  data: Buffer;
}

export interface RtpPacket {
  marker: boolean;
  payloadType: number;
  sequenceNumber: number;
  timestamp: number;
  ssrc: number;
  /** Contributing sources; a shared empty array when CC = 0. */
  csrcs: readonly number[];
  extension?: RtpExtension;
  payload: Buffer;
  /** Padding octets including the final count octet (RFC 3550 §5.1 P bit); absent when P = 0. */
  padding?: Buffer;
}

export type RtpParseErrorCode =
  | 'truncated-header' // fewer than 12 octets
  | 'bad-version' // V != 2
  | 'truncated-csrc' // CC x 4 octets run past the end
  | 'truncated-extension' // the 4-octet extension header or its data run past the end
  | 'bad-padding'; // P set but the count is 0 or larger than what follows the header

export interface RtpParseError {
  error: RtpParseErrorCode;
  message: string;
}

const NO_CSRCS: readonly number[] = Object.freeze([]);

export function isRtpParseError(r: RtpPacket | RtpParseError): r is RtpParseError {
  return (r as RtpParseError).error !== undefined;
}

/** Parse one RTP packet (RFC 3550 §5.1). */
export function parseRtp(buf: Buffer): RtpPacket | RtpParseError {
  const len = buf.length;
  if (len < RTP_HEADER_SIZE) {
    return { error: 'truncated-header', message: `RTP needs 12 header octets, got ${len}` };
  }
  const b0 = buf[0]!;
  const version = b0 >> 6;
  if (version !== RTP_VERSION) return { error: 'bad-version', message: `RTP version ${version}, expected 2` };
  const hasPadding = (b0 & 0x20) !== 0;
  const hasExtension = (b0 & 0x10) !== 0;
  const cc = b0 & 0x0f;
  const b1 = buf[1]!;
  let offset = RTP_HEADER_SIZE + cc * 4;
  if (offset > len) {
    return { error: 'truncated-csrc', message: `CC=${cc} needs ${offset} octets, packet has ${len}` };
  }
  let csrcs = NO_CSRCS;
  if (cc > 0) {
    const list: number[] = new Array<number>(cc);
    for (let i = 0; i < cc; i++) list[i] = buf.readUInt32BE(RTP_HEADER_SIZE + i * 4);
    csrcs = list;
  }
  let extension: RtpExtension | undefined;
  if (hasExtension) {
    if (offset + 4 > len) {
      return { error: 'truncated-extension', message: `extension header at ${offset} runs past ${len}` };
    }
    const profile = buf.readUInt16BE(offset);
    const words = buf.readUInt16BE(offset + 2);
    const end = offset + 4 + words * 4;
    if (end > len) {
      return { error: 'truncated-extension', message: `extension of ${words} words ends at ${end}, packet has ${len}` };
    }
    extension = { profile, data: buf.subarray(offset + 4, end) };
    offset = end;
  }
  let payloadEnd = len;
  let padding: Buffer | undefined;
  if (hasPadding) {
    const count = buf[len - 1]!;
    if (count === 0 || count > len - offset) {
      return { error: 'bad-padding', message: `padding count ${count} with ${len - offset} octets after the header` };
    }
    payloadEnd = len - count;
    padding = buf.subarray(payloadEnd, len);
  }
  const packet: RtpPacket = {
    marker: (b1 & 0x80) !== 0,
    payloadType: b1 & 0x7f,
    sequenceNumber: buf.readUInt16BE(2),
    timestamp: buf.readUInt32BE(4),
    ssrc: buf.readUInt32BE(8),
    csrcs,
    payload: buf.subarray(offset, payloadEnd),
  };
  if (extension) packet.extension = extension;
  if (padding) packet.padding = padding;
  return packet;
}

/** Octets `writeRtp` needs for `p`. */
export function rtpSize(p: RtpPacket): number {
  return (
    RTP_HEADER_SIZE +
    p.csrcs.length * 4 +
    (p.extension ? 4 + p.extension.data.length : 0) +
    p.payload.length +
    (p.padding ? p.padding.length : 0)
  );
}

function validate(p: RtpPacket): void {
  if (p.csrcs.length > 15) throw new RangeError(`RTP: ${p.csrcs.length} CSRCs, at most 15`);
  if (p.payloadType < 0 || p.payloadType > 127) throw new RangeError(`RTP: payload type ${p.payloadType}`);
  if (p.extension && p.extension.data.length % 4 !== 0) {
    throw new RangeError(`RTP: extension data of ${p.extension.data.length} octets is not a multiple of 4`);
  }
  if (p.extension && p.extension.data.length > 0xffff * 4) throw new RangeError('RTP: extension too long');
  if (p.padding && (p.padding.length === 0 || p.padding.length > 255 || p.padding[p.padding.length - 1] !== p.padding.length)) {
    throw new RangeError('RTP: padding must end with its own length (1..255)');
  }
}

/** Write `p` into `out` at `offset` (no allocation). Returns the octets written. */
export function writeRtp(p: RtpPacket, out: Buffer, offset = 0): number {
  validate(p);
  const size = rtpSize(p);
  if (out.length - offset < size) throw new RangeError(`RTP: need ${size} octets, ${out.length - offset} available`);
  out[offset] = (RTP_VERSION << 6) | (p.padding ? 0x20 : 0) | (p.extension ? 0x10 : 0) | p.csrcs.length;
  out[offset + 1] = (p.marker ? 0x80 : 0) | p.payloadType;
  out.writeUInt16BE(p.sequenceNumber & 0xffff, offset + 2);
  out.writeUInt32BE(p.timestamp >>> 0, offset + 4);
  out.writeUInt32BE(p.ssrc >>> 0, offset + 8);
  let o = offset + RTP_HEADER_SIZE;
  for (const c of p.csrcs) {
    out.writeUInt32BE(c >>> 0, o);
    o += 4;
  }
  if (p.extension) {
    out.writeUInt16BE(p.extension.profile & 0xffff, o);
    out.writeUInt16BE(p.extension.data.length / 4, o + 2);
    o += 4 + p.extension.data.copy(out, o + 4);
  }
  o += p.payload.copy(out, o);
  if (p.padding) o += p.padding.copy(out, o);
  return o - offset;
}

/** Serialise `p` into a new Buffer of exactly `rtpSize(p)` octets. */
export function serializeRtp(p: RtpPacket): Buffer {
  const out = Buffer.allocUnsafe(rtpSize(p));
  writeRtp(p, out, 0);
  return out;
}

/** RFC 3550 §5.1 padding block of `count` octets (zeros, then the count). */
export function rtpPadding(count: number): Buffer {
  if (count < 1 || count > 255) throw new RangeError(`RTP padding count ${count}`);
  const b = Buffer.alloc(count);
  b[count - 1] = count;
  return b;
}

/**
 * RTP/RTCP demultiplexing on one port (RFC 5761 §4): the second octet of RTCP is a packet
 * type 192..223 (SR 200, RR 201, ...); RTP payload types 64..95 with M set would collide and
 * must not be used on a muxed port.
 */
export function looksLikeRtcp(buf: Buffer): boolean {
  return buf.length >= 2 && buf[0]! >> 6 === 2 && buf[1]! >= 192 && buf[1]! <= 223;
}

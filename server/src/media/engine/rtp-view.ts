/**
 * Allocation-free read of an RTP header (RFC 3550 §5.1) for the audio hot path: the fields land
 * in one reusable object instead of a new packet object and payload subarray per datagram
 * (parseRtp in ../rtp/packet.ts does that, and stays the reference: a property test checks
 * that both accept exactly the same datagrams and agree on every field).
 *
 * Validity as parseRtp: at least 12 octets, V = 2, the CSRC list (CC x 4) and the header
 * extension (§5.3.1, 4 + length x 4 octets) inside the datagram, and with P set a padding count
 * of 1..(octets after the header) (§5.1: "the last octet of the padding contains a count").
 */
import type { RtpParseErrorCode } from '../rtp/packet.js';

export class RtpView {
  marker = false;
  payloadType = 0;
  sequenceNumber = 0;
  timestamp = 0;
  ssrc = 0;
  payloadOffset = 0;
  payloadLength = 0;
  /** Why the last read() failed, or null. */
  error: RtpParseErrorCode | null = null;

  /** Read `buf`; false (and `error` set) when it is not a valid RTP packet. */
  read(buf: Buffer): boolean {
    const len = buf.length;
    if (len < 12) return this.fail('truncated-header');
    const b0 = buf[0]!;
    if (b0 >> 6 !== 2) return this.fail('bad-version');
    let offset = 12 + (b0 & 0x0f) * 4;
    if (offset > len) return this.fail('truncated-csrc');
    if (b0 & 0x10) {
      if (offset + 4 > len) return this.fail('truncated-extension');
      offset += 4 + ((buf[offset + 2]! << 8) | buf[offset + 3]!) * 4;
      if (offset > len) return this.fail('truncated-extension');
    }
    let end = len;
    if (b0 & 0x20) {
      const count = buf[len - 1]!;
      if (count === 0 || count > len - offset) return this.fail('bad-padding');
      end = len - count;
    }
    const b1 = buf[1]!;
    this.marker = (b1 & 0x80) !== 0;
    this.payloadType = b1 & 0x7f;
    this.sequenceNumber = (buf[2]! << 8) | buf[3]!;
    this.timestamp = ((buf[4]! << 24) | (buf[5]! << 16) | (buf[6]! << 8) | buf[7]!) >>> 0;
    this.ssrc = ((buf[8]! << 24) | (buf[9]! << 16) | (buf[10]! << 8) | buf[11]!) >>> 0;
    this.payloadOffset = offset;
    this.payloadLength = end - offset;
    this.error = null;
    return true;
  }

  private fail(code: RtpParseErrorCode): false {
    this.error = code;
    return false;
  }
}

/** Write a 12-octet RTP fixed header (V=2, no P/X/CC) at the start of `out` (RFC 3550 §5.1). */
export function writeRtpHeader(out: Uint8Array, marker: boolean, payloadType: number, seq: number, timestamp: number, ssrc: number): void {
  out[0] = 0x80;
  out[1] = (marker ? 0x80 : 0) | (payloadType & 0x7f);
  out[2] = (seq >>> 8) & 0xff;
  out[3] = seq & 0xff;
  out[4] = timestamp >>> 24;
  out[5] = (timestamp >>> 16) & 0xff;
  out[6] = (timestamp >>> 8) & 0xff;
  out[7] = timestamp & 0xff;
  out[8] = ssrc >>> 24;
  out[9] = (ssrc >>> 16) & 0xff;
  out[10] = (ssrc >>> 8) & 0xff;
  out[11] = ssrc & 0xff;
}

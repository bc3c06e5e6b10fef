/**
 * Minimal RTCP: compound-packet walk, Sender Report and Receiver Report (RFC 3550 §6.4.1,
 * §6.4.2, §6.1 for the common header). Other packet types (SDES, BYE, APP, RTPFB, ...) are
 * returned as opaque `{ packetType, count, body }`. Parsing never copies.
 *
 *  V=2|P| RC/SC |   PT    |  length (32-bit words - 1)
 *  SR: SSRC, NTP ts (64), RTP ts, packet count, octet count, RC x report block (24 octets)
 *  RR: SSRC, RC x report block
 *  report block: SSRC, fraction lost (8) | cumulative lost (24, signed), ext. highest seq,
 *                jitter, LSR, DLSR
 */

export const RTCP_SR = 200;
export const RTCP_RR = 201;

export interface RtcpReportBlock {
  ssrc: number;
  fractionLost: number;
  /** Signed 24-bit (RFC 3550 §6.4.1: may be negative with duplicates). */
  cumulativeLost: number;
  extendedHighestSeq: number;
  jitter: number;
  lastSr: number;
  delaySinceLastSr: number;
}

export interface RtcpSenderReport {
  packetType: typeof RTCP_SR;
  ssrc: number;
  ntpSeconds: number;
  ntpFraction: number;
  rtpTimestamp: number;
  packetCount: number;
  octetCount: number;
  reports: RtcpReportBlock[];
  /** Profile-specific extension after the report blocks (usually empty). */
  extension: Buffer;
}

export interface RtcpReceiverReport {
  packetType: typeof RTCP_RR;
  ssrc: number;
  reports: RtcpReportBlock[];
  extension: Buffer;
}

export interface RtcpOther {
  packetType: number;
  count: number;
  body: Buffer;
}

export type RtcpPacket = RtcpSenderReport | RtcpReceiverReport | RtcpOther;

export type RtcpParseErrorCode = 'truncated' | 'bad-version' | 'bad-length' | 'bad-padding';

export interface RtcpParseError {
  error: RtcpParseErrorCode;
  message: string;
}

function readBlocks(buf: Buffer, offset: number, count: number): RtcpReportBlock[] {
  const blocks: RtcpReportBlock[] = [];
  for (let i = 0; i < count; i++) {
    const o = offset + i * 24;
    blocks.push({
      ssrc: buf.readUInt32BE(o),
      fractionLost: buf[o + 4]!,
      cumulativeLost: buf.readIntBE(o + 5, 3),
      extendedHighestSeq: buf.readUInt32BE(o + 8),
      jitter: buf.readUInt32BE(o + 12),
      lastSr: buf.readUInt32BE(o + 16),
      delaySinceLastSr: buf.readUInt32BE(o + 20),
    });
  }
  return blocks;
}

/** Parse a compound RTCP packet (RFC 3550 §6.1). Any bad sub-packet fails the whole datagram. */
export function parseRtcp(buf: Buffer): RtcpPacket[] | RtcpParseError {
  const packets: RtcpPacket[] = [];
  let offset = 0;
  if (buf.length < 4) return { error: 'truncated', message: `RTCP needs 4 header octets, got ${buf.length}` };
  while (offset < buf.length) {
    if (buf.length - offset < 4) return { error: 'truncated', message: `${buf.length - offset} stray octets at ${offset}` };
    const b0 = buf[offset]!;
    if (b0 >> 6 !== 2) return { error: 'bad-version', message: `RTCP version ${b0 >> 6} at ${offset}` };
    const count = b0 & 0x1f;
    const packetType = buf[offset + 1]!;
    const size = (buf.readUInt16BE(offset + 2) + 1) * 4;
    if (offset + size > buf.length) {
      return { error: 'truncated', message: `packet type ${packetType} of ${size} octets at ${offset} runs past ${buf.length}` };
    }
    let end = offset + size;
    if (b0 & 0x20) {
      const pad = buf[end - 1]!;
      if (pad === 0 || pad > size - 4) return { error: 'bad-padding', message: `padding ${pad} in ${size} octets` };
      end -= pad;
    }
    const body = buf.subarray(offset + 4, end);
    if (packetType === RTCP_SR || packetType === RTCP_RR) {
      const fixed = packetType === RTCP_SR ? 24 : 4;
      if (body.length < fixed + count * 24) {
        return { error: 'bad-length', message: `${packetType === RTCP_SR ? 'SR' : 'RR'} with RC=${count} needs ${fixed + count * 24 + 4} octets, has ${body.length + 4}` };
      }
      const reports = readBlocks(body, fixed, count);
      const extension = body.subarray(fixed + count * 24);
      if (packetType === RTCP_SR) {
        packets.push({
          packetType: RTCP_SR,
          ssrc: body.readUInt32BE(0),
          ntpSeconds: body.readUInt32BE(4),
          ntpFraction: body.readUInt32BE(8),
          rtpTimestamp: body.readUInt32BE(12),
          packetCount: body.readUInt32BE(16),
          octetCount: body.readUInt32BE(20),
          reports,
          extension,
        });
      } else {
        packets.push({ packetType: RTCP_RR, ssrc: body.readUInt32BE(0), reports, extension });
      }
    } else {
      packets.push({ packetType, count, body });
    }
    offset += size;
  }
  return packets;
}

export function isRtcpParseError(r: RtcpPacket[] | RtcpParseError): r is RtcpParseError {
  return !Array.isArray(r);
}

/** Serialise one SR or RR (no padding). */
export function serializeRtcpReport(p: RtcpSenderReport | RtcpReceiverReport): Buffer {
  if (p.reports.length > 31) throw new RangeError('RTCP: at most 31 report blocks');
  if (p.extension.length % 4 !== 0) throw new RangeError('RTCP: extension must be a multiple of 4 octets');
  const fixed = p.packetType === RTCP_SR ? 24 : 4;
  const size = 4 + fixed + p.reports.length * 24 + p.extension.length;
  const out = Buffer.alloc(size);
  out[0] = 0x80 | p.reports.length;
  out[1] = p.packetType;
  out.writeUInt16BE(size / 4 - 1, 2);
  out.writeUInt32BE(p.ssrc >>> 0, 4);
  if (p.packetType === RTCP_SR) {
    out.writeUInt32BE(p.ntpSeconds >>> 0, 8);
    out.writeUInt32BE(p.ntpFraction >>> 0, 12);
    out.writeUInt32BE(p.rtpTimestamp >>> 0, 16);
    out.writeUInt32BE(p.packetCount >>> 0, 20);
    out.writeUInt32BE(p.octetCount >>> 0, 24);
  }
  let o = 4 + fixed;
  for (const r of p.reports) {
    out.writeUInt32BE(r.ssrc >>> 0, o);
    out[o + 4] = r.fractionLost & 0xff;
    out.writeIntBE(Math.max(-0x800000, Math.min(0x7fffff, r.cumulativeLost)), o + 5, 3);
    out.writeUInt32BE(r.extendedHighestSeq >>> 0, o + 8);
    out.writeUInt32BE(r.jitter >>> 0, o + 12);
    out.writeUInt32BE(r.lastSr >>> 0, o + 16);
    out.writeUInt32BE(r.delaySinceLastSr >>> 0, o + 20);
    o += 24;
  }
  p.extension.copy(out, o);
  return out;
}

/**
 * Tiny libpcap file reader for tests: global header, record headers, then Ethernet (with one
 * optional 802.1Q tag) / Linux cooked (SLL) / raw IPv4 -> IPv4 -> UDP. Enough to pull the RTP
 * packets out of SIPp's captures. Fragmented or non-UDP packets are skipped.
 *
 * Format: https://wiki.wireshark.org/Development/LibpcapFileFormat
 *   global header 24 octets: magic a1b2c3d4 (µs) / a1b23c4d (ns), either byte order,
 *   version 2.4, thiszone, sigfigs, snaplen, network (1 = Ethernet, 113 = SLL, 101 = raw IP)
 *   record header 16 octets: ts_sec, ts_frac, incl_len, orig_len
 */
import { readFileSync } from 'node:fs';

export interface UdpDatagram {
  /** Capture time in seconds (float). */
  time: number;
  srcIp: string;
  dstIp: string;
  srcPort: number;
  dstPort: number;
  /** UDP payload (a subarray of the file buffer). */
  payload: Buffer;
}

const LINKTYPE_ETHERNET = 1;
const LINKTYPE_RAW = 101;
const LINKTYPE_LINUX_SLL = 113;

const ip4 = (b: Buffer, o: number): string => `${b[o]}.${b[o + 1]}.${b[o + 2]}.${b[o + 3]}`;

export function readPcapUdp(path: string): UdpDatagram[] {
  return parsePcapUdp(readFileSync(path));
}

export function parsePcapUdp(file: Buffer): UdpDatagram[] {
  if (file.length < 24) throw new Error('pcap: file shorter than the global header');
  const magicLe = file.readUInt32LE(0);
  let le: boolean;
  let nanos: boolean;
  if (magicLe === 0xa1b2c3d4 || magicLe === 0xa1b23c4d) {
    le = true;
    nanos = magicLe === 0xa1b23c4d;
  } else {
    const magicBe = file.readUInt32BE(0);
    if (magicBe !== 0xa1b2c3d4 && magicBe !== 0xa1b23c4d) throw new Error(`pcap: bad magic ${magicLe.toString(16)}`);
    le = false;
    nanos = magicBe === 0xa1b23c4d;
  }
  const u32 = (o: number): number => (le ? file.readUInt32LE(o) : file.readUInt32BE(o));
  const linkType = u32(20) & 0x0fffffff;
  const out: UdpDatagram[] = [];
  let offset = 24;
  while (offset + 16 <= file.length) {
    const time = u32(offset) + u32(offset + 4) / (nanos ? 1e9 : 1e6);
    const inclLen = u32(offset + 8);
    const start = offset + 16;
    const end = start + inclLen;
    if (end > file.length) throw new Error(`pcap: record at ${offset} runs past the end`);
    offset = end;
    const frame = file.subarray(start, end);
    let ipStart: number;
    if (linkType === LINKTYPE_ETHERNET) {
      if (frame.length < 14) continue;
      let etherType = frame.readUInt16BE(12);
      ipStart = 14;
      if (etherType === 0x8100 && frame.length >= 18) {
        etherType = frame.readUInt16BE(16);
        ipStart = 18;
      }
      if (etherType !== 0x0800) continue;
    } else if (linkType === LINKTYPE_LINUX_SLL) {
      if (frame.length < 16 || frame.readUInt16BE(14) !== 0x0800) continue;
      ipStart = 16;
    } else if (linkType === LINKTYPE_RAW) {
      ipStart = 0;
    } else {
      throw new Error(`pcap: unsupported link type ${linkType}`);
    }
    const d = parseIpv4Udp(frame, ipStart, time);
    if (d) out.push(d);
  }
  return out;
}

function parseIpv4Udp(frame: Buffer, ip: number, time: number): UdpDatagram | undefined {
  if (frame.length < ip + 20 || frame[ip]! >> 4 !== 4) return undefined;
  const ihl = (frame[ip]! & 0x0f) * 4;
  const totalLength = frame.readUInt16BE(ip + 2);
  const flagsFrag = frame.readUInt16BE(ip + 6);
  if ((flagsFrag & 0x1fff) !== 0 || (flagsFrag & 0x2000) !== 0) return undefined; // fragment
  if (frame[ip + 9] !== 17) return undefined; // not UDP
  const udp = ip + ihl;
  const ipEnd = Math.min(frame.length, ip + totalLength);
  if (udp + 8 > ipEnd) return undefined;
  const udpLength = frame.readUInt16BE(udp + 4);
  if (udpLength < 8 || udp + udpLength > ipEnd) return undefined;
  return {
    time,
    srcIp: ip4(frame, ip + 12),
    dstIp: ip4(frame, ip + 16),
    srcPort: frame.readUInt16BE(udp),
    dstPort: frame.readUInt16BE(udp + 2),
    payload: frame.subarray(udp + 8, udp + udpLength),
  };
}

/** SIPp's RFC 2833 and G.711 captures (Debian package sip-tester). */
export const SIPP_PCAP_DIR = '/usr/share/sip-tester';
export const SIPP_DTMF_NAMES = ['0', '1', '2', '3', '4', '5', '6', '7', '8', '9', 'star', 'pound'] as const;
export const sippDtmfPcap = (name: (typeof SIPP_DTMF_NAMES)[number]): string => `${SIPP_PCAP_DIR}/dtmf_2833_${name}.pcap`;
export const SIPP_G711A_PCAP = `${SIPP_PCAP_DIR}/g711a.pcap`;

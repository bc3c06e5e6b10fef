/**
 * A real packet capture with tcpdump on the loopback interface, read back as UDP datagrams.
 * pcap file format: 24-octet global header, then per packet a 16-octet record header and the frame;
 * loopback frames on Linux are DLT_EN10MB (Ethernet, 14 octets) carrying IPv4 (RFC 791) and UDP (RFC 768).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';

export interface UdpDatagram {
  src: string;
  srcPort: number;
  dst: string;
  dstPort: number;
  payload: Buffer;
}

export interface Capture {
  /** Stop tcpdump and read what it captured. */
  stop(): Promise<UdpDatagram[]>;
}

const ip4 = (b: Buffer, at: number): string => `${b[at]}.${b[at + 1]}.${b[at + 2]}.${b[at + 3]}`;

export function parsePcapUdp(file: Buffer): UdpDatagram[] {
  if (file.length < 24) return [];
  const magic = file.readUInt32LE(0);
  const le = magic === 0xa1b2c3d4 || magic === 0xa1b23c4d;
  if (!le && file.readUInt32BE(0) !== 0xa1b2c3d4 && file.readUInt32BE(0) !== 0xa1b23c4d) throw new Error('not a pcap file');
  const u32 = (at: number): number => (le ? file.readUInt32LE(at) : file.readUInt32BE(at));
  const linkType = u32(20);
  const linkHeader = linkType === 1 ? 14 : linkType === 113 ? 16 : linkType === 0 ? 4 : -1;
  if (linkHeader < 0) throw new Error(`unsupported link type ${linkType}`);
  const out: UdpDatagram[] = [];
  let at = 24;
  while (at + 16 <= file.length) {
    const incl = u32(at + 8);
    const frame = file.subarray(at + 16, at + 16 + incl);
    at += 16 + incl;
    const ip = linkHeader;
    if (frame.length < ip + 20 || frame[ip]! >> 4 !== 4 || frame[ip + 9] !== 17) continue; // IPv4, UDP
    const ihl = (frame[ip]! & 0x0f) * 4;
    const udp = ip + ihl;
    if (frame.length < udp + 8) continue;
    const len = frame.readUInt16BE(udp + 4);
    out.push({
      src: ip4(frame, ip + 12), dst: ip4(frame, ip + 16),
      srcPort: frame.readUInt16BE(udp), dstPort: frame.readUInt16BE(udp + 2),
      payload: Buffer.from(frame.subarray(udp + 8, Math.min(frame.length, udp + len))),
    });
  }
  return out;
}

/** Start tcpdump on `iface` writing `file`; resolves once it is listening. */
export async function startCapture(file: string, iface = 'lo', filter = 'udp'): Promise<Capture> {
  // --immediate-mode: each packet is handed over as it arrives; without it libpcap holds packets
  // in a block for up to its buffer timeout, and a capture stopped sooner than that can miss them.
  const proc: ChildProcess = spawn('tcpdump', ['-i', iface, '--immediate-mode', '-U', '-n', '-s', '0', '-w', file, filter], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  await new Promise<void>((resolve, reject) => {
    const t = setTimeout(() => reject(new Error(`tcpdump did not start (it needs root or CAP_NET_RAW): ${stderr}`)), 5000);
    proc.stderr!.on('data', (d: Buffer) => {
      stderr += d.toString();
      if (/listening on/.test(stderr)) {
        clearTimeout(t);
        setTimeout(resolve, 1000); // the capture starts a moment after tcpdump says it listens
      }
    });
    proc.once('exit', (code) => {
      clearTimeout(t);
      reject(new Error(`tcpdump exited ${code} (it needs root or CAP_NET_RAW; scripts/ensure-system-deps.sh installs it): ${stderr}`));
    });
  });
  return {
    async stop() {
      await new Promise((r) => setTimeout(r, 300)); // let the last packets reach the capture buffer
      const exited = new Promise<void>((r) => proc.once('exit', () => r()));
      proc.kill('SIGINT');
      await exited;
      return parsePcapUdp(readFileSync(file));
    },
  };
}

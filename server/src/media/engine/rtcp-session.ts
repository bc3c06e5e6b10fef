/**
 * Minimal RTCP for one leg (RFC 3550 §6): parse what the peer sends (never throwing on garbage,
 * counting instead) and build our compound report: an SR when we sent RTP since the last
 * report, else an RR (§6.4.1, §6.4.2), with one report block about the stream we receive, then
 * SDES CNAME (§6.1: every compound packet carries one; §6.5.1).
 *
 * Receive statistics: interarrival jitter (§6.4.1, A.8: J += (|D| - J) / 16 in timestamp
 * units), fraction lost per interval and cumulative loss (A.3) from the playout buffer's
 * SequenceTracker, LSR/DLSR from the peer's last SR (§6.4.1: middle 32 bits of its NTP time,
 * and the delay since, in 1/65536 s). Reports go out every `intervalMs` x U(0.5, 1.5) (the
 * randomisation of §6.3.1; the fixed 5 s minimum of §6.2 is the default interval).
 */
import { isRtcpParseError, parseRtcp, RTCP_RR, RTCP_SR, serializeRtcpReport, type RtcpReportBlock } from '../rtp/rtcp.js';
import type { SequenceTracker } from '../rtp/sequence.js';
import type { RtpSender } from './rtp-sender.js';

const NTP_EPOCH_OFFSET = 2208988800; // seconds 1900 -> 1970 (RFC 5905 §6)

export interface RtcpStats {
  packetsIn: number;
  malformed: number;
  senderReportsIn: number;
  receiverReportsIn: number;
  reportsOut: number;
  /** Interarrival jitter of the received stream, ms. */
  jitterMs: number;
}

export class RtcpSession {
  readonly stats: RtcpStats = { packetsIn: 0, malformed: 0, senderReportsIn: 0, receiverReportsIn: 0, reportsOut: 0, jitterMs: 0 };
  private jitter = 0;
  private transit = NaN;
  private remoteSsrc = 0;
  private receiving = false;
  private lastSr = 0;
  private lastSrAtMs = 0;
  private expectedPrior = 0;
  private receivedPrior = 0;
  private packetsAtLastReport = 0;
  private nextAtMs = NaN;

  constructor(
    private readonly intervalMs: number,
    private readonly cname: string,
  ) {}

  /** An RTP packet of the received stream arrived (A.8; timestamps at 8 kHz). */
  onRtp(ssrc: number, timestamp: number, arrivalMs: number): void {
    if (ssrc !== this.remoteSsrc) {
      this.remoteSsrc = ssrc;
      this.transit = NaN;
      this.jitter = 0;
      this.expectedPrior = this.receivedPrior = 0;
    }
    this.receiving = true;
    const transit = arrivalMs * 8 - timestamp;
    if (!Number.isNaN(this.transit)) {
      let d = transit - this.transit;
      if (d < 0) d = -d;
      if (d < 0x7fffffff) this.jitter += (d - this.jitter) / 16;
    }
    this.transit = transit;
  }

  /** A datagram on the RTCP port from the peer; false when it is not valid RTCP. */
  onPacket(buf: Buffer, nowMs: number): boolean {
    this.stats.packetsIn++;
    const r = parseRtcp(buf);
    if (isRtcpParseError(r)) {
      this.stats.malformed++;
      return false;
    }
    for (const p of r) {
      if (p.packetType === RTCP_SR && 'ntpSeconds' in p) {
        this.stats.senderReportsIn++;
        this.lastSr = (((p.ntpSeconds & 0xffff) << 16) | (p.ntpFraction >>> 16)) >>> 0;
        this.lastSrAtMs = nowMs;
      } else if (p.packetType === RTCP_RR) {
        this.stats.receiverReportsIn++;
      }
    }
    return true;
  }

  /** A compound report when one is due (else null). */
  poll(nowMs: number, sender: RtpSender, seq: SequenceTracker | null): Buffer | null {
    if (Number.isNaN(this.nextAtMs)) this.nextAtMs = nowMs + this.interval();
    if (nowMs < this.nextAtMs) return null;
    this.nextAtMs = nowMs + this.interval();
    this.stats.reportsOut++;
    return this.build(nowMs, sender, seq);
  }

  build(nowMs: number, sender: RtpSender, seq: SequenceTracker | null): Buffer {
    this.stats.jitterMs = this.jitter / 8;
    const reports: RtcpReportBlock[] = [];
    if (this.receiving && seq && seq.received > 0) {
      const expected = seq.expected;
      const expectedInterval = expected - this.expectedPrior;
      const receivedInterval = seq.received - this.receivedPrior;
      this.expectedPrior = expected;
      this.receivedPrior = seq.received;
      const lostInterval = expectedInterval - receivedInterval;
      reports.push({
        ssrc: this.remoteSsrc,
        fractionLost: expectedInterval <= 0 || lostInterval <= 0 ? 0 : Math.floor((lostInterval << 8) / expectedInterval) & 0xff,
        cumulativeLost: seq.lost,
        extendedHighestSeq: seq.extendedMax >>> 0,
        jitter: Math.floor(this.jitter) >>> 0,
        lastSr: this.lastSr,
        delaySinceLastSr: this.lastSr === 0 ? 0 : Math.floor(((nowMs - this.lastSrAtMs) / 1000) * 65536) >>> 0,
      });
    }
    const sent = sender.packets > this.packetsAtLastReport;
    this.packetsAtLastReport = sender.packets;
    const report = sent
      ? (() => {
          const wall = Date.now();
          const secs = Math.floor(wall / 1000);
          const rtpTs = (sender.lastTimestamp + Math.round((wall - sender.lastWallMs) * 8)) >>> 0;
          return serializeRtcpReport({
            packetType: RTCP_SR, ssrc: sender.ssrc, ntpSeconds: (secs + NTP_EPOCH_OFFSET) >>> 0,
            ntpFraction: Math.floor(((wall % 1000) / 1000) * 0x100000000) >>> 0, rtpTimestamp: rtpTs,
            packetCount: sender.packets >>> 0, octetCount: sender.octets >>> 0, reports, extension: Buffer.alloc(0),
          });
        })()
      : serializeRtcpReport({ packetType: RTCP_RR, ssrc: sender.ssrc, reports, extension: Buffer.alloc(0) });
    return Buffer.concat([report, this.sdes(sender.ssrc)]);
  }

  private interval(): number {
    return this.intervalMs * (0.5 + Math.random());
  }

  /** SDES with one chunk: SSRC, CNAME item, END, padded to 32 bits (RFC 3550 §6.5). */
  private sdes(ssrc: number): Buffer {
    const name = Buffer.from(this.cname.slice(0, 255), 'utf8');
    const chunk = 4 + 2 + name.length + 1;
    const size = 4 + Math.ceil(chunk / 4) * 4;
    const b = Buffer.alloc(size);
    b[0] = 0x81;
    b[1] = 202;
    b.writeUInt16BE(size / 4 - 1, 2);
    b.writeUInt32BE(ssrc >>> 0, 4);
    b[8] = 1; // CNAME
    b[9] = name.length;
    name.copy(b, 10);
    return b; // the rest is zero: END item and padding
  }
}

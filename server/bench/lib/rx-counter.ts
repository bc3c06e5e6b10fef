/** Receive statistics of an RTP stream, as the bench customers keep them (RFC 3550 A.1, A.3, A.8). */

/** What the customer received of the gateway's RTP stream (RFC 3550 A.3, A.8). */
export interface RxStats {
  /** RTP packets received. */
  packets: number;
  /** Expected (from the extended highest sequence number) minus received, summed over sources; never negative. */
  lost: number;
  /** Interarrival jitter of the current source's audio packets (RFC 3550 A.8), in ms. */
  jitterMs: number;
}

const MAX_DROPOUT = 3000;
const MAX_MISORDER = 100;
const RTP_CLOCK_PER_MS = 8;

/**
 * RFC 3550 A.1/A.3/A.8 receive statistics of one stream, O(1) and allocation-free per packet.
 * Arrival times are read when Node hands the datagram over, so the customer's own event-loop delay
 * is inside the jitter figure.
 */
export class RxCounter {
  packets = 0;
  private ssrc = -1;
  private base = 0;
  private maxSeq = 0;
  private cycles = 0;
  private received = 0;
  private lostBefore = 0;
  private transit = 0;
  private haveTransit = false;
  /** RFC 3550 A.8 `jitter`, in timestamp units, as a float (no <<4 fixed point needed here). */
  private jitter = 0;

  onPacket(b: Buffer, arrivalMs: number): void {
    if (b.length < 12 || b[0]! >> 6 !== 2) return;
    this.packets++;
    const seq = b.readUInt16BE(2);
    const ssrc = b.readUInt32BE(8);
    if (ssrc !== this.ssrc) {
      if (this.ssrc !== -1) this.lostBefore += this.lostNow();
      this.ssrc = ssrc;
      this.restart(seq);
      this.haveTransit = false;
      this.jitter = 0;
    } else {
      // A.1 update_seq, without the probation of a new source.
      const udelta = (seq - this.maxSeq) & 0xffff;
      if (udelta < MAX_DROPOUT) {
        if (seq < this.maxSeq) this.cycles += 0x10000;
        this.maxSeq = seq;
      } else if (udelta <= 0x10000 - MAX_MISORDER) {
        // A very large jump: the sender restarted its sequence; count from here (A.1 resync).
        this.lostBefore += this.lostNow();
        this.restart(seq);
      } // else: a duplicate or a late packet, inside the misorder window
      this.received++;
    }
    const pt = b[1]! & 0x7f;
    if (pt !== 0 && pt !== 8) return; // audio only: telephone-event timestamps repeat by design
    // A.8: D(i-1,i) from the relative transit times, in RTP timestamp units (8 kHz).
    const transit = arrivalMs * RTP_CLOCK_PER_MS - b.readUInt32BE(4);
    if (this.haveTransit) {
      let d = transit - this.transit;
      if (d < 0) d = -d;
      // A timestamp jump (new talkspurt after silence suppression) shows up as one huge d: skip it.
      if (d < 8000) this.jitter += (d - this.jitter) / 16;
    }
    this.transit = transit;
    this.haveTransit = true;
  }

  private restart(seq: number): void {
    this.base = seq;
    this.maxSeq = seq;
    this.cycles = 0;
    this.received = 1;
  }

  private lostNow(): number {
    const expected = this.cycles + this.maxSeq - this.base + 1;
    return Math.max(0, expected - this.received);
  }

  stats(): RxStats {
    return { packets: this.packets, lost: this.lostBefore + (this.ssrc === -1 ? 0 : this.lostNow()), jitterMs: this.jitter / RTP_CLOCK_PER_MS };
  }
}

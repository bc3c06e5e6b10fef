/**
 * RTP sequence-number extension and source validation (RFC 3550 Appendix A.1), and 32-bit
 * timestamp wrap helpers (RFC 3550 §5.1: timestamps and sequence numbers wrap modulo 2^32 and
 * 2^16; compare them with serial-number arithmetic, RFC 1982 §3.2).
 */

const RTP_SEQ_MOD = 0x10000;

export interface SequenceTrackerOptions {
  /** Largest forward jump still taken as packet loss (A.1: MAX_DROPOUT = 3000). */
  maxDropout?: number;
  /** Largest backward step still taken as a late packet (A.1: MAX_MISORDER = 100). */
  maxMisorder?: number;
  /** In-order packets needed before a new source is valid (A.1: MIN_SEQUENTIAL = 2). */
  minSequential?: number;
}

/** What the last `update()` decided. */
export type SequenceStatus =
  | 'probation' // source not yet validated; packet should not be played
  | 'in-order' // new highest sequence number (maybe after a gap)
  | 'late' // duplicate or reordered, less than maxMisorder behind the highest
  | 'jump' // very large jump: dropped until the next packet confirms it (then 'restart')
  | 'restart'; // the sender restarted its sequence; statistics were reset

/**
 * RFC 3550 A.1 `update_seq` with the extended (cycle-counting) sequence number.
 * `update()` returns the extended sequence number of the packet, or -1 if the packet must be
 * discarded (probation or an unconfirmed jump). No allocation per packet.
 */
export class SequenceTracker {
  private readonly maxDropout: number;
  private readonly maxMisorder: number;
  private readonly minSequential: number;
  private maxSeq = 0;
  private cycles = 0;
  private baseSeq = 0;
  private badSeq = RTP_SEQ_MOD + 1;
  private probation: number;
  private started = false;
  /** Packets accepted since the last (re)start. */
  received = 0;
  status: SequenceStatus = 'probation';

  constructor(options: SequenceTrackerOptions = {}) {
    this.maxDropout = options.maxDropout ?? 3000;
    this.maxMisorder = options.maxMisorder ?? 100;
    this.minSequential = options.minSequential ?? 2;
    this.probation = this.minSequential;
  }

  private initSeq(seq: number): void {
    this.baseSeq = seq;
    this.maxSeq = seq;
    this.badSeq = RTP_SEQ_MOD + 1;
    this.cycles = 0;
    this.received = 0;
  }

  update(seqNumber: number): number {
    const seq = seqNumber & 0xffff;
    if (!this.started) {
      // A.1: init_seq(s, seq); s->max_seq = seq - 1; s->probation = MIN_SEQUENTIAL;
      this.started = true;
      this.initSeq(seq);
      this.maxSeq = (seq - 1) & 0xffff;
      this.probation = this.minSequential;
    }
    const udelta = (seq - this.maxSeq) & 0xffff;
    if (this.probation > 0) {
      if (seq === ((this.maxSeq + 1) & 0xffff)) {
        this.probation--;
        this.maxSeq = seq;
        if (this.probation === 0) {
          this.initSeq(seq);
          this.received++;
          this.status = 'in-order';
          return this.cycles + seq;
        }
      } else {
        this.probation = this.minSequential - 1;
        this.maxSeq = seq;
      }
      this.status = 'probation';
      return -1;
    }
    if (udelta === 0) {
      this.status = 'late'; // duplicate of the highest; A.1 counts it as received
    } else if (udelta < this.maxDropout) {
      if (seq < this.maxSeq) this.cycles += RTP_SEQ_MOD; // wrapped
      this.maxSeq = seq;
      this.status = 'in-order';
    } else if (udelta <= RTP_SEQ_MOD - this.maxMisorder) {
      // A very large jump: accept it only if the next packet follows it (sender restart).
      if (seq === this.badSeq) {
        this.initSeq(seq);
        this.status = 'restart';
      } else {
        this.badSeq = (seq + 1) & 0xffff;
        this.status = 'jump';
        return -1;
      }
    } else {
      this.status = 'late';
      this.received++;
      // Behind the highest: it belongs to this cycle, or to the previous one if it is numerically larger.
      return seq > this.maxSeq ? this.cycles - RTP_SEQ_MOD + seq : this.cycles + seq;
    }
    this.received++;
    return this.cycles + seq;
  }

  /** Highest extended sequence number seen (A.1 `cycles + max_seq`). */
  get extendedMax(): number {
    return this.cycles + this.maxSeq;
  }

  /** Packets expected since the (re)start (RFC 3550 A.3). */
  get expected(): number {
    return this.extendedMax - this.baseSeq + 1;
  }

  /** Cumulative packets lost (A.3; negative with duplicates). */
  get lost(): number {
    return this.expected - this.received;
  }
}

/** Signed difference a - b of two 16-bit sequence numbers (-32768..32767). */
export function seqDiff(a: number, b: number): number {
  return (((a - b) & 0xffff) << 16) >> 16;
}

/** Signed difference a - b of two 32-bit RTP timestamps (-2^31..2^31-1). */
export function tsDiff(a: number, b: number): number {
  return (a - b) | 0;
}

/** a + n modulo 2^32. */
export function tsAdd(a: number, n: number): number {
  return (a + n) >>> 0;
}

/** True if timestamp a is after b (serial-number comparison). */
export function tsAfter(a: number, b: number): boolean {
  return tsDiff(a, b) > 0;
}

/** Extends 32-bit RTP timestamps to a monotonic-ish 53-bit count across wraps. */
export class TimestampUnwrapper {
  private last = -1;
  private extended = 0;

  /** Extended value of `ts`; the first call returns `ts` itself. Late values come out smaller. */
  unwrap(ts: number): number {
    const t = ts >>> 0;
    if (this.last < 0) {
      this.last = t;
      this.extended = t;
      return t;
    }
    const d = tsDiff(t, this.last);
    const value = this.extended + d;
    if (d > 0) {
      this.extended = value;
      this.last = t;
    }
    return value;
  }
}

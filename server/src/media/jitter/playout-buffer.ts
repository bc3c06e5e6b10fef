/**
 * Receive-side playout (jitter) buffer for one G.711 RTP stream, with an optional look-ahead
 * for an analyser (the DTMF guard) that must see every sample some time before it is played.
 *
 * Timeline: samples live at integer positions; a packet goes to `unwrapped RTP timestamp -
 * base` (RFC 3550 §5.1: the timestamp is the sampling instant of the first octet), so
 * reordering, duplicates, loss and any sender packet size (10/20/30 ms) fall out of one rule;
 * the extended sequence number (RFC 3550 A.1, SequenceTracker) feeds the loss statistics.
 * G.711 is decoded on arrival into a ring of 8000 samples with a "have" flag per sample.
 *
 * Three frontiers, P <= A, W:
 * - P: next sample to play; advances 160 samples (20 ms) per read().
 * - A: analysis frontier: every sample before A went through the analyser exactly once, in
 *   order. A hole before `P + 160 + lookahead` with later data behind it is a lost packet:
 *   zeros are analysed in its place (a packet arriving for it later is late and dropped, so
 *   the analyser and the listener always see the same audio).
 * - W: end of the newest real data.
 *
 * A frame [P, P+160) is played only when A >= P + 160 + lookahead, i.e. the analyser has
 * seen `lookahead` samples beyond it. When data is missing at a read():
 * - a packet is due (the last one came less than its duration + 20 ms ago, or + 200 ms while
 *   the analyser is inside a tone, `inTone()`): stall, i.e. play silence for the missing part
 *   and keep P (the buffer grows by the sender's jitter);
 * - otherwise (hold, DTX, end of talkspurt, loss): the missing samples are silence, analysed
 *   as zeros. A stream that then resumes inside that silence is re-anchored at A.
 * Why the longer wait inside a tone: a burst of late packets (a sender or a receiving thread held
 * up for 60 ms, say) would otherwise put tens of ms of zeros into the middle of a DTMF tone, and
 * the detector would hear two presses of the key, or none; waiting costs only added delay, which
 * the skip below takes back in the next pause.
 * The buffer shrinks back: when the smallest headroom (A - target) over 240 ms stayed above
 * 4 ms, the excess over 2 ms is skipped, where the audio is quiet (peaks below -27 dBm0, a pause
 * between words) or, failing that for 2 s, 10 ms of it anyway. Minimal added delay is the aim: the arrival phase
 * relative to the tick plus ~2 ms.
 *
 * An SSRC change (RFC 3550 §8.2) or a timestamp jump outside the ring re-anchors the new
 * stream right after the current data. No allocation per packet or frame (a new SSRC
 * allocates its trackers).
 */
import { ALAW_DECODE, ULAW_DECODE } from '../g711/g711.js';
import { SequenceTracker, TimestampUnwrapper } from '../rtp/sequence.js';
import { FRAME } from '../clock/frame.js';

export { FRAME };
/** Ring size: 1 s, a multiple of 80 and 160 so aligned 10/20 ms blocks never straddle the wrap. */
export const CAP = 8000;
/** First position: a multiple of CAP, so positions and ring indices share their alignment. */
const START = 128 * CAP;
const MARGIN = 16;
const SKIP_WINDOW = 12;
const SKIP_ABOVE = 32;
const FORCE_SKIP = 8 * SKIP_WINDOW;
const FORCE_MAX = 80; // a forced skip (no quiet moment for 2 s) drops at most 10 ms at a time
const QUIET_PEAK = 1024;
const GRACE_MS = 20;
/** The grace while the analyser is inside a tone (see the class comment). */
const TONE_GRACE_MS = 200;
const MAX_BACKWARD = 8000;
const PHASES = 32;

export interface Analyser {
  /** Samples at timeline positions pos .. pos+length-1, in order, each exactly once. */
  analyse(pcm: Int16Array, offset: number, length: number, pos: number): void;
  /**
   * Positions pos .. pos+length-1 hold no audio of the sender (a lost packet, or a pause in the
   * stream): zeros that are about to be analysed. Called just before they are, so the audio on
   * either side of the gap has not been played yet (the look-ahead) when the analyser hears of it.
   */
  gap?(pos: number, length: number): void;
  /**
   * True while the analyser is inside something a gap would cut in two (a DTMF tone): a packet
   * that is late then is waited for longer before the missing audio is taken as silence.
   */
  inTone?(): boolean;
}

export type WriteResult = 'ok' | 'late' | 'duplicate' | 'overflow';

export interface PlayoutStats {
  packets: number;
  late: number;
  duplicates: number;
  overflow: number;
  reanchors: number;
  ssrcChanges: number;
  stalls: number;
  stalledSamples: number;
  skippedSamples: number;
  /** Holes with later data behind them, analysed and played as zeros. */
  lostSamples: number;
}

/** Where the samples of the last read() came from. Reused: read it before the next read(). */
export interface FrameInfo {
  /** Timeline position of out[offset]. */
  pos: number;
  /** Inserted silence (stall) before the stream samples. */
  offset: number;
  /** Stream samples in the frame (FRAME - offset). */
  length: number;
  /** Analysis frontier after this read. */
  analysedTo: number;
}

export class PlayoutBuffer {
  readonly stats: PlayoutStats = {
    packets: 0, late: 0, duplicates: 0, overflow: 0, reanchors: 0, ssrcChanges: 0, stalls: 0, stalledSamples: 0, skippedSamples: 0, lostSamples: 0,
  };
  seq = new SequenceTracker({ minSequential: 1 });
  /** Arrival times (ms) of the last accepted packets, a ring of 32 (for tick phase alignment). */
  readonly arrivals = new Float64Array(PHASES);
  arrivalCount = 0;
  private readonly pcm = new Int16Array(CAP);
  private readonly have = new Uint8Array(CAP);
  private readonly info: FrameInfo = { pos: 0, offset: 0, length: 0, analysedTo: 0 };
  private unwrap = new TimestampUnwrapper();
  private started = false;
  private ssrc = 0;
  private base = 0;
  private P = 0;
  private A = 0;
  private W = 0;
  private firstPos = START;
  private lastArrivalMs = -Infinity;
  private lastPacketSamples = FRAME;
  private windowMin = Infinity;
  private windowFrames = 0;

  constructor(
    readonly lookahead: number,
    private readonly analyser: Analyser | null = null,
  ) {}

  get isStarted(): boolean {
    return this.started;
  }

  /** Buffered real audio ahead of playout, ms. */
  get bufferedMs(): number {
    return this.started ? Math.max(0, this.W - this.P) / 8 : 0;
  }

  /** Timeline position of an RTP timestamp of the current stream (for RFC 4733 events). */
  positionOf(ssrc: number, timestamp: number): number | undefined {
    if (!this.started || ssrc !== this.ssrc) return undefined;
    return this.unwrap.unwrap(timestamp) - this.base;
  }

  /** Next position to play. */
  get playPosition(): number {
    return this.P;
  }

  get analysedTo(): number {
    return this.A;
  }

  /** Decode and store one packet's G.711 payload (buf[off .. off+len)). */
  write(ssrc: number, seq: number, timestamp: number, buf: Uint8Array, off: number, len: number, law: 'pcmu' | 'pcma', nowMs: number): WriteResult {
    if (len <= 0) return 'overflow';
    if (!this.started || ssrc !== this.ssrc) this.anchor(ssrc, timestamp, len);
    this.seq.update(seq);
    let pos = this.unwrap.unwrap(timestamp) - this.base;
    if (pos + len > this.P + CAP || pos + len < this.P - MAX_BACKWARD) {
      this.stats.reanchors++; // a timestamp jump (sender restart): continue after the current data
      pos = this.place(len);
      this.base = this.unwrap.unwrap(timestamp) - pos;
    } else if (pos < this.A && pos >= this.W) {
      this.stats.reanchors++; // a stream resuming inside the silence we already analysed
      this.base -= this.A - pos;
      pos = this.A;
    }
    if (pos < this.A) return this.count('late');
    if (pos + len > this.P + CAP) return this.count('overflow');
    const i = pos % CAP;
    if (this.have[i]) return this.count('duplicate');
    const table = law === 'pcmu' ? ULAW_DECODE : ALAW_DECODE;
    const pcm = this.pcm;
    const first = Math.min(len, CAP - i);
    for (let k = 0; k < first; k++) pcm[i + k] = table[buf[off + k]!]!;
    for (let k = first; k < len; k++) pcm[k - first] = table[buf[off + k]!]!;
    this.have.fill(1, i, i + first);
    if (len > first) this.have.fill(1, 0, len - first);
    if (pos + len > this.W) this.W = pos + len;
    this.stats.packets++;
    this.lastArrivalMs = nowMs;
    this.lastPacketSamples = len;
    this.arrivals[this.arrivalCount++ % PHASES] = nowMs;
    return 'ok';
  }

  /** The next 20 ms into out[0..160); see FrameInfo for what came from where. */
  read(out: Int16Array, nowMs: number): FrameInfo {
    const info = this.info;
    if (!this.started) {
      out.fill(0, 0, FRAME);
      info.pos = 0;
      info.offset = FRAME;
      info.length = 0;
      info.analysedTo = 0;
      return info;
    }
    let target = this.P + FRAME + this.lookahead;
    this.advance(target);
    let stall = 0;
    if (this.A < target) {
      const grace = this.analyser?.inTone?.() ? TONE_GRACE_MS : GRACE_MS;
      if (nowMs < this.lastArrivalMs + this.lastPacketSamples / 8 + grace) {
        stall = Math.min(target - this.A, FRAME);
        this.stats.stalls++;
        this.stats.stalledSamples += stall;
        this.windowMin = Infinity;
        this.windowFrames = 0;
      } else {
        this.analyser?.gap?.(this.A, target - this.A);
        this.analyseRange(this.A, target - this.A); // silence: the stream paused or ended
        this.A = target;
      }
    }
    if (stall === 0) {
      const headroom = this.A - target;
      if (headroom < this.windowMin) this.windowMin = headroom;
      if (++this.windowFrames >= SKIP_WINDOW) {
        let skip = this.windowMin - MARGIN;
        if (this.windowMin <= SKIP_ABOVE) {
          this.windowMin = Infinity;
          this.windowFrames = 0;
        } else if (this.quiet(this.P, skip) || (this.windowFrames >= FORCE_SKIP && (skip = Math.min(skip, FORCE_MAX)) > 0)) {
          this.discard(this.P, skip);
          this.P += skip;
          target += skip;
          this.stats.skippedSamples += skip;
          this.windowMin = Infinity;
          this.windowFrames = 0;
        } // else: audio there; try again next frame (keeping the window's minimum)
      }
    }
    const n = FRAME - stall;
    out.fill(0, 0, stall);
    const i = this.P % CAP;
    const first = Math.min(n, CAP - i);
    const pcm = this.pcm;
    for (let k = 0; k < first; k++) out[stall + k] = pcm[i + k]!;
    for (let k = first; k < n; k++) out[stall + k] = pcm[k - first]!;
    info.pos = this.P;
    info.offset = stall;
    info.length = n;
    this.discard(this.P, n);
    this.P += n;
    info.analysedTo = this.A;
    return info;
  }

  private count(r: Exclude<WriteResult, 'ok'>): WriteResult {
    if (r === 'late') this.stats.late++;
    else if (r === 'duplicate') this.stats.duplicates++;
    else this.stats.overflow++;
    return r;
  }

  /** First packet of a stream (or a new SSRC): placed so the next read has 2 ms headroom. */
  private anchor(ssrc: number, timestamp: number, len: number): void {
    if (this.started) {
      this.stats.ssrcChanges++;
      this.unwrap = new TimestampUnwrapper();
      this.seq = new SequenceTracker({ minSequential: 1 });
    } else {
      this.started = true;
      this.W = START;
      this.P = START + len - FRAME - this.lookahead - MARGIN;
      // Let packets that were sent before the first one (reordered) still slot in before it.
      this.A = Math.min(START, this.P);
    }
    this.ssrc = ssrc;
    const pos = this.place(len);
    this.base = this.unwrap.unwrap(timestamp) - pos;
  }

  private place(len: number): number {
    // A stream's start (or restart) is never a loss.
    this.firstPos = Math.max(this.A, this.W);
    return Math.max(this.A, this.W, this.P + FRAME + this.lookahead + MARGIN - len);
  }

  /** Analyse forward from A over received runs and over holes that lie before `target`. */
  private advance(target: number): void {
    while (this.A < this.W) {
      const a = this.A;
      const received = this.have[a % CAP] === 1;
      if (!received && a >= target) break; // a hole we can still wait for
      const end = this.runEnd(a, received ? this.W : Math.min(this.W, target), received ? 0 : 1);
      if (!received) {
        const lostFrom = Math.max(a, this.firstPos);
        if (end > lostFrom) {
          this.stats.lostSamples += end - lostFrom;
          this.analyser?.gap?.(lostFrom, end - lostFrom);
        }
      }
      this.analyseRange(a, end - a);
      this.A = end;
    }
  }

  /** First position in (a, limit) whose have flag is `flag`, or limit (native indexOf on the ring). */
  private runEnd(a: number, limit: number, flag: 0 | 1): number {
    const i = a % CAP;
    const span = limit - a;
    const first = Math.min(span, CAP - i);
    let k = this.have.indexOf(flag, i + 1);
    if (k >= 0 && k < i + first) return a + (k - i);
    if (span <= first) return limit;
    k = this.have.indexOf(flag, 0);
    return k >= 0 && k < span - first ? a + first + k : limit;
  }

  private analyseRange(pos: number, n: number): void {
    if (!this.analyser || n <= 0) return;
    const i = pos % CAP;
    const first = Math.min(n, CAP - i);
    this.analyser.analyse(this.pcm, i, first, pos);
    if (n > first) this.analyser.analyse(this.pcm, 0, n - first, pos + first);
  }

  /** True when no sample in [pos, pos+n) is louder than QUIET_PEAK (-27 dBm0 peak): safe to drop. */
  private quiet(pos: number, n: number): boolean {
    let i = pos % CAP;
    for (let k = 0; k < n; k++) {
      const x = this.pcm[i]!;
      if (x > QUIET_PEAK || x < -QUIET_PEAK) return false;
      if (++i === CAP) i = 0;
    }
    return true;
  }

  /** Clear played (or skipped) positions so the ring slots can take positions + CAP. */
  private discard(pos: number, n: number): void {
    const i = pos % CAP;
    const first = Math.min(n, CAP - i);
    this.pcm.fill(0, i, i + first);
    this.have.fill(0, i, i + first);
    if (n > first) {
      this.pcm.fill(0, 0, n - first);
      this.have.fill(0, 0, n - first);
    }
  }
}

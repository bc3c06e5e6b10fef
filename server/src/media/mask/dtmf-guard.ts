/**
 * The DTMF guard of one customer leg: in-band detection plus zero-bleed masking of the audio
 * that goes on to agents. It is the playout buffer's Analyser, so it sees every sample of the
 * leg's timeline exactly once and at least MASK_LOOKAHEAD samples before that sample is played.
 *
 * Why that is enough (the look-ahead argument): the detector confirms a tone at most
 * DECISION_LATENCY_SAMPLES - 1 (305) samples after its first sample s. The playout buffer plays
 * a frame only when the analysis is MASK_LOOKAHEAD (320) samples beyond its end, so when a
 * confirmation arrives the last sample played is before s + 320 - 305 - 1: no sample of the
 * tone has left yet. From then on the mask covers:
 *
 * - leading edge: from one 10 ms chunk before the first chunk of the run of "might be DTMF"
 *   chunks (energy hint, hint.ts) that ends in the detector's start estimate, or 14 samples
 *   before the estimate if that is earlier: the onset is found by the hint, which sees a partial
 *   tone the detector cannot yet be sure of;
 * - the tone itself: open-ended while the detector holds the digit;
 * - trailing edge and hang-over: after the detector's end, over the following hint-positive
 *   chunks plus one chunk, and at least HANGOVER (20 ms) after the last tone block.
 *
 * A hint alone (speech can trigger it a few % of the time) masks nothing; only hint chunks
 * joined to a confirmed digit do, so talk-off (0 digits on the speech corpus) means no speech is
 * muted. RFC 4733 events (RFC 4733 §2.5) add a mask from their start until their end plus the
 * hang-over, in case the phone also leaves the tone in the audio.
 *
 * A gap in the stream (a lost packet, a pause: the playout buffer's `gap`) can cut a tone into
 * pieces each too short for the detector (Q.24 lets it reject anything under 40 ms), yet still
 * audible and decodable as DTMF. So the hint chunks right before a gap and right after it are
 * masked as a fragment without a confirmation (and counted in `fragments`): the buffer reports
 * the gap before it analyses the zeros, so both sides are still ahead of playout. Late packets
 * alone rarely make such a gap inside a tone: the buffer asks `inTone()` and then waits up to
 * 200 ms for them (a stream that stalled and came as a burst would otherwise give the detector
 * two pieces of one key, i.e. the key twice, or none).
 *
 * Masked samples are replaced by the leg's MaskSignal. As a last line of defence, any sample of
 * a frame that the analysis has not yet passed by the look-ahead is masked too (counted as
 * `unsafe`; the playout buffer's rules keep it at 0).
 */
import { DECISION_LATENCY_SAMPLES, GoertzelDtmfDetector, type DtmfDigit, type InbandDigit, type InbandDigitEnd } from '../dtmf/index.js';
import type { Analyser } from '../jitter/playout-buffer.js';
import { chunkMightBeDtmf } from './hint.js';
import type { MaskSignal } from './mask-signal.js';

export const CHUNK = 80;
const EDGE_GUARD = 14;
/** Detector decision latency (306) + 14 samples of edge guard = 320 samples, 40 ms. */
export const MASK_LOOKAHEAD = DECISION_LATENCY_SAMPLES + EDGE_GUARD;
const HANGOVER = 160;
const RING = 64;
const MAX_EDGE_CHUNKS = 4;
const MAX_INTERVALS = 16;
const MAX_FRAME = 480;
/** A run of hint chunks longer than this (50 ms) before a gap was the detector's to confirm. */
const FRAGMENT_CHUNKS = 5;

export interface GuardStats {
  digits: number;
  maskedSamples: number;
  unsafeSamples: number;
  hintChunks: number;
  /** Tone fragments next to a gap in the stream, masked without a confirmed digit. */
  fragments: number;
}

export class DtmfGuard implements Analyser {
  readonly stats: GuardStats = { digits: 0, maskedSamples: 0, unsafeSamples: 0, hintChunks: 0, fragments: 0 };
  private readonly detector: GoertzelDtmfDetector;
  private readonly chunk = new Int16Array(CHUNK);
  private readonly hints = new Uint8Array(RING);
  private lastChunk = -Infinity;
  private offset = 0;
  private analysedTo = NaN;
  private digitFrom = NaN;
  private rfcFrom = NaN;
  private readonly starts = new Float64Array(MAX_INTERVALS);
  private readonly ends = new Float64Array(MAX_INTERVALS);
  private count = 0;
  private readonly flags = new Uint8Array(MAX_FRAME);
  private maskedBefore = false;
  /** End of the latest gap in the stream (NaN: none yet). */
  private gapEnd = NaN;
  /** A gap began inside this chunk (not complete yet): look behind it once it is. */
  private preGapChunk = NaN;
  private preGapPos = NaN;
  /** Open mask over a run of hint chunks that began right after a gap. */
  private fragFrom = NaN;

  constructor(
    private readonly signal: MaskSignal,
    private readonly onDigit: (digit: DtmfDigit, startPos: number) => void,
  ) {
    this.detector = new GoertzelDtmfDetector({ onDigit: (d) => this.digitOn(d), onEnd: (d) => this.digitOff(d) });
  }

  /** True while the detector holds a digit or an RFC 4733 event is open. */
  get masking(): boolean {
    return !Number.isNaN(this.digitFrom) || !Number.isNaN(this.rfcFrom);
  }

  analyse(pcm: Int16Array, offset: number, length: number, pos: number): void {
    if (pos !== this.analysedTo) this.resync(pos);
    // Hints first, so a confirmation during push() can look at every chunk analysed so far.
    const chunk = this.chunk;
    let i = offset;
    let p = pos;
    const end = offset + length;
    while (i < end) {
      const k = p % CHUNK;
      const n = Math.min(end - i, CHUNK - k);
      const whole = k === 0 && n === CHUNK; // an aligned chunk in one piece: test it in place
      if (!whole) for (let j = 0; j < n; j++) chunk[k + j] = pcm[i + j]!;
      i += n;
      p += n;
      if (k + n === CHUNK) {
        const c = p / CHUNK - 1;
        const hint = whole ? chunkMightBeDtmf(pcm, i - CHUNK, CHUNK) : chunkMightBeDtmf(chunk, 0, CHUNK);
        this.hints[c % RING] = hint ? 1 : 0;
        this.lastChunk = c;
        if (hint) this.stats.hintChunks++;
        if (c === this.preGapChunk) {
          this.preGapChunk = NaN;
          this.maskBeforeGap(c, this.preGapPos);
        }
        this.afterGap(c, hint);
      }
    }
    this.analysedTo = pos + length;
    this.detector.push(pcm, offset, length);
  }

  /** The playout buffer's gap report (see the class comment): [pos, pos+length) holds no audio. */
  gap(pos: number, length: number): void {
    if (pos !== this.gapEnd) {
      // A new gap: the audio just before it may be a tone cut short. Its last chunk is complete
      // unless the gap starts inside it; then it completes with the gap's zeros.
      const c = Math.floor((pos - 1) / CHUNK);
      if (c <= this.lastChunk) this.maskBeforeGap(c, pos);
      else {
        this.preGapChunk = c;
        this.preGapPos = pos;
      }
    }
    this.gapEnd = pos + length;
  }

  /**
   * The playout buffer's question before it takes missing audio as silence: is a tone going on?
   * Yes while the detector holds a digit, or while the latest chunk might be DTMF (a tone that
   * has begun but is not confirmed yet: zeros in it could leave two pieces each too short).
   */
  inTone(): boolean {
    return !Number.isNaN(this.digitFrom) || this.hint(this.lastChunk);
  }

  /** An RFC 4733 event began at timeline position `pos` (or now, if unknown). */
  rfcStart(pos: number | undefined): void {
    const from = (pos ?? this.analysedTo) - CHUNK;
    this.rfcFrom = Number.isNaN(this.rfcFrom) ? from : Math.min(this.rfcFrom, from);
  }

  /** The RFC 4733 event ended at `pos` (or now). */
  rfcEnd(pos: number | undefined): void {
    if (Number.isNaN(this.rfcFrom)) return;
    const to = Math.max(pos ?? -Infinity, Number.isNaN(this.analysedTo) ? -Infinity : this.analysedTo) + HANGOVER;
    this.addInterval(this.rfcFrom, to);
    this.rfcFrom = NaN;
  }

  /**
   * Mask out[outOffset .. outOffset+length), the samples at timeline positions pos.. . `safeEnd`:
   * positions at or beyond it have not been analysed far enough ahead. Returns samples masked.
   */
  apply(out: Int16Array, outOffset: number, pos: number, length: number, safeEnd: number): number {
    if (length <= 0) return 0;
    const end = pos + length;
    const flags = this.flags;
    flags.fill(0, 0, length);
    let any = false;
    let w = 0;
    for (let r = 0; r < this.count; r++) {
      const s = this.starts[r]!;
      const e = this.ends[r]!;
      if (e <= pos) continue; // played: drop it
      this.starts[w] = s;
      this.ends[w++] = e;
      any = this.mark(s, e, pos, end) || any;
    }
    this.count = w;
    if (!Number.isNaN(this.digitFrom)) any = this.mark(this.digitFrom, Infinity, pos, end) || any;
    if (!Number.isNaN(this.rfcFrom)) any = this.mark(this.rfcFrom, Infinity, pos, end) || any;
    if (!Number.isNaN(this.fragFrom)) any = this.mark(this.fragFrom, Infinity, pos, end) || any;
    if (safeEnd < end) {
      const from = Math.max(pos, safeEnd);
      this.stats.unsafeSamples += end - from;
      any = this.mark(from, end, pos, end) || any;
    }
    if (!any) {
      this.maskedBefore = false;
      return 0;
    }
    let masked = 0;
    let k = 0;
    let tailFaded = true;
    while (k < length) {
      if (!flags[k]) {
        k++;
        continue;
      }
      let e = k + 1;
      while (e < length && flags[e]) e++;
      const fadeIn = k > 0 || !this.maskedBefore;
      const fadeOut = e < length || !this.maskedAt(end);
      this.signal.fill(out, outOffset + k, outOffset + e, fadeIn, fadeOut);
      tailFaded = fadeOut;
      masked += e - k;
      k = e;
    }
    this.stats.maskedSamples += masked;
    // Only a run that reached the frame's end at full level may go on without a fade-in: one that
    // faded out (no mask was known beyond it then) must ramp up again if a mask learnt since covers
    // the next frame, or the tone would jump from silence to full level and splatter.
    this.maskedBefore = flags[length - 1] === 1 && !tailFaded;
    return masked;
  }

  /** Is `pos` inside a mask known now (for the ramp at a frame's end)? */
  private maskedAt(pos: number): boolean {
    if (this.digitFrom <= pos || this.rfcFrom <= pos || this.fragFrom <= pos) return true; // NaN compares false
    for (let r = 0; r < this.count; r++) if (this.starts[r]! <= pos && pos < this.ends[r]!) return true;
    return false;
  }

  private mark(s: number, e: number, pos: number, end: number): boolean {
    const a = Math.max(s, pos);
    const b = Math.min(e, end);
    if (a >= b) return false;
    this.flags.fill(1, a - pos, b - pos);
    return true;
  }

  private hint(c: number): boolean {
    return c <= this.lastChunk && c > this.lastChunk - RING && this.hints[c % RING] === 1;
  }

  /** Mask the run of hint chunks that ends in chunk `c` (or the one before), cut by a gap at `pos`. */
  private maskBeforeGap(c: number, pos: number): void {
    // The chunk the gap cuts is partly zeros: it may not read as DTMF even when the rest was a tone.
    let k = this.hint(c) ? c : c - 1;
    let first = NaN;
    for (let n = 0; n < FRAGMENT_CHUNKS && this.hint(k); n++, k--) first = k;
    if (Number.isNaN(first)) return;
    this.stats.fragments++;
    this.addInterval((first - 1) * CHUNK, pos + HANGOVER);
  }

  /** Chunk `c` just completed: open, extend or close the mask over a run that began after a gap. */
  private afterGap(c: number, hint: boolean): void {
    if (!Number.isNaN(this.fragFrom)) {
      if (hint) return;
      this.addInterval(this.fragFrom, (c + 1) * CHUNK + HANGOVER);
      this.fragFrom = NaN;
      return;
    }
    // The first two chunks that hold audio after the gap (the first may be partly zeros).
    if (hint && c * CHUNK < this.gapEnd + CHUNK && (c + 1) * CHUNK > this.gapEnd) {
      this.stats.fragments++;
      this.fragFrom = (c - 1) * CHUNK;
    }
  }

  private digitOn(d: InbandDigit): void {
    const startPos = d.startSample + this.offset;
    let first = Math.floor(startPos / CHUNK);
    for (let k = 0; k < MAX_EDGE_CHUNKS && this.hint(first - 1); k++) first--;
    const from = Math.min((first - 1) * CHUNK, startPos - EDGE_GUARD);
    this.digitFrom = Number.isNaN(this.digitFrom) ? from : Math.min(this.digitFrom, from);
    this.stats.digits++;
    this.onDigit(d.digit, startPos);
  }

  private digitOff(d: InbandDigitEnd): void {
    if (Number.isNaN(this.digitFrom)) return;
    const endPos = d.endSample + this.offset;
    let last = Math.floor((endPos - 1) / CHUNK);
    for (let k = 0; k < MAX_EDGE_CHUNKS && this.hint(last + 1); k++) last++;
    this.addInterval(this.digitFrom, Math.max(endPos + HANGOVER, (last + 2) * CHUNK));
    this.digitFrom = NaN;
  }

  private addInterval(s: number, e: number): void {
    const n = this.count;
    if (n > 0 && s <= this.ends[n - 1]! && e >= this.starts[n - 1]!) {
      this.starts[n - 1] = Math.min(s, this.starts[n - 1]!);
      this.ends[n - 1] = Math.max(e, this.ends[n - 1]!);
      return;
    }
    if (n === MAX_INTERVALS) {
      // Full (16 pending intervals): merge the two oldest; masking more, never less.
      this.ends[0] = Math.max(this.ends[0]!, this.ends[1]!);
      this.starts.copyWithin(1, 2, n);
      this.ends.copyWithin(1, 2, n);
      this.count--;
    }
    this.starts[this.count] = s;
    this.ends[this.count++] = e;
  }

  /** A jump in the timeline (never happens behind a PlayoutBuffer): start the analysis afresh. */
  private resync(pos: number): void {
    if (!Number.isNaN(this.digitFrom)) this.addInterval(this.digitFrom, pos + HANGOVER);
    if (!Number.isNaN(this.fragFrom)) this.addInterval(this.fragFrom, pos + HANGOVER);
    this.digitFrom = NaN;
    this.fragFrom = NaN;
    this.preGapChunk = NaN;
    this.detector.reset();
    this.offset = pos;
    this.chunk.fill(0);
    this.lastChunk = -Infinity;
  }
}

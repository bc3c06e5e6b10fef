/**
 * In-band DTMF detector for 8 kHz 16-bit linear audio, to ITU-T Q.24 / ETSI ES 201 235-3:
 * accept ±1.5 % frequency deviation and reject beyond ±3.5 %; accept tones of 40 ms and more,
 * reject 20 ms and less; ride over interruptions of up to 10 ms; twist up to 8 dB normal and
 * 4 dB reverse; tones from -4 to below -30 dBm0; 15 dB SNR white noise; dial tone 10 dB down.
 *
 * Adopted from spandsp dtmf.c (dtmf_rx): 102-sample blocks, eight Goertzels at the exact tone
 * frequencies, pick the strongest row and column, then a level threshold, the twist test,
 * the relative-peak test (every other row/column at least 8 dB down: DTMF_RELATIVE_PEAK_ROW/
 * COL = 6.3; ours on the bins with the pair's own leakage removed), the fraction-of-total-
 * energy test (dtmf_to_total_energy), and a digit only after two consecutive blocks agree
 * (spandsp's hit == last_hit logic).
 *
 * Added here, because a 102-sample block alone cannot do what Q.24 asks:
 * 1. Frequency check by phase. A 78 Hz bin cannot tell 697 Hz from 697 + 3.5 % (721 Hz), so
 *    spandsp accepts both. We compare the phase of each Goertzel output between the two
 *    confirming blocks: the advance beyond the nominal w*N is 2*pi*df*N/fs, which measures the
 *    offset df (unambiguous within ±39 Hz) to ~1 Hz. Both tones must be within ±2 %. For
 *    1477/1633 Hz the +3.5 % offset aliases, but then the tone is > 7 dB down in its bin and
 *    the energy-fraction or twist test rejects it.
 * 2. Refit at the measured frequencies. Knowing df, both confirming blocks are refitted with
 *    the tones where they really are (fit.ts), so the window loss of an off-frequency tone (up
 *    to 1.5 dB at +1.5 % of 1633 Hz) does not eat into the level, twist and energy margins.
 * 3. An exact two-tone fit (fit.ts) instead of raw Goertzel powers: removes the ±20 %
 *    wobble that cross-leakage and beating give close pairs (941 + 1209 Hz), so levels, twist
 *    and the fraction of the block the pair explains are accurate. Both confirming blocks must be >= 86 % explained:
 *    a tone must fill ~88 of each block's 102 samples, so 20 ms (160 samples) never confirms,
 *    while 40 ms always contains two whole blocks.
 * 4. Hang-over. Once on, a digit survives up to two blocks that miss (a 10 ms break touches
 *    at most two blocks); the third consecutive miss ends it. A 40 ms pause always gives
 *    three misses, so repeated keys separate.
 *
 * Work per sample: the four row filters and the block energy run on every sample; the four
 * column filters run over the block (kept in a 102-sample buffer) only when its strongest row
 * bin holds at least `rowScreen` (0.03) of N times the block's energy. A clean pair gives
 * 1 / (2 (1 + column/row power)): 0.12 at the largest reverse twist accepted (5 dB), still 0.08
 * with 1.5 dB of window loss and 15 dB SNR, 4.4 dB above the screen. Below it the block is no
 * candidate; speech and silence fail it about two times in three. A skipped block's columns
 * are computed from its buffer if a digit that follows needs them (the lead estimate), so every
 * digit, start, end and level is the same as with all eight filters on every block
 * (`rowScreen: 0`; goertzel-screen.test.ts). Only the talk-off counters may differ: a pair far
 * off frequency, which confirm() would reject, is not counted when the screen already stopped it.
 *
 * Decision latency: from the tone's first sample to the end of the confirming block is at most
 * 3 x 102 - 1 samples (the tone starts just after a block boundary it cannot use, then two whole
 * blocks). `DECISION_LATENCY_SAMPLES` = 306 (38.25 ms) bounds it; the masking look-ahead must
 * be at least that. `energyHint()` flags candidate blocks earlier.
 */
import { type DtmfDigit } from './events.js';
import type { GoertzelDetectorOptions, GoertzelStats } from './inband-types.js';
import { A_IM, A_RE, B_IM, B_RE, NOMINAL, fitPair, modelEnergy, prepareModel, residualPower } from './fit.js';
import { BLOCK_SIZE, COEF, COS_ADV, COS_REF, COS_W, SAMPLE_RATE, SIN_ADV, SIN_REF, SIN_W, TONE_HZ, dtmfEnergyHint } from './tones.js';
import { DBM0_RMS } from '../g711/dbm0.js';

export const DECISION_LATENCY_SAMPLES = 3 * BLOCK_SIZE;

const KEYS: readonly DtmfDigit[] = ['1', '2', '3', 'A', '4', '5', '6', 'B', '7', '8', '9', 'C', '*', '0', '#', 'D'];
const RELATIVE_PEAK = Math.pow(10, 8 / 10); // spandsp: every other tone of the group 8 dB down
const MAX_OFFSET = 0.02; // ±2 %: between Q.24's must-accept 1.5 % and must-reject 3.5 %
const CONFIRM_FRACTION = 0.86; // offset-corrected fit energy / block energy, both confirming blocks
const CANDIDATE_FRACTION = 0.45;
const SCREEN_FRACTION = 0.12; // raw (row + col bin power) / (N * energy): 0.5 for a clean pair // uncorrected, for a block to be a candidate or keep a digit alive
const MISSES_TO_END = 3;
const dbm0 = (meanPower: number): number => 10 * Math.log10(meanPower / (DBM0_RMS * DBM0_RMS));

export class GoertzelDtmfDetector {
  static readonly BLOCK_SIZE = BLOCK_SIZE;
  static readonly DECISION_LATENCY_SAMPLES = DECISION_LATENCY_SAMPLES;
  readonly stats: GoertzelStats = {
    blocks: 0,
    candidates: 0,
    rejectedFrequency: 0,
    rejectedLevel: 0,
    rejectedTwist: 0,
    rejectedEnergy: 0,
    digits: 0,
  };

  private readonly s = new Float64Array(16); // Goertzel state: s1 in [0..7], s2 in [8..15]
  // This block's samples and the two before (for columns computed late); they rotate like xRe.
  private buf = new Int16Array(BLOCK_SIZE);
  private prevBuf = new Int16Array(BLOCK_SIZE);
  private prev2Buf = new Int16Array(BLOCK_SIZE);
  private colsKnown = false;
  private prevColsKnown = false;
  private prev2ColsKnown = false;
  private readonly power = new Float64Array(8);
  // Block DFTs per tone (phase reference n = 0) for this block and the two before it; the
  // three buffers rotate instead of being copied.
  private xRe = new Float64Array(8);
  private xIm = new Float64Array(8);
  private prevRe = new Float64Array(8);
  private prevIm = new Float64Array(8);
  private prev2Re = new Float64Array(8);
  private prev2Im = new Float64Array(8);
  private readonly fit = new Float64Array(4);
  private readonly prevFit = new Float64Array(4);
  private readonly model = new Float64Array(32); // two-tone model at the measured frequencies
  private readonly minMeanPower: number;
  private readonly normalTwist: number;
  private readonly reverseTwist: number;
  private readonly rowScreen: number;
  private energy = 0;
  private pos = 0; // position within the current block
  private sampleIndex = 0;
  private prevKey = -1;
  private prevEnergy = 0;
  private prev2Energy = 0;
  private digitKey = -1;
  private digitStart = 0;
  private lastToneEnd = 0;
  private misses = 0;
  private rowDbm0 = 0;
  private colDbm0 = 0;

  constructor(private readonly options: GoertzelDetectorOptions) {
    this.minMeanPower = DBM0_RMS * DBM0_RMS * Math.pow(10, (options.minLevelDbm0 ?? -38) / 10);
    this.normalTwist = Math.pow(10, (options.normalTwistDb ?? 9) / 10);
    this.reverseTwist = Math.pow(10, (options.reverseTwistDb ?? 5) / 10);
    this.rowScreen = options.rowScreen ?? 0.125 / (1 + this.reverseTwist);
  }

  /** Samples consumed so far. */
  get samplesProcessed(): number {
    return this.sampleIndex;
  }

  /** The digit being held right now, if any. */
  get currentDigit(): DtmfDigit | undefined {
    return this.digitKey >= 0 ? KEYS[this.digitKey] : undefined;
  }

  /** Early, single-block "might be DTMF" (see tones.ts). */
  energyHint(block: Int16Array, offset?: number, length?: number): boolean {
    return dtmfEnergyHint(block, offset, length);
  }

  /** Feed audio; digits are reported through the callbacks as blocks complete. */
  push(samples: Int16Array, offset = 0, length = samples.length - offset): void {
    const st = this.s;
    const end = offset + length;
    const c0 = COEF[0]!, c1 = COEF[1]!, c2 = COEF[2]!, c3 = COEF[3]!;
    let i = offset;
    while (i < end) {
      const limit = Math.min(end, i + (BLOCK_SIZE - this.pos));
      const buf = this.buf;
      let p = this.pos;
      let e = this.energy;
      let a0 = st[0]!, a1 = st[1]!, a2 = st[2]!, a3 = st[3]!;
      let b0 = st[8]!, b1 = st[9]!, b2 = st[10]!, b3 = st[11]!;
      for (let j = i; j < limit; j++) {
        const x = samples[j]!;
        buf[p++] = x;
        e += x * x;
        let t = x + c0 * a0 - b0; b0 = a0; a0 = t;
        t = x + c1 * a1 - b1; b1 = a1; a1 = t;
        t = x + c2 * a2 - b2; b2 = a2; a2 = t;
        t = x + c3 * a3 - b3; b3 = a3; a3 = t;
      }
      st[0] = a0; st[1] = a1; st[2] = a2; st[3] = a3;
      st[8] = b0; st[9] = b1; st[10] = b2; st[11] = b3;
      this.energy = e;
      this.pos = p;
      this.sampleIndex += limit - i;
      i = limit;
      if (p === BLOCK_SIZE) this.endBlock();
    }
  }

  /** The four column filters over a whole block's samples, into st[4..7] and st[12..15]. */
  private columns(buf: Int16Array): void {
    const st = this.s;
    const c4 = COEF[4]!, c5 = COEF[5]!, c6 = COEF[6]!, c7 = COEF[7]!;
    let a4 = 0, a5 = 0, a6 = 0, a7 = 0, b4 = 0, b5 = 0, b6 = 0, b7 = 0;
    for (let j = 0; j < BLOCK_SIZE; j++) {
      const x = buf[j]!;
      let t = x + c4 * a4 - b4; b4 = a4; a4 = t;
      t = x + c5 * a5 - b5; b5 = a5; a5 = t;
      t = x + c6 * a6 - b6; b6 = a6; a6 = t;
      t = x + c7 * a7 - b7; b7 = a7; a7 = t;
    }
    st[4] = a4; st[5] = a5; st[6] = a6; st[7] = a7;
    st[12] = b4; st[13] = b5; st[14] = b6; st[15] = b7;
  }

  /** Block DFT of tones from..to-1 (phase reference n = 0) from the Goertzel state, with their powers. */
  private transform(from: number, to: number, re: Float64Array, im: Float64Array): void {
    const st = this.s;
    for (let k = from; k < to; k++) {
      const a = st[k]!;
      const b = st[k + 8]!;
      // y = s1 - e^{-jw} s2 = e^{jw(N-1)} X;  X = y e^{-jw(N-1)}
      const yr = a - COS_W[k]! * b;
      const yi = SIN_W[k]! * b;
      re[k] = yr * COS_REF[k]! - yi * SIN_REF[k]!;
      im[k] = yr * SIN_REF[k]! + yi * COS_REF[k]!;
      this.power[k] = yr * yr + yi * yi;
    }
  }

  private endBlock(): void {
    const energy = this.energy;
    this.transform(0, 4, this.xRe, this.xIm);
    let bestRow = 0;
    for (let k = 1; k < 4; k++) if (this.power[k]! > this.power[bestRow]!) bestRow = k;
    let bestCol = 4;
    let key = -1;
    this.colsKnown = energy > 0 && this.power[bestRow]! >= this.rowScreen * BLOCK_SIZE * energy;
    if (this.colsKnown) {
      this.columns(this.buf);
      this.transform(4, 8, this.xRe, this.xIm);
      for (let k = 5; k < 8; k++) if (this.power[k]! > this.power[bestCol]!) bestCol = k;
      key = this.candidate(bestRow, bestCol, energy);
    }
    this.stats.blocks++;
    if (key >= 0) this.stats.candidates++;
    const blockEnd = this.sampleIndex;
    const confirmed = key >= 0 && key === this.prevKey && key !== this.digitKey && this.confirm(bestRow, bestCol, energy);

    if (this.digitKey < 0) {
      if (confirmed) this.startDigit(key, blockEnd, bestRow, bestCol);
    } else if (confirmed && key !== this.digitKey) {
      this.endDigit();
      this.startDigit(key, blockEnd, bestRow, bestCol);
    } else if (key === this.digitKey) {
      this.misses = 0;
      this.lastToneEnd = blockEnd;
    } else if (++this.misses >= MISSES_TO_END) {
      this.endDigit();
    }

    this.prevKey = key;
    this.prev2Energy = this.prevEnergy;
    this.prevEnergy = energy;
    const spareRe = this.prev2Re;
    const spareIm = this.prev2Im;
    this.prev2Re = this.prevRe;
    this.prev2Im = this.prevIm;
    this.prevRe = this.xRe;
    this.prevIm = this.xIm;
    this.xRe = spareRe;
    this.xIm = spareIm;
    const spareBuf = this.prev2Buf;
    this.prev2Buf = this.prevBuf;
    this.prevBuf = this.buf;
    this.buf = spareBuf;
    this.prev2ColsKnown = this.prevColsKnown;
    this.prevColsKnown = this.colsKnown;
    this.s.fill(0);
    this.energy = 0;
    this.pos = 0;
  }

  /** Single-block tests (loose, nominal frequencies): returns the keypad index or -1. */
  private candidate(r: number, c: number, energy: number): number {
    // Cheap screen first (most blocks are speech or silence): the two bins must hold a fair
    // share of the energy even with leakage (a real pair gives ~0.5 * N * energy here).
    const raw = this.power[r]! + this.power[c]!;
    if (energy <= 0 || raw < SCREEN_FRACTION * BLOCK_SIZE * energy) return -1;
    const model = NOMINAL[r * 4 + (c - 4)]!;
    const f = this.fit;
    fitPair(model, this.xRe, this.xIm, r, c, f);
    const a2 = f[A_RE]! ** 2 + f[A_IM]! ** 2;
    const b2 = f[B_RE]! ** 2 + f[B_IM]! ** 2;
    const min = this.minMeanPower; // |a|^2 / 2 >= min / 2: up to 3 dB of window loss
    if (a2 < min || b2 < min) return -1;
    // Relative peak (spandsp: 8 dB), on what the other bins hold beyond the pair's own leakage;
    // a tone's own bin power is |a N / 2|^2.
    const rowPeak = (a2 * BLOCK_SIZE * BLOCK_SIZE) / 4 / RELATIVE_PEAK;
    const colPeak = (b2 * BLOCK_SIZE * BLOCK_SIZE) / 4 / RELATIVE_PEAK;
    for (let k = 0; k < 8; k++) {
      if (k === r || k === c) continue;
      if (residualPower(f, this.xRe, this.xIm, r, c, k) > (k < 4 ? rowPeak : colPeak)) return -1;
    }
    if (modelEnergy(model, f) < CANDIDATE_FRACTION * energy) return -1;
    return r * 4 + (c - 4);
  }

  /** Two-block tests: frequency by phase advance, then refit there: level, twist, energy. */
  private confirm(r: number, c: number, energy: number): boolean {
    const f = this.fit;
    const q = this.prevFit;
    const st = this.stats;
    fitPair(NOMINAL[r * 4 + (c - 4)]!, this.prevRe, this.prevIm, r, c, q);
    const dr = this.offsetHz(r, f[A_RE]!, f[A_IM]!, q[A_RE]!, q[A_IM]!);
    const dc = this.offsetHz(c, f[B_RE]!, f[B_IM]!, q[B_RE]!, q[B_IM]!);
    if (Math.abs(dr) > MAX_OFFSET * TONE_HZ[r]! || Math.abs(dc) > MAX_OFFSET * TONE_HZ[c]!) return st.rejectedFrequency++ < 0;
    const model = this.model;
    prepareModel(model, r, c, (2 * Math.PI * (TONE_HZ[r]! + dr)) / SAMPLE_RATE, (2 * Math.PI * (TONE_HZ[c]! + dc)) / SAMPLE_RATE);
    fitPair(model, this.xRe, this.xIm, r, c, f);
    fitPair(model, this.prevRe, this.prevIm, r, c, q);
    const rowPower = (f[A_RE]! ** 2 + f[A_IM]! ** 2) / 2; // mean power of the tone
    const colPower = (f[B_RE]! ** 2 + f[B_IM]! ** 2) / 2;
    const min = this.minMeanPower;
    if (rowPower < min || colPower < min || q[A_RE]! ** 2 + q[A_IM]! ** 2 < 2 * min || q[B_RE]! ** 2 + q[B_IM]! ** 2 < 2 * min) {
      return st.rejectedLevel++ < 0;
    }
    if (colPower > rowPower * this.reverseTwist || colPower * this.normalTwist < rowPower) return st.rejectedTwist++ < 0;
    if (modelEnergy(model, f) < CONFIRM_FRACTION * energy || modelEnergy(model, q) < CONFIRM_FRACTION * this.prevEnergy) {
      return st.rejectedEnergy++ < 0;
    }
    this.rowDbm0 = dbm0(rowPower);
    this.colDbm0 = dbm0(colPower);
    return true;
  }

  /**
   * Tone k's frequency offset in Hz from the phase advance of its fitted amplitude between
   * the previous block and this one, the nominal advance w*N removed (unambiguous to ±39 Hz).
   */
  private offsetHz(k: number, ar: number, ai: number, pr: number, pi: number): number {
    const xr = ar * pr + ai * pi; // a_now * conj(a_prev)
    const xi = ai * pr - ar * pi;
    const zr = xr * COS_ADV[k]! + xi * SIN_ADV[k]!; // * e^{-j w N}
    const zi = xi * COS_ADV[k]! - xr * SIN_ADV[k]!;
    return (Math.atan2(zi, zr) * SAMPLE_RATE) / (2 * Math.PI * BLOCK_SIZE);
  }

  private startDigit(key: number, blockEnd: number, r: number, c: number): void {
    this.stats.digits++;
    this.digitKey = key;
    this.misses = 0;
    // The tone filled (almost) all of the two confirming blocks; the fraction of the block
    // before them that the same pair explains says how far into it the tone began.
    const f = this.fit;
    if (!this.prev2ColsKnown && this.prev2Energy > 0) {
      // Screened out then: its columns now, from its samples (the filters' state is free here).
      this.columns(this.prev2Buf);
      this.transform(4, 8, this.prev2Re, this.prev2Im);
      this.prev2ColsKnown = true;
    }
    fitPair(this.model, this.prev2Re, this.prev2Im, r, c, f);
    const before = this.prev2Energy > 0 ? modelEnergy(this.model, f) / this.prev2Energy : 0;
    const lead = Math.round(Math.min(1, Math.max(0, before)) * BLOCK_SIZE);
    this.digitStart = blockEnd - 2 * BLOCK_SIZE - (lead > BLOCK_SIZE / 8 ? lead : 0);
    this.lastToneEnd = blockEnd;
    this.options.onDigit({
      digit: KEYS[key]!,
      startSample: this.digitStart,
      detectedAtSample: blockEnd,
      rowDbm0: this.rowDbm0,
      colDbm0: this.colDbm0,
    });
  }

  private endDigit(): void {
    const digit = KEYS[this.digitKey]!;
    this.digitKey = -1;
    this.misses = 0;
    this.options.onEnd?.({
      digit,
      startSample: this.digitStart,
      endSample: this.lastToneEnd,
      durationMs: ((this.lastToneEnd - this.digitStart) * 1000) / SAMPLE_RATE,
    });
  }

  /** Forget all state (e.g. after a stream restart); the sample counter restarts at 0. */
  reset(): void {
    this.s.fill(0);
    this.energy = 0;
    this.pos = 0;
    this.sampleIndex = 0;
    this.prevKey = -1;
    this.prevEnergy = 0;
    this.prev2Energy = 0;
    this.digitKey = -1;
    this.misses = 0;
  }
}

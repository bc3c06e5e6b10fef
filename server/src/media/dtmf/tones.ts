/**
 * Goertzel tables for the eight DTMF frequencies (ITU-T Q.23 §2) at 8 kHz, and the early
 * "might be DTMF" energy hint used by masking.
 *
 * Block length 102 samples (12.75 ms), as spandsp's dtmf.c (DTMF_SAMPLES_PER_BLOCK): short
 * enough that a 40 ms tone always fills two whole consecutive blocks (2 x 102 + 101 <= 320),
 * long enough for ~78 Hz bins that separate 697/770 Hz. Like spandsp, each Goertzel runs at
 * the exact tone frequency (non-integer bin), not at the nearest DFT bin.
 *
 * For a block y = s[N-1] - e^{-jw} s[N-2] = e^{jw(N-1)} X(w) (X the DFT at w over the block):
 * |y|^2 = s1^2 + s2^2 - 2 cos(w) s1 s2 is the Goertzel power, and the phase of y, compared
 * between consecutive blocks, measures the tone's actual frequency (see goertzel.ts).
 */
import { DBM0_RMS } from '../g711/dbm0.js';
import { DTMF_COL_HZ, DTMF_ROW_HZ } from './events.js';

export const SAMPLE_RATE = 8000;
export const BLOCK_SIZE = 102;

/** Tone frequencies in Goertzel order: rows 0-3 then columns 4-7. */
export const TONE_HZ: readonly number[] = [...DTMF_ROW_HZ, ...DTMF_COL_HZ];
/** 2 cos(w) per tone. */
export const COEF = new Float64Array(8);
export const COS_W = new Float64Array(8);
export const SIN_W = new Float64Array(8);
/** cos and sin of the nominal phase advance w*N from one block to the next. */
export const COS_ADV = new Float64Array(8);
export const SIN_ADV = new Float64Array(8);
/** e^{-jw(N-1)}: turns the Goertzel output y into the block DFT X (phase reference n = 0). */
export const COS_REF = new Float64Array(8);
export const SIN_REF = new Float64Array(8);

for (let k = 0; k < 8; k++) {
  const w = (2 * Math.PI * TONE_HZ[k]!) / SAMPLE_RATE;
  COEF[k] = 2 * Math.cos(w);
  COS_W[k] = Math.cos(w);
  SIN_W[k] = Math.sin(w);
  COS_ADV[k] = Math.cos(w * BLOCK_SIZE);
  SIN_ADV[k] = Math.sin(w * BLOCK_SIZE);
  COS_REF[k] = Math.cos(-w * (BLOCK_SIZE - 1));
  SIN_REF[k] = Math.sin(-w * (BLOCK_SIZE - 1));
}

/**
 * Goertzel power of a full-block sine of mean power P (in 16-bit units²) at the bin centre:
 * |X|^2 = (A N / 2)^2 = P N^2 / 2. So tone power = 2 |X|^2 / N^2.
 */
export function goertzelPowerForDbm0(dbm0: number, n = BLOCK_SIZE): number {
  const meanPower = DBM0_RMS * DBM0_RMS * Math.pow(10, dbm0 / 10);
  return (meanPower * n * n) / 2;
}

const hintState = new Float64Array(16);
const hintPower = new Float64Array(8);
/** The hint's thresholds: deliberately looser than the detector's (it must not miss onsets). */
const HINT_MIN_DBM0 = -44;
const HINT_FRACTION = 0.35;
const HINT_TWIST_DB = 14;

/**
 * "This block might be DTMF": one best row and one best column tone, each above -44 dBm0,
 * within 14 dB of each other, holding at least 35 % of the block's energy between them.
 * Any block length works (the masking code uses 5-20 ms frames). Allocation-free.
 * It answers before the detector can (one block, no confirmation), so it sees tone onsets
 * 25-38 ms before the detector decides; false positives on speech are expected and cheap.
 */
export function dtmfEnergyHint(block: Int16Array, offset = 0, length = block.length - offset): boolean {
  if (length < 32) return false;
  hintState.fill(0);
  let energy = 0;
  const end = offset + length;
  for (let i = offset; i < end; i++) {
    const x = block[i]!;
    energy += x * x;
    for (let k = 0; k < 8; k++) {
      const s = x + COEF[k]! * hintState[k]! - hintState[k + 8]!;
      hintState[k + 8] = hintState[k]!;
      hintState[k] = s;
    }
  }
  if (energy === 0) return false;
  let bestRow = 0;
  let bestCol = 4;
  for (let k = 0; k < 8; k++) {
    const a = hintState[k]!;
    const b = hintState[k + 8]!;
    hintPower[k] = a * a + b * b - COEF[k]! * a * b;
    if (k < 4 && hintPower[k]! > hintPower[bestRow]!) bestRow = k;
    if (k >= 4 && hintPower[k]! > hintPower[bestCol]!) bestCol = k;
  }
  const pr = hintPower[bestRow]!;
  const pc = hintPower[bestCol]!;
  const min = goertzelPowerForDbm0(HINT_MIN_DBM0, length);
  if (pr < min || pc < min) return false;
  const twist = pc / pr;
  const limit = Math.pow(10, HINT_TWIST_DB / 10);
  if (twist > limit || twist < 1 / limit) return false;
  return (2 * (pr + pc)) / (length * energy) >= HINT_FRACTION;
}

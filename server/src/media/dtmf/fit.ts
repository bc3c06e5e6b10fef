/**
 * Two-tone fit for one 102-sample block, from the block DFTs at the row and column frequency.
 *
 * Why: in a 102-sample block the Goertzel at 941 Hz still sees 9 % (amplitude) of a 1209 Hz
 * tone, and the energy of a 941 + 1209 Hz pair swings ±9 % with the beat between them. Raw
 * Goertzel powers over raw energy (spandsp's test) therefore wobble by ±20 % for close pairs,
 * which blurs the line between a whole-block tone and a partial one (the 20 ms vs 40 ms rule),
 * the twist and the level, and bends the phase used to measure frequency.
 *
 * Model: x[n] = Re(a e^{j u n}) + Re(b e^{j v n}), n = 0..N-1, with complex amplitudes a, b
 * and tone frequencies u, v (nominal, or as measured). The DFTs X_r, X_c at the nominal
 * analysis frequencies w_r, w_c are linear in (Re a, Im a, Re b, Im b): X = M (a, b), with
 *   sum_n Re(k e^{j t n}) e^{-j w n} = (k G(t - w) + conj(k) G(-t - w)) / 2,
 *   G(t) = sum_{n<N} e^{j t n} = e^{j t (N-1)/2} sin(N t / 2) / sin(t / 2).
 * Inverting M gives the exact amplitudes (each tone's leakage into the other bin and its own
 * negative-frequency image included). The model's energy over the block, beat included, is the
 * quadratic form (a, b)' Q (a, b) with the Gram matrix of the four basis signals,
 *   sum_n Re(k1 e^{j t1 n}) Re(k2 e^{j t2 n}) = Re(k1 conj(k2) G(t1 - t2) + k1 k2 G(t1 + t2)) / 2;
 * over the measured block energy it is the fraction of the block the pair explains.
 *
 * A "model" is a Float64Array(32): M^-1 (row-major 4x4) then Q. The 16 nominal models are
 * built once; `prepareModel` builds one for measured frequencies into a caller's buffer.
 */
import { BLOCK_SIZE, SAMPLE_RATE, TONE_HZ } from './tones.js';

export const A_RE = 0;
export const A_IM = 1;
export const B_RE = 2;
export const B_IM = 3;

const N = BLOCK_SIZE;
const W = TONE_HZ.map((f) => (2 * Math.PI * f) / SAMPLE_RATE);
const aug = new Float64Array(32); // scratch for the 4x4 inversion
const g = new Float64Array(2); // scratch G result
// basis k: (1, 0) cos, (0, 1) j -> -sin; for a (freq u) then b (freq v)
const KR = [1, 0, 1, 0];
const KI = [0, 1, 0, 1];

function geometric(t: number): void {
  const h = Math.sin(t / 2);
  const mag = Math.abs(h) < 1e-12 ? N : Math.sin((N * t) / 2) / h;
  const ph = (t * (N - 1)) / 2;
  g[0] = mag * Math.cos(ph);
  g[1] = mag * Math.sin(ph);
}

/** Build M^-1 and Q for tones at u, v (rad/sample), analysed at rows r and column c. */
export function prepareModel(model: Float64Array, r: number, c: number, u: number, v: number): void {
  const freqs = [u, u, v, v];
  const analysis = [W[r]!, W[c]!];
  for (let row = 0; row < 4; row++) {
    const w = analysis[row >> 1]!;
    for (let j = 0; j < 4; j++) {
      const t = freqs[j]!;
      // (k G(t - w) + conj(k) G(-t - w)) / 2
      geometric(t - w);
      let re = KR[j]! * g[0]! - KI[j]! * g[1]!;
      let im = KR[j]! * g[1]! + KI[j]! * g[0]!;
      geometric(-t - w);
      re += KR[j]! * g[0]! + KI[j]! * g[1]!;
      im += KR[j]! * g[1]! - KI[j]! * g[0]!;
      aug[row * 8 + j] = (row & 1 ? im : re) / 2;
      aug[row * 8 + 4 + j] = row === j ? 1 : 0;
    }
  }
  for (let i = 0; i < 4; i++) {
    for (let j = 0; j < 4; j++) {
      const t1 = freqs[i]!, t2 = freqs[j]!;
      // Re(k1 conj(k2) G(t1 - t2) + k1 k2 G(t1 + t2)) / 2
      const pr = KR[i]! * KR[j]! + KI[i]! * KI[j]!, pi = KI[i]! * KR[j]! - KR[i]! * KI[j]!;
      const qr = KR[i]! * KR[j]! - KI[i]! * KI[j]!, qi = KR[i]! * KI[j]! + KI[i]! * KR[j]!;
      geometric(t1 - t2);
      let e = pr * g[0]! - pi * g[1]!;
      geometric(t1 + t2);
      e += qr * g[0]! - qi * g[1]!;
      model[16 + i * 4 + j] = e / 2;
    }
  }
  // Gauss-Jordan with partial pivoting on [M | I] (no allocation).
  for (let col = 0; col < 4; col++) {
    let piv = col;
    for (let k = col + 1; k < 4; k++) if (Math.abs(aug[k * 8 + col]!) > Math.abs(aug[piv * 8 + col]!)) piv = k;
    if (piv !== col) {
      for (let k = 0; k < 8; k++) {
        const tmp = aug[col * 8 + k]!;
        aug[col * 8 + k] = aug[piv * 8 + k]!;
        aug[piv * 8 + k] = tmp;
      }
    }
    const d = aug[col * 8 + col]!;
    for (let k = 0; k < 8; k++) aug[col * 8 + k]! /= d;
    for (let rr = 0; rr < 4; rr++) {
      if (rr === col) continue;
      const f = aug[rr * 8 + col]!;
      if (f !== 0) for (let k = 0; k < 8; k++) aug[rr * 8 + k]! -= f * aug[col * 8 + k]!;
    }
  }
  for (let i = 0; i < 4; i++) for (let j = 0; j < 4; j++) model[i * 4 + j] = aug[i * 8 + 4 + j]!;
}

/**
 * For the relative-peak test: the DFT at every one of the eight tone frequencies of each of a
 * pair's four nominal basis signals, so the pair's own leakage can be taken out of the other
 * bins. LEAK[p * 64 + k * 8 + (re ? 0 : 4) + j].
 */
const LEAK = new Float64Array(16 * 64);
for (let p = 0; p < 16; p++) {
  const freqs = [W[p >> 2]!, W[p >> 2]!, W[4 + (p & 3)]!, W[4 + (p & 3)]!];
  for (let k = 0; k < 8; k++) {
    for (let j = 0; j < 4; j++) {
      geometric(freqs[j]! - W[k]!);
      let re = KR[j]! * g[0]! - KI[j]! * g[1]!;
      let im = KR[j]! * g[1]! + KI[j]! * g[0]!;
      geometric(-freqs[j]! - W[k]!);
      re += KR[j]! * g[0]! + KI[j]! * g[1]!;
      im += KR[j]! * g[1]! - KI[j]! * g[0]!;
      LEAK[p * 64 + k * 8 + j] = re / 2;
      LEAK[p * 64 + k * 8 + 4 + j] = im / 2;
    }
  }
}

/** Power left in bin k once the fitted pair's own contribution is taken out. */
export function residualPower(fit: Float64Array, xRe: Float64Array, xIm: Float64Array, r: number, c: number, k: number): number {
  const o = (r * 4 + (c - 4)) * 64 + k * 8;
  const re = xRe[k]! - (LEAK[o]! * fit[0]! + LEAK[o + 1]! * fit[1]! + LEAK[o + 2]! * fit[2]! + LEAK[o + 3]! * fit[3]!);
  const im = xIm[k]! - (LEAK[o + 4]! * fit[0]! + LEAK[o + 5]! * fit[1]! + LEAK[o + 6]! * fit[2]! + LEAK[o + 7]! * fit[3]!);
  return re * re + im * im;
}

/** Nominal-frequency models, indexed by pair r * 4 + (c - 4). */
export const NOMINAL: readonly Float64Array[] = Array.from({ length: 16 }, (_, p) => {
  const m = new Float64Array(32);
  prepareModel(m, p >> 2, 4 + (p & 3), W[p >> 2]!, W[4 + (p & 3)]!);
  return m;
});

/** Amplitudes (Re a, Im a, Re b, Im b) of the (r, c) pair from the block DFTs. */
export function fitPair(model: Float64Array, xRe: Float64Array, xIm: Float64Array, r: number, c: number, out: Float64Array): void {
  const y0 = xRe[r]!, y1 = xIm[r]!, y2 = xRe[c]!, y3 = xIm[c]!;
  for (let i = 0; i < 4; i++) out[i] = model[i * 4]! * y0 + model[i * 4 + 1]! * y1 + model[i * 4 + 2]! * y2 + model[i * 4 + 3]! * y3;
}

/** Energy over the block of the fitted pair. */
export function modelEnergy(model: Float64Array, fit: Float64Array): number {
  let e = 0;
  for (let i = 0; i < 4; i++) {
    let row = 0;
    for (let j = 0; j < 4; j++) row += model[16 + i * 4 + j]! * fit[j]!;
    e += fit[i]! * row;
  }
  return e;
}

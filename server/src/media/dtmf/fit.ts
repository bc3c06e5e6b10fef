/**
 * Two-tone least-squares fit for one 102-sample block, from the block DFTs at the row and
 * column frequencies.
 *
 * Why: in a 102-sample block the Goertzel at 941 Hz still sees 9 % (amplitude) of a 1209 Hz
 * tone, and the block energy of a 941 + 1209 Hz pair swings ±9 % with the beat between them.
 * Raw Goertzel powers over raw energy (spandsp's test) therefore wobble by ±20 % for close
 * pairs, which blurs the line between a whole-block tone and a partial one (the 20 ms vs
 * 40 ms rule) and bends the phase used for frequency measurement. Modelling the block as
 * x[n] = Re(a e^{j w_r n}) + Re(b e^{j w_c n}) and solving for the complex amplitudes a, b
 * removes the cross-leakage; the model's own energy (beat included) over the block's
 * measured energy is then the fraction of the block the pair explains: ~1 for a steady pair,
 * ~p for a tone covering a fraction p of the block.
 *
 * With X_k = sum x[n] e^{-j w_k n} and G(t) = sum_{n<N} e^{jtn} (precomputed in tones.ts):
 *   2 X_r = a N + b G(w_c - w_r)   (+ conjugate-image terms of ~1-2 %, neglected)
 *   2 X_c = b N + a G(w_r - w_c)
 * so a = 2 (N X_r - g X_c) / (N^2 - |g|^2), b = 2 (N X_c - conj(g) X_r) / (N^2 - |g|^2), g = G(w_c - w_r),
 * and sum x^2 = N (|a|^2 + |b|^2) / 2 + Re(a conj(b) conj(g)) + Re(a^2 G(2w_r)) / 2
 *             + Re(b^2 G(2w_c)) / 2 + Re(a b G(w_r + w_c)).
 */
import { BLOCK_SIZE, G_DIFF, G_SUM, G_TWICE } from './tones.js';

/** Fit output slots. */
export const A_RE = 0;
export const A_IM = 1;
export const B_RE = 2;
export const B_IM = 3;

const N = BLOCK_SIZE;

/** Fit the (r, c) pair (r 0..3, c 4..7) from the block DFTs; writes a and b into `out`. */
export function fitPair(xRe: Float64Array, xIm: Float64Array, r: number, c: number, out: Float64Array): void {
  const p = r * 4 + (c - 4);
  const gr = G_DIFF[2 * p]!;
  const gi = G_DIFF[2 * p + 1]!;
  const det = N * N - (gr * gr + gi * gi);
  const xrR = xRe[r]!, xrI = xIm[r]!, xcR = xRe[c]!, xcI = xIm[c]!;
  // a = 2 (N X_r - g X_c) / det
  out[A_RE] = (2 * (N * xrR - (gr * xcR - gi * xcI))) / det;
  out[A_IM] = (2 * (N * xrI - (gr * xcI + gi * xcR))) / det;
  // b = 2 (N X_c - conj(g) X_r) / det
  out[B_RE] = (2 * (N * xcR - (gr * xrR + gi * xrI))) / det;
  out[B_IM] = (2 * (N * xcI - (gr * xrI - gi * xrR))) / det;
}

/** Energy over the block of the fitted pair, with a and b scaled by sa and sb. */
export function modelEnergy(fit: Float64Array, r: number, c: number, sa = 1, sb = 1): number {
  const p = r * 4 + (c - 4);
  const ar = fit[A_RE]! * sa, ai = fit[A_IM]! * sa, br = fit[B_RE]! * sb, bi = fit[B_IM]! * sb;
  let e = (N * (ar * ar + ai * ai + br * br + bi * bi)) / 2;
  // Re(a conj(b) conj(g)) = Re(conj(b) a conj(g))
  const abr = ar * br + ai * bi; // a conj(b), real
  const abi = ai * br - ar * bi; // a conj(b), imag
  e += abr * G_DIFF[2 * p]! + abi * G_DIFF[2 * p + 1]!;
  // Re(a^2 G(2 w_r)) / 2 and Re(b^2 G(2 w_c)) / 2
  e += ((ar * ar - ai * ai) * G_TWICE[2 * r]! - 2 * ar * ai * G_TWICE[2 * r + 1]!) / 2;
  e += ((br * br - bi * bi) * G_TWICE[2 * c]! - 2 * br * bi * G_TWICE[2 * c + 1]!) / 2;
  // Re(a b G(w_r + w_c))
  const pr = ar * br - ai * bi;
  const pi = ar * bi + ai * br;
  e += pr * G_SUM[2 * p]! - pi * G_SUM[2 * p + 1]!;
  return e;
}

/**
 * Direct µ-law <-> A-law conversion, ITU-T G.711 §4 (Tables 3 and 4).
 *
 * The standard's conversion tables are not "decode then re-encode": they map each code to the
 * code of the other law whose reconstruction value is nearest on the common analogue scale,
 * where the µ-law overload point (32636 in our 16-bit scale) is +3.17 dBm0 and A-law's (32768)
 * is +3.14 dBm0. Building the tables that way reproduces G.711 Tables 3 and 4 entry for entry,
 * including the corrected entry of Table 3 (µ magnitude 80 -> A 79, which early copies of the
 * Sun reference code had as 80); the unit tests pin spot values and the round-trip properties.
 * Decode-then-encode would differ in 18 (µ->A) and 16 (A->µ) magnitudes.
 */
import { ALAW_DECODE, ULAW_DECODE } from './g711.js';

/** Amplitude factor from the µ-law 16-bit scale to the A-law 16-bit scale (≈ 1.0075). */
const ULAW_TO_ALAW_SCALE = (32768 / 32636) * Math.pow(10, (3.17 - 3.14) / 20);

/** µ-law code -> A-law code. */
export const ULAW_TO_ALAW: Uint8Array = new Uint8Array(256);
/** A-law code -> µ-law code. */
export const ALAW_TO_ULAW: Uint8Array = new Uint8Array(256);

/** Magnitude index 0..127 (0 = smallest) -> code, for positive values of each law. */
const ulawPositive = (i: number): number => 0xff ^ i;
const alawPositive = (i: number): number => 0xd5 ^ i;

function nearestIndex(value: number, decode: Int16Array, code: (i: number) => number): number {
  let best = 0;
  let bestDistance = Infinity;
  for (let i = 0; i < 128; i++) {
    const d = Math.abs(decode[code(i)]! - value);
    if (d < bestDistance) {
      bestDistance = d;
      best = i;
    }
  }
  return best;
}

for (let i = 0; i < 128; i++) {
  const a = nearestIndex(ULAW_DECODE[ulawPositive(i)]! * ULAW_TO_ALAW_SCALE, ALAW_DECODE, alawPositive);
  ULAW_TO_ALAW[ulawPositive(i)] = alawPositive(a); // positive half
  ULAW_TO_ALAW[ulawPositive(i) & 0x7f] = alawPositive(a) & 0x7f; // negative half: sign bit clear
  const u = nearestIndex(ALAW_DECODE[alawPositive(i)]! / ULAW_TO_ALAW_SCALE, ULAW_DECODE, ulawPositive);
  ALAW_TO_ULAW[alawPositive(i)] = ulawPositive(u);
  ALAW_TO_ULAW[alawPositive(i) & 0x7f] = ulawPositive(u) & 0x7f;
}

function checkRoom(srcLength: number, dstLength: number): void {
  if (dstLength < srcLength) {
    throw new RangeError(`G.711 transcode: destination holds ${dstLength} bytes, source has ${srcLength}`);
  }
}

/** µ-law -> A-law for every byte of `src` into `dst` (may be the same buffer). */
export function ulawToAlaw(src: Uint8Array, dst: Uint8Array): number {
  const n = src.length;
  checkRoom(n, dst.length);
  for (let i = 0; i < n; i++) dst[i] = ULAW_TO_ALAW[src[i]!]!;
  return n;
}

/** A-law -> µ-law for every byte of `src` into `dst` (may be the same buffer). */
export function alawToUlaw(src: Uint8Array, dst: Uint8Array): number {
  const n = src.length;
  checkRoom(n, dst.length);
  for (let i = 0; i < n; i++) dst[i] = ALAW_TO_ULAW[src[i]!]!;
  return n;
}

export type G711Law = 'pcmu' | 'pcma';

/** Convert `src` from one law to another into `dst`; copies when the laws are equal. */
export function transcode(src: Uint8Array, dst: Uint8Array, from: G711Law, to: G711Law): number {
  if (from === to) {
    checkRoom(src.length, dst.length);
    if (src !== dst) dst.set(src);
    return src.length;
  }
  return from === 'pcmu' ? ulawToAlaw(src, dst) : alawToUlaw(src, dst);
}

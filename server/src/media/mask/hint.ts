/**
 * The masking code's "might this chunk be DTMF?" test: the same decision as dtmfEnergyHint in
 * ../dtmf/tones.ts (best row and best column tone each above -44 dBm0, within 14 dB of each
 * other, holding >= 35 % of the chunk's energy between them; Goertzels at the exact ITU-T Q.23
 * frequencies), written with the eight Goertzel states in locals like the detector's inner loop:
 * about 4x faster, which matters when it runs on every customer sample of every call. A unit
 * test checks it agrees with dtmfEnergyHint.
 */
import { COEF, goertzelPowerForDbm0 } from '../dtmf/tones.js';

const MIN_DBM0 = -44;
const FRACTION = 0.35;
const TWIST = Math.pow(10, 14 / 10);
const c0 = COEF[0]!, c1 = COEF[1]!, c2 = COEF[2]!, c3 = COEF[3]!, c4 = COEF[4]!, c5 = COEF[5]!, c6 = COEF[6]!, c7 = COEF[7]!;
const minPowerCache = new Map<number, number>();

function minPower(length: number): number {
  let p = minPowerCache.get(length);
  if (p === undefined) minPowerCache.set(length, (p = goertzelPowerForDbm0(MIN_DBM0, length)));
  return p;
}

const power = (a: number, b: number, c: number): number => a * a + b * b - c * a * b;

/** True when pcm[offset .. offset+length) might hold a DTMF pair (length >= 32). */
export function chunkMightBeDtmf(pcm: Int16Array, offset: number, length: number): boolean {
  if (length < 32) return false;
  let a0 = 0, a1 = 0, a2 = 0, a3 = 0, a4 = 0, a5 = 0, a6 = 0, a7 = 0;
  let b0 = 0, b1 = 0, b2 = 0, b3 = 0, b4 = 0, b5 = 0, b6 = 0, b7 = 0;
  let e = 0;
  const end = offset + length;
  for (let j = offset; j < end; j++) {
    const x = pcm[j]!;
    e += x * x;
    let t = x + c0 * a0 - b0; b0 = a0; a0 = t;
    t = x + c1 * a1 - b1; b1 = a1; a1 = t;
    t = x + c2 * a2 - b2; b2 = a2; a2 = t;
    t = x + c3 * a3 - b3; b3 = a3; a3 = t;
    t = x + c4 * a4 - b4; b4 = a4; a4 = t;
    t = x + c5 * a5 - b5; b5 = a5; a5 = t;
    t = x + c6 * a6 - b6; b6 = a6; a6 = t;
    t = x + c7 * a7 - b7; b7 = a7; a7 = t;
  }
  if (e === 0) return false;
  const pr = Math.max(power(a0, b0, c0), power(a1, b1, c1), power(a2, b2, c2), power(a3, b3, c3));
  const pc = Math.max(power(a4, b4, c4), power(a5, b5, c5), power(a6, b6, c6), power(a7, b7, c7));
  const min = minPower(length);
  if (pr < min || pc < min) return false;
  const twist = pc / pr;
  if (twist > TWIST || twist < 1 / TWIST) return false;
  return (2 * (pr + pc)) / (length * e) >= FRACTION;
}

/**
 * Residual DTMF energy in a recording: for each of the eight ITU-T Q.23 frequencies, the level
 * (dBm0, as the equivalent sine) in 205-sample Hann-windowed Goertzel windows with a hop of 40
 * samples, and the largest value over a set of sample ranges (default: the whole recording).
 * 205 samples (25.6 ms, 39 Hz bins) is the classic DTMF analysis length; the Hann window keeps
 * leakage from other content (noise floor, masking tone) out of the bins.
 */
import { DTMF_COL_HZ, DTMF_ROW_HZ } from '../../../../src/media/dtmf/events.js';
import { sinePeakForDbm0 } from '../../../../src/media/g711/index.js';

export const DTMF_HZ = [...DTMF_ROW_HZ, ...DTMF_COL_HZ];
const N = 205;
const HOP = 40;
const HANN = Float64Array.from({ length: N }, (_, i) => 0.5 - 0.5 * Math.cos((2 * Math.PI * i) / (N - 1)));
const PEAK_0DBM0 = sinePeakForDbm0(0);

/** Level in dBm0 of the component at `hz` in pcm[from .. from+N) (floor -120). */
export function toneLevelDbm0(pcm: ArrayLike<number>, from: number, hz: number): number {
  const w = (2 * Math.PI * hz) / 8000;
  const c = 2 * Math.cos(w);
  let s1 = 0;
  let s2 = 0;
  for (let i = 0; i < N; i++) {
    const s = (pcm[from + i] ?? 0) * HANN[i]! + c * s1 - s2;
    s2 = s1;
    s1 = s;
  }
  const mag = Math.sqrt(Math.max(0, s1 * s1 + s2 * s2 - c * s1 * s2));
  const amplitude = (4 * mag) / N; // Hann coherent gain 0.5; |X| = A N / 4
  return amplitude <= 0 ? -120 : Math.max(-120, 20 * Math.log10(amplitude / PEAK_0DBM0));
}

export interface Residual {
  /** Largest level per frequency, dBm0. */
  perHz: Record<string, number>;
  maxDbm0: number;
  windows: number;
}

/** Max level per DTMF frequency over windows lying inside `ranges` ([from, to) sample ranges). */
export function dtmfResidual(pcm: ArrayLike<number>, ranges: [number, number][] = [[0, pcm.length]]): Residual {
  const perHz: Record<string, number> = {};
  let windows = 0;
  for (const hz of DTMF_HZ) perHz[hz] = -120;
  for (const [from, to] of ranges) {
    for (let at = Math.max(0, from); at + N <= Math.min(to, pcm.length); at += HOP) {
      windows++;
      for (const hz of DTMF_HZ) perHz[hz] = Math.max(perHz[hz]!, toneLevelDbm0(pcm, at, hz));
    }
  }
  const round = (x: number): number => Math.round(x * 10) / 10;
  for (const hz of DTMF_HZ) perHz[hz] = round(perHz[hz]!);
  return { perHz, maxDbm0: Math.max(...Object.values(perHz)), windows };
}

/**
 * Signal levels in dBm0 for 16-bit linear audio at 8 kHz.
 *
 * Definition used throughout tonegate (ITU-T G.711 §2, Tables 5 and 6):
 *
 * - The µ-law overload point (Tmax) is +3.17 dBm0 and, in the 16-bit linear scale our decoder
 *   produces, sits at amplitude 8159 × 4 = 32636 (the top decision value of the 14-bit µ-law
 *   encoder). A sine whose peak is 32636 is therefore +3.17 dBm0.
 * - 0 dBm0 is 3.17 dB below that: peak 32636 × 10^(−3.17/20) = 22656.7, RMS 16020.7.
 * - Check: the µ-law digital milliwatt of G.711 Table 5 (0x1E 0x0B 0x0B 0x1E 0x9E 0x8B 0x8B 0x9E)
 *   decodes to an RMS of 16016.8, i.e. −0.002 dB from this definition (a unit test asserts it).
 * - The A-law digital milliwatt (Table 6) decodes to RMS 16139.2: A-law's Tmax is +3.14 dBm0 at
 *   32768, so the A-law reference is 0.07 dB hotter. We use the µ-law definition everywhere.
 * - spandsp (DBM0_MAX_SINE_POWER = 3.14 at 32768) puts 0 dBm0 at peak 22810, 0.06 dB hotter
 *   than ours (spandsp peak 22810 vs ours 22657); the oracle comparisons tolerate that.
 */

/** Peak amplitude (16-bit linear) of the µ-law overload point, +3.17 dBm0. */
export const ULAW_OVERLOAD_PEAK = 32636;
/** Level of the overload point above 0 dBm0 (G.711 µ-law). */
export const ULAW_OVERLOAD_DBM0 = 3.17;
/** Peak amplitude of a 0 dBm0 sine. */
export const DBM0_SINE_PEAK = ULAW_OVERLOAD_PEAK * Math.pow(10, -ULAW_OVERLOAD_DBM0 / 20);
/** RMS of a 0 dBm0 signal (any waveform). */
export const DBM0_RMS = DBM0_SINE_PEAK / Math.SQRT2;

/** Peak amplitude of a sine at `dbm0`. */
export function sinePeakForDbm0(dbm0: number): number {
  return DBM0_SINE_PEAK * Math.pow(10, dbm0 / 20);
}

/** RMS value of a signal at `dbm0`. */
export function rmsForDbm0(dbm0: number): number {
  return DBM0_RMS * Math.pow(10, dbm0 / 20);
}

/** Level in dBm0 of a signal with the given RMS (−Infinity for silence). */
export function dbm0ForRms(rms: number): number {
  return 20 * Math.log10(rms / DBM0_RMS);
}

/** Level in dBm0 of a mean power (mean of x², 16-bit linear units). */
export function dbm0ForMeanPower(meanPower: number): number {
  return 10 * Math.log10(meanPower / (DBM0_RMS * DBM0_RMS));
}

/**
 * What replaces masked customer audio on its way to an agent: silence, comfort noise, or a flat
 * (steady, single-frequency) masking tone. None of them has energy at the eight DTMF
 * frequencies worth measuring: noise is spread over 0-4 kHz (at -65 dBm0 in all, about -86 dBm0
 * in a 50 Hz bin), the tone sits at 400 Hz, 297 Hz below the lowest DTMF row (ITU-T Q.23).
 * State (noise generator, tone phase) carries across frames so the replacement is continuous.
 */
import { rmsForDbm0, sinePeakForDbm0 } from '../g711/dbm0.js';

const RAMP_LEN = 80;
/** Raised-cosine ramp: RAMP[k] for the k-th sample from a run's edge; RAMP[RAMP_LEN] = 1. */
const RAMP = Float64Array.from({ length: RAMP_LEN + 1 }, (_, k) => 0.5 - 0.5 * Math.cos((Math.PI * k) / RAMP_LEN));

export type MaskKind = 'silence' | 'noise' | 'tone';

export interface MaskSignalOptions {
  /** Comfort noise level, dBm0 (default -65). */
  noiseDbm0?: number;
  /** Masking tone frequency (default 400 Hz) and level (default -33 dBm0). */
  toneHz?: number;
  toneDbm0?: number;
}

export class MaskSignal {
  private seed = 0x9e3779b9;
  private phase = 0;
  private readonly noiseAmp: number;
  private readonly toneAmp: number;
  private readonly toneStep: number;

  constructor(
    readonly kind: MaskKind,
    opts: MaskSignalOptions = {},
  ) {
    // uniform noise on [-a, a] has RMS a / sqrt(3)
    this.noiseAmp = rmsForDbm0(opts.noiseDbm0 ?? -65) * Math.sqrt(3);
    this.toneAmp = sinePeakForDbm0(opts.toneDbm0 ?? -33);
    this.toneStep = (2 * Math.PI * (opts.toneHz ?? 400)) / 8000;
  }

  /**
   * Overwrite out[from .. to). `fadeIn` / `fadeOut`: the masked run starts / ends here, so the
   * replacement ramps (raised cosine, 10 ms: its spectral spread, about ±200 Hz, stays clear of 697 Hz) instead of switching on or off abruptly, which would
   * splatter energy across the band, DTMF frequencies included.
   */
  fill(out: Int16Array, from: number, to: number, fadeIn = false, fadeOut = false): void {
    if (this.kind === 'silence') {
      out.fill(0, from, to);
      return;
    }
    const noise = this.kind === 'noise';
    let s = this.seed;
    let p = this.phase;
    const a = noise ? this.noiseAmp : this.toneAmp;
    for (let i = from; i < to; i++) {
      let v: number;
      if (noise) {
        s ^= s << 13; // xorshift32 (Marsaglia 2003)
        s ^= s >>> 17;
        s ^= s << 5;
        v = ((s >>> 0) / 4294967296 - 0.5) * 2 * a;
      } else {
        v = a * Math.sin(p);
        p += this.toneStep;
      }
      const g = Math.min(fadeIn ? RAMP[Math.min(i - from, RAMP_LEN)]! : 1, fadeOut ? RAMP[Math.min(to - 1 - i, RAMP_LEN)]! : 1);
      out[i] = Math.round(v * g);
    }
    this.seed = s;
    this.phase = p % (2 * Math.PI);
  }
}

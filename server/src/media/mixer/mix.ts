/**
 * Mixing bus for one listener and one 20 ms frame: sources are summed in 32 bits, then limited
 * back to 16 bits with a soft knee, so a loud prompt over a loud agent does not wrap around or
 * clip hard. Below the knee (-2.5 dBFS, 24576) samples pass unchanged; above it the excess is
 * compressed by y = K + e / (1 + e / (32767 - K)), e = |x| - K: continuous, slope 1 at the knee,
 * monotonic, never beyond full scale. A single source is copied as is (already 16-bit).
 */
import { FRAME } from '../clock/frame.js';

const KNEE = 24576;
const HEADROOM = 32767 - KNEE;

/** The soft-knee limiter on one sample. */
export function softLimit(x: number): number {
  if (x > KNEE) {
    const e = x - KNEE;
    return Math.round(KNEE + e / (1 + e / HEADROOM));
  }
  if (x < -KNEE) {
    const e = -x - KNEE;
    return -Math.round(KNEE + e / (1 + e / HEADROOM));
  }
  return x;
}

export class MixBus {
  private readonly acc = new Int32Array(FRAME);
  private first: Int16Array | null = null;
  private sources = 0;

  /** Start a new frame. */
  clear(): void {
    this.sources = 0;
    this.first = null;
  }

  get count(): number {
    return this.sources;
  }

  add(src: Int16Array): void {
    const acc = this.acc;
    if (this.sources === 0) {
      this.first = src;
    } else {
      if (this.sources === 1) {
        const f = this.first!;
        for (let i = 0; i < FRAME; i++) acc[i] = f[i]!;
      }
      for (let i = 0; i < FRAME; i++) acc[i]! += src[i]!;
    }
    this.sources++;
  }

  /** The mixed frame into out[0..160). */
  render(out: Int16Array): void {
    if (this.sources === 0) {
      out.fill(0, 0, FRAME);
      return;
    }
    if (this.sources === 1) {
      out.set(this.first!);
      return;
    }
    const acc = this.acc;
    for (let i = 0; i < FRAME; i++) {
      const x = acc[i]!;
      out[i] = x > KNEE || x < -KNEE ? softLimit(x) : x;
    }
  }
}

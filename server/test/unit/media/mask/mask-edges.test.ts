/**
 * The masking signal never switches on abruptly (docs/architecture.md, zero bleed): a masked run
 * that ended a frame with a fade-out, because no mask was known beyond it then, must fade in again
 * when a mask learnt later (a digit confirmed after that frame was played, an RFC 4733 event) covers
 * the next frame. A jump from the faded-out tail to the full-level tone splatters energy across the
 * band, DTMF frequencies included.
 */
import { describe, expect, it } from 'vitest';
import { DtmfGuard } from '../../../../src/media/mask/dtmf-guard.js';
import { MaskSignal } from '../../../../src/media/mask/mask-signal.js';
import { sinePeakForDbm0 } from '../../../../src/media/g711/dbm0.js';
import { dtmfResidual } from '../helpers/residual.js';

const FRAME = 160;
const PEAK = sinePeakForDbm0(-33); // the masking tone's default level

/** Frames of customer silence through the guard; `before(n)` runs ahead of frame n's apply. */
function frames(count: number, before: (n: number, g: DtmfGuard) => void): Int16Array {
  const g = new DtmfGuard(new MaskSignal('tone'), () => {});
  const out = new Int16Array(count * FRAME);
  for (let n = 0; n < count; n++) {
    before(n, g);
    g.apply(out, n * FRAME, n * FRAME, FRAME, Number.POSITIVE_INFINITY);
  }
  return out;
}

/** Largest step between neighbouring samples in out[from .. to). */
function maxStep(out: Int16Array, from: number, to: number): number {
  let m = 0;
  for (let i = from + 1; i < to; i++) m = Math.max(m, Math.abs(out[i]! - out[i - 1]!));
  return m;
}

describe('mask edges with the masking tone', () => {
  // A 400 Hz sine at PEAK moves at most PEAK * 2π * 400 / 8000 ≈ 0.31 PEAK per sample.
  const SMOOTH = 0.35 * PEAK;

  it.each([
    // (rfcStart(p) masks from p - 80; rfcEnd(p) before any analysis ends the mask at p + 160.)
    // The first runs are 153 and 147 samples long, so the tone's phase at the frame's end is not 0.
    ['an RFC 4733 event that starts right after a masked run ended with the frame', (n: number, g: DtmfGuard) => {
      if (n === 1) { g.rfcStart(FRAME + 87); g.rfcEnd(FRAME); } // [167, 320): ends with frame 1
      if (n === 2) g.rfcStart(2 * FRAME + 80); // learnt after frame 1 was played; from 320 on
      if (n === 4) g.rfcEnd(4 * FRAME);
    }],
    ['a second event learnt one frame late, while the first one faded out', (n: number, g: DtmfGuard) => {
      if (n === 0) { g.rfcStart(93); g.rfcEnd(0); } // [13, 160)
      if (n === 1) { g.rfcStart(FRAME + 80); g.rfcEnd(FRAME); } // [160, 320), merged with the first
    }],
  ])('%s: the tone fades in again, no jump', (_name, before) => {
    const out = frames(6, before);
    expect(Math.max(...out.map(Math.abs))).toBeGreaterThan(0.9 * PEAK); // the tone did play
    expect(maxStep(out, 0, out.length)).toBeLessThan(SMOOTH);
    expect(dtmfResidual(out).maxDbm0).toBeLessThan(-55);
  });

  it('a run that goes on into the next frame is not faded in the middle', () => {
    const out = frames(4, (n, g) => {
      if (n === 0) g.rfcStart(80); // open-ended from 0
      if (n === 3) g.rfcEnd(3 * FRAME - 160);
    });
    // Full level across the boundary between frames 1 and 2 (no fade-out / fade-in dip).
    let m = 0;
    for (let i = 2 * FRAME - 20; i < 2 * FRAME + 20; i++) m = Math.max(m, Math.abs(out[i]!));
    expect(m).toBeGreaterThan(0.9 * PEAK);
    expect(maxStep(out, 0, out.length)).toBeLessThan(SMOOTH);
    expect(dtmfResidual(out).maxDbm0).toBeLessThan(-55);
  });
});

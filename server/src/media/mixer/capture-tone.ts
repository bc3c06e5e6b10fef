/**
 * The soft capture tone an agent may hear while the customer keys card data: a 480 Hz beep of
 * 200 ms every 2 s at -30 dBm0 with 10 ms raised-cosine ramps. One frequency only, far from the
 * DTMF pairs (ITU-T Q.23), so it can neither carry nor imitate a digit.
 */
import { FRAME, SAMPLE_RATE } from '../clock/frame.js';
import { sinePeakForDbm0 } from '../g711/dbm0.js';

const HZ = 480;
const ON = 0.2 * SAMPLE_RATE;
const PERIOD = 2 * SAMPLE_RATE;
const RAMP = 80;
const AMP = sinePeakForDbm0(-30);
const STEP = (2 * Math.PI * HZ) / SAMPLE_RATE;

export class CaptureTone {
  private n = 0;

  /** The next 20 ms into out[0..160). */
  render(out: Int16Array): void {
    for (let i = 0; i < FRAME; i++) {
      const k = (this.n + i) % PERIOD;
      if (k >= ON) {
        out[i] = 0;
        continue;
      }
      const edge = Math.min(k, ON - 1 - k);
      const g = edge >= RAMP ? 1 : 0.5 - 0.5 * Math.cos((Math.PI * edge) / RAMP);
      out[i] = Math.round(AMP * g * Math.sin(STEP * k));
    }
    this.n = (this.n + FRAME) % PERIOD;
  }

  reset(): void {
    this.n = 0;
  }
}

/**
 * A card number keyed in-band while the customer's stream stops for tens of ms and then comes as
 * a burst (the sender, the network or the media worker's thread held up). Before the playout
 * buffer waited longer inside a tone (docs/architecture.md, "A digit's path"), a hold-up of 60 ms
 * or more that began in the middle of an 80 ms key put zeros into the tone, and the detector
 * heard the key twice: 16 of 130 start positions gave a 17-digit card number. Every position and
 * hold-up from 30 to 180 ms must give the 16 digits, and masking must still leave no DTMF.
 */
import { describe, expect, it } from 'vitest';
import { addWhiteNoise, channel, concat, dtmfSignal, silence } from '../../../../devtools/dsp/generator.js';
import { spandspDetect } from '../../../../devtools/dsp/spandsp.js';
import { dtmfResidual } from '../helpers/residual.js';
import { throughGuard } from '../helpers/simulate.js';

const PAN = '4111111111111111';
const pcm = channel(addWhiteNoise(concat(silence(200), dtmfSignal(PAN, { lowDbm0: -10, onMs: 80, offMs: 80 }), silence(400)), -60, 5));
const PACKETS = Math.ceil(pcm.length / 160);
/** Packets k0 .. k0 + ceil(holdMs / 20) - 1 wait and arrive together with the one after them. */
const holdUp = (k0: number, holdMs: number) => (k: number) => (k >= k0 && k < k0 + Math.ceil(holdMs / 20) ? holdMs - 20 * (k - k0) : 0);

describe('in-band keys through a stream that stalls and bursts', () => {
  it.each([30, 45, 60, 100, 180])('a %i ms hold-up at any packet of the card number neither doubles nor loses a key', (holdMs) => {
    const wrong: string[] = [];
    for (let k0 = 8; k0 < PACKETS - 20; k0++) {
      const run = throughGuard(pcm, { delay: holdUp(k0, holdMs) });
      const got = run.digits.map((d) => d.digit).join('');
      if (got !== PAN) wrong.push(`at packet ${k0}: ${got.length} digits`);
    }
    expect(wrong).toEqual([]);
  });

  it('masking still leaves no DTMF in what the agent hears, wherever in a key the hold-up begins', () => {
    // Packets 10-13 hold the first key ('4'); 14-17 its pause; one start per packet of a key cycle.
    for (let k0 = 10; k0 < 18; k0++) {
      const run = throughGuard(pcm, { delay: holdUp(k0, 100) });
      expect(run.buffer.stats.stalls).toBeGreaterThan(0); // the hold-up happened
      expect(spandspDetect(run.out).digits).toBe('');
      expect(dtmfResidual(run.out).maxDbm0).toBeLessThan(-55);
      expect(run.guard.stats.unsafeSamples).toBe(0);
    }
  });
});

/**
 * One key press, one digit: a phone may send the same key both as RFC 4733 events and as
 * in-band tones (RFC 4733 §2.6 lets senders keep the tone in the audio). Both are placed on the
 * leg's timeline (the RTP timestamp of the event start, RFC 4733 §2.5.1.2, and the detector's
 * start estimate), and a digit is dropped when the same digit came by the other transport with
 * a start within 30 ms. Two presses of one key are at least 80 ms apart (40 ms tone + 40 ms
 * pause, ITU-T Q.24), so they never merge.
 */
export type DigitTransport = 'rfc4733' | 'inband';

const WINDOW = 240; // samples, 30 ms
const HISTORY = 8;

export class DigitDeduper {
  private readonly digit: string[] = new Array<string>(HISTORY).fill('');
  private readonly start = new Float64Array(HISTORY);
  private readonly transport: DigitTransport[] = new Array<DigitTransport>(HISTORY).fill('inband');
  private n = 0;
  duplicates = 0;

  /** True if this digit is new (report it); false if it repeats one from the other transport. */
  accept(digit: string, transport: DigitTransport, startPos: number): boolean {
    const count = Math.min(this.n, HISTORY);
    for (let k = 0; k < count; k++) {
      if (this.digit[k] === digit && this.transport[k] !== transport && Math.abs(this.start[k]! - startPos) <= WINDOW) {
        this.digit[k] = ''; // matched once: a third report would be a new press
        this.duplicates++;
        return false;
      }
    }
    const i = this.n++ % HISTORY;
    this.digit[i] = digit;
    this.start[i] = startPos;
    this.transport[i] = transport;
    return true;
  }

  reset(): void {
    this.digit.fill('');
    this.n = 0;
  }
}

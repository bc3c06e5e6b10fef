import type { CaptureInputs, CaptureMode, CapturePort } from '../../capture/port.js';
import type { PromptSpec } from '../../capture/prompts.js';
import type { Bridge, DigitEvent } from '../../media/plane.js';
import type { Logger } from '../../observability/logger.js';
import type { Outcome } from '../../store/index.js';
import { clipsFor } from './prompt-clips.js';

export interface BridgeCapturePortOptions {
  readonly bridge: Bridge;
  /** The bridge leg the customer is on: prompts play to it, its digits feed the capture. */
  readonly customerLeg: string;
  readonly log: Logger;
  /** The capture fed by this port (set once the session exists). */
  readonly inputs: () => CaptureInputs | undefined;
  /** The bridge could not take `capture` mode: the agent might hear the card, so the run must end. */
  readonly onMuteFailed: (err: unknown) => void;
  /** CapturePort.end: the run's end-of-run strategy. */
  readonly onEnd: (outcome: Outcome) => void;
  /** The clip ids of the languages of recorded prompts (recorded-languages.ts). */
  readonly recordedClips?: ReadonlySet<string>;
}

/**
 * The one {@link CapturePort} of every payment run: a capture on the customer leg of a media-plane
 * bridge (docs/architecture.md, "A digit's path").
 *
 * Barge-in is decided in the media worker alone: a digit from the customer ends the prompt playing
 * to them if it allowed barge-in, and the digit arrives here marked `barged`. Capture then asks to
 * stop the prompt (type-ahead); the port sends that command down only for a prompt it knows still
 * plays (one started after the digit, or a digit the worker never saw: SIP INFO, or one that
 * crossed the play request on its way up).
 */
export class BridgeCapturePort implements CapturePort {
  readonly #o: BridgeCapturePortOptions;
  /** Token of the prompt playing as far as the port knows; undefined when none is. */
  #playing: number | undefined;

  constructor(o: BridgeCapturePortOptions) {
    this.#o = o;
  }

  /** A customer digit from the bridge, before it is handed to the capture. */
  noteDigit(d: Pick<DigitEvent, 'barged'>): void {
    if (d.barged) this.#playing = undefined;
  }

  play(spec: PromptSpec): void {
    const { bridge, customerLeg, log } = this.#o;
    this.#playing = spec.token;
    const clips = clipsFor(spec, this.#o.recordedClips);
    // Clip ids only (the catalogue never speaks card data back: capture/prompts.ts).
    log.debug({ clips }, 'prompt clips');
    bridge.play(customerLeg, clips.map((id) => ({ id })), { bargeIn: spec.bargeIn }).then(
      (r) => {
        if (this.#playing === spec.token) this.#playing = undefined;
        if (r === 'done') this.#o.inputs()?.onPromptDone(spec.token);
      },
      (err: unknown) => {
        // A missing clip must not stall the payment: the customer keys on, the flow goes on.
        if (this.#playing === spec.token) this.#playing = undefined;
        log.warn({ err }, 'prompt could not be played');
        this.#o.inputs()?.onPromptDone(spec.token);
      },
    );
  }

  stopPrompt(): void {
    if (this.#playing === undefined) return; // the worker already cut it (barge-in) or it ended
    this.#playing = undefined;
    this.#o.bridge.stopPrompts(this.#o.customerLeg).catch(() => {});
  }

  setMode(mode: CaptureMode): void {
    this.#o.bridge.setMode(mode).catch((err: unknown) => {
      // Never leave the agent able to hear a card: without the capture mode, the run ends.
      if (mode === 'capture') this.#o.onMuteFailed(err);
      else this.#o.log.warn({ err }, 'the bridge could not go back to normal mode');
    });
  }

  end(outcome: Outcome): void {
    this.#o.onEnd(outcome);
  }
}

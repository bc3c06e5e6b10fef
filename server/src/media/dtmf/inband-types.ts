/** Events, options and counters of the in-band detector (goertzel.ts). */
import type { DtmfDigit } from './events.js';

export interface InbandDigit {
  digit: DtmfDigit;
  /** Estimated first sample of the tone (absolute sample index since the detector started). */
  startSample: number;
  /** Sample index at which the digit was confirmed (end of the confirming block). */
  detectedAtSample: number;
  rowDbm0: number;
  colDbm0: number;
}

export interface InbandDigitEnd {
  digit: DtmfDigit;
  startSample: number;
  /** One past the last sample of the last block that still held the tone. */
  endSample: number;
  durationMs: number;
}

export interface GoertzelDetectorOptions {
  onDigit(d: InbandDigit): void;
  onEnd?(d: InbandDigitEnd): void;
  /** Minimum level per tone (after offset correction). Default -38 dBm0. */
  minLevelDbm0?: number;
  /** Row stronger than column by at most this (normal twist). Default 9 dB. */
  normalTwistDb?: number;
  /** Column stronger than row by at most this (reverse twist). Default 5 dB. */
  reverseTwistDb?: number;
  /**
   * Strongest row bin power / (N * block energy) under which a block's column filters are not
   * run (goertzel.ts). Default 0.125 / (1 + reverse twist): 0.030 at 5 dB, 4.4 dB below the
   * weakest accepted pair. 0 runs all eight filters on every block, the reference the screen is
   * tested against.
   */
  rowScreen?: number;
}

/** Why candidate pairs of blocks did not become digits (talk-off diagnostics). */
export interface GoertzelStats {
  blocks: number;
  /** Blocks that passed the single-block tests. */
  candidates: number;
  /** Two consecutive candidate blocks for the same key, rejected by: */
  rejectedFrequency: number;
  rejectedLevel: number;
  rejectedTwist: number;
  rejectedEnergy: number;
  digits: number;
}

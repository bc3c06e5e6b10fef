export {
  DTMF_DIGITS,
  DTMF_ROW_HZ,
  DTMF_COL_HZ,
  DTMF_KEYPAD,
  digitForEventCode,
  eventCodeForDigit,
  dtmfFrequencies,
  type DtmfDigit,
} from './events.js';
export {
  Rfc4733Receiver,
  type Rfc4733Digit,
  type Rfc4733End,
  type Rfc4733Start,
  type Rfc4733ReceiverOptions,
  type Rfc4733Stats,
} from './rfc4733.js';
export {
  GoertzelDtmfDetector,
  DECISION_LATENCY_SAMPLES,
} from './goertzel.js';
export type { InbandDigit, InbandDigitEnd, GoertzelDetectorOptions, GoertzelStats } from './inband-types.js';
export { dtmfEnergyHint, BLOCK_SIZE as DTMF_BLOCK_SIZE } from './tones.js';

export {
  ULAW_DECODE,
  ALAW_DECODE,
  ulawEncode,
  alawEncode,
  ulawDecode,
  alawDecode,
  decodeUlaw,
  decodeAlaw,
  encodeUlaw,
  encodeAlaw,
} from './g711.js';
export { ULAW_TO_ALAW, ALAW_TO_ULAW, ulawToAlaw, alawToUlaw, transcode, type G711Law } from './transcode.js';
export {
  ULAW_OVERLOAD_PEAK,
  ULAW_OVERLOAD_DBM0,
  DBM0_SINE_PEAK,
  DBM0_RMS,
  sinePeakForDbm0,
  rmsForDbm0,
  dbm0ForRms,
  dbm0ForMeanPower,
} from './dbm0.js';

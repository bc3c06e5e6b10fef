/** The agent WebRTC leg (werift): browser DTLS-SRTP audio <-> plain RTP for the media plane. */
export { WebRtcLeg } from './leg.js';
export { isWebRtcSdp, restrictAudioCodecs, filterCandidates, isSdpEditError, type SdpEditError } from './sdp-filter.js';
export { DEFAULT_PLAIN_PAYLOAD_TYPES, type PayloadTypes, type PlainPayloadTypes } from './rtp-rewrite.js';
export { WebRtcError, type PlainAddress, type PlainTarget, type WebRtcErrorCode, type WebRtcLegEvents, type WebRtcLegOptions, type WebRtcLegState, type WebRtcLegStats, type WebRtcLogger } from './types.js';

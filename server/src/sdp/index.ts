/** Offer/answer for the B2BUA's plain-RTP legs: PCMU, PCMA, telephone-event (RFC 3264, 4566, 4733). */
export * from './types.js';
export { parseSdp } from './parse.js';
export { negotiate, reverseDirection, intersectDirections, effectiveDirection, matchesSupported, type Negotiated } from './negotiate.js';
export { SdpSession, AUDIO_PROTOCOL, type AudioSection, type Layout, type SdpSessionOptions } from './session.js';
export {
  rewriteOffer, rewriteAnswer, answerOffer,
  type Anchor, type RewriteOptions, type SrtpKeys, type PendingSrtp, type MediaTarget, type RewrittenOffer, type RewrittenAnswer,
} from './rewrite.js';
export {
  negotiateSrtp, srtpPolicyFor, acceptAnswerCrypto, parseCryptoAttribute, formatCryptoAttribute, newSdesKey, isSrtpPolicy,
  SDES_SUITES, SAVP, AVP, type SdesKey, type SdesSuiteName, type SrtpPolicy, type SrtpDecision,
} from './crypto.js';

import { isSdpError, negotiate, negotiateSrtp, parseSdp, type SrtpPolicy } from '../sdp/index.js';
import { isWebRtcSdp } from '../webrtc/index.js';

/**
 * The caller's SDP offer, judged at the entry of INVITE handling, before any agent is rung or any
 * media port is taken (RFC 3261 21.4.26: 488 Not Acceptable Here, with a Warning that says why,
 * RFC 3261 20.43). Pure: no state, no I/O.
 *
 * - A browser (WebRTC: DTLS-SRTP with ICE, RFC 8829 5.1.2, RFC 8839) goes to the WebRTC leg when
 *   the entry takes browsers.
 * - DTLS-SRTP without ICE (`UDP/TLS/RTP/SAVP`, a SIP phone's dtls_srtp, RFC 5763/5764) is not a
 *   browser: the WebRTC stack cannot answer it, and the plain leg cannot either. 488, warn-code 302.
 * - Otherwise the plain leg must be able to answer: `RTP/AVP` (RFC 3551) and a common codec
 *   (PCMU/PCMA, RFC 3264 6), or `RTP/SAVP` with an acceptable `a=crypto` (SDES, RFC 4568) where
 *   the SRTP policy for the offer's media address allows it (sdp/crypto.ts negotiateSrtp); a plain
 *   offer where SRTP is required, or SAVP where it is off, is 488 with warn-code 302.
 */
export type OfferVerdict =
  | { ok: true; kind: 'plain' | 'webrtc' }
  /** `code`: RFC 3261 20.43 warn-code (302 transport, 304 media type, 305 format, 399 other). */
  | { ok: false; status: 400 | 488; code: 302 | 304 | 305 | 399; text: string };

export interface OfferCheckOptions {
  /** The entry has a WebRTC leg for browsers (bridged calls); payment calls answer SIP RTP only. */
  webrtc: boolean;
  /** SRTP policy for a media peer at this address (the SRTP setting); default `off`. */
  srtpPolicy?: (peerAddress: string) => SrtpPolicy;
}

const ICE_UFRAG = /^a=ice-ufrag:\S+/im;

/** RFC 3261 20.43: `Warning: code agent "text"` (quoted-string: `"` and `\` escaped). */
export function offerWarning(v: { code: number; text: string }, agent = 'tonegate'): string {
  const text = v.text.replace(/[\r\n]/g, ' ').replace(/["\\]/g, (c) => `\\${c}`);
  return `Warning: ${v.code} ${agent} "${text}"`;
}

export function checkCallerOffer(body: string, opts: OfferCheckOptions): OfferVerdict {
  if (isWebRtcSdp(body)) {
    if (!ICE_UFRAG.test(body)) {
      return refuse(488, 302, 'DTLS-SRTP without ICE is not supported (only browsers use DTLS-SRTP here): offer RTP/AVP');
    }
    if (!opts.webrtc) return refuse(488, 302, 'a browser (WebRTC) offer is not taken on this entry: offer RTP/AVP');
    return { ok: true, kind: 'webrtc' };
  }
  const sdp = parseSdp(body);
  if (isSdpError(sdp)) return refuse(sdp.status === 400 ? 400 : 488, 399, sdp.error);
  const srtp = negotiateSrtp(sdp, opts.srtpPolicy?.(sdp.address) ?? 'off');
  if (srtp.action === 'refuse') return refuse(488, 302, srtp.error.error);
  const n = negotiate(sdp);
  if (isSdpError(n)) return refuse(488, sdp.rejected ? 304 : 305, n.error);
  return { ok: true, kind: 'plain' };
}

function refuse(status: 400 | 488, code: 302 | 304 | 305 | 399, text: string): OfferVerdict {
  return { ok: false, status, code, text };
}

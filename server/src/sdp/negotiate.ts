/**
 * Codec choice and direction arithmetic for offer/answer (RFC 3264 §5, §6).
 */
import { parseSdp } from './parse.js';
import {
  DEFAULT_PTIME, SUPPORTED_CODECS,
  type Codec, type Direction, type ParsedSdp, type SdpError, type SupportedCodec, type TelephoneEvent,
} from './types.js';

export interface Negotiated {
  /** The first offered codec we support, with the offerer's payload type (RFC 3264 §6.1). */
  codec: Codec;
  telephoneEvent: TelephoneEvent | null;
  /** Offered a=ptime, else 20 ms for G.711 (RFC 3551 §4.5). */
  ptime: number;
  /** The direction the answer must carry: the offer's reversed (RFC 3264 §6.1). */
  answerDirection: Direction;
}

const sends = (d: Direction): boolean => d === 'sendrecv' || d === 'sendonly';
const receives = (d: Direction): boolean => d === 'sendrecv' || d === 'recvonly';
const fromFlags = (send: boolean, recv: boolean): Direction =>
  send ? (recv ? 'sendrecv' : 'sendonly') : recv ? 'recvonly' : 'inactive';

/** RFC 3264 §6.1: sendonly is answered recvonly and vice versa; sendrecv and inactive stay. */
export function reverseDirection(d: Direction): Direction {
  return fromFlags(receives(d), sends(d));
}

/** The narrower of two directions seen from the same side: both must allow send / receive. */
export function intersectDirections(a: Direction, b: Direction): Direction {
  return fromFlags(sends(a) && sends(b), receives(a) && receives(b));
}

/**
 * The direction a stream really has: c=0.0.0.0 (RFC 2543 hold, RFC 3264 §8.4) means "do not send
 * to me", so the receive half is removed (sendrecv -> sendonly, recvonly -> inactive).
 */
export function effectiveDirection(sdp: ParsedSdp): Direction {
  return sdp.nullAddress ? fromFlags(sends(sdp.direction), false) : sdp.direction;
}

export function matchesSupported(codec: Codec, supported: readonly SupportedCodec[]): boolean {
  // RFC 4855 §3: media subtype names are case-insensitive. G.711 is mono only (RFC 3551 §4.5.14).
  return codec.channels === 1 &&
    supported.some((s) => s.name.toLowerCase() === codec.name.toLowerCase() && s.rate === codec.rate);
}

/**
 * Pick what to answer an offer with: the first supported codec in the offerer's order (RFC 3264
 * §5.1: the m-line's format order is the offerer's preference). No common codec, a rejected or
 * unusable audio stream: 488 Not Acceptable Here (RFC 3261 §21.4.26, RFC 3264 §6).
 */
export function negotiate(
  offer: string | ParsedSdp,
  supported: readonly SupportedCodec[] = SUPPORTED_CODECS,
): Negotiated | SdpError {
  const sdp = typeof offer === 'string' ? parseSdp(offer) : offer;
  if ('error' in sdp) return sdp;
  if (sdp.rejected) return { error: 'the audio stream is disabled (port 0)', status: 488 };
  const codec = sdp.codecs.find((c) => matchesSupported(c, supported));
  if (!codec) {
    const offered = sdp.codecs.map((c) => `${c.pt}${c.name ? ` ${c.name}/${c.rate}` : ''}`).join(', ');
    const ours = supported.map((s) => `${s.name}/${s.rate}`).join(', ');
    return { error: `no common codec: offered [${offered}], supported [${ours}]`, status: 488 };
  }
  return {
    codec,
    telephoneEvent: sdp.telephoneEvent,
    ptime: sdp.ptime ?? DEFAULT_PTIME,
    answerDirection: reverseDirection(effectiveDirection(sdp)),
  };
}

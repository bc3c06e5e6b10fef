/**
 * The B2BUA's SDP rewriting: what one leg offered becomes the gateway's own offer to the other leg,
 * and the other leg's answer becomes the gateway's answer to the offerer. Media is anchored at the
 * gateway, so every SDP we send carries our o= (per-leg SdpSession), our c= and our RTP port.
 *
 * Policy choices:
 * - Only PCMU/PCMA in the offerer's order (RFC 3264 §5.1), plus telephone-event/8000 (RFC 4733).
 *   If the offer had no telephone-event we add PT 101 to the other leg anyway: the media plane
 *   detects DTMF from RFC 4733 events or in-band tones and can generate either, so offering events
 *   costs nothing and gets us the most reliable DTMF transport the peer has.
 * - The offer to the other leg carries only the audio m-line (plus, on re-offers, any m-lines that
 *   leg's session already had, disabled with port 0, RFC 3264 §8.2). That leg is a separate session:
 *   announcing streams we would refuse anyway has "no useful semantics in an initial offer" (RFC 3264
 *   §5.1). Answers mirror the offer's m-lines exactly, non-audio ones with port 0 (RFC 3264 §6).
 * - Hold (a=sendonly/inactive, or RFC 2543 c=0.0.0.0) is relayed as a direction attribute with our
 *   real address (RFC 3264 §8.4 recommends direction over 0.0.0.0).
 * - No transcoding: the answer to the offerer names the one codec the other leg chose, so both legs
 *   send the same payload and the relay forwards bytes unchanged.
 */
import { acceptAnswerCrypto, AVP, SAVP, negotiateSrtp, newSdesKey, type SdesKey, type SrtpPolicy } from './crypto.js';
import { effectiveDirection, intersectDirections, matchesSupported, negotiate, reverseDirection } from './negotiate.js';
import { parseSdp } from './parse.js';
import { AUDIO_PROTOCOL, type SdpSession } from './session.js';
import {
  DEFAULT_TELEPHONE_EVENTS, DEFAULT_TELEPHONE_EVENT_PT, SUPPORTED_CODECS,
  type Codec, type Direction, type ParsedSdp, type SdpError, type SupportedCodec, type TelephoneEvent,
} from './types.js';

/** The gateway's media endpoint on one leg and that leg's SDP session. */
export interface Anchor {
  address: string;
  port: number;
  session: SdpSession;
}

export interface RewriteOptions {
  supported?: readonly SupportedCodec[];
  /** PT for telephone-event when we add it (default 101); a dynamic PT 96-127 (RFC 3551 §6). */
  telephoneEventPt?: number;
  /** Override a=ptime (ms) in what we send. */
  ptime?: number;
  /** SRTP policy for the offer being handled (default `off`: plain RTP only, as before SRTP). */
  srtp?: SrtpPolicy;
}

/** One SIP leg's SDES keys: ours protects what we send, the peer's unprotects what we receive. */
export interface SrtpKeys {
  local: SdesKey;
  remote: SdesKey;
}

/** SRTP state between rewriteOffer() and rewriteAnswer(). */
export interface PendingSrtp {
  /** The offerer's leg: its key and the one we will answer with; null when it offered plain RTP. */
  offerer: SrtpKeys | null;
  /** Our key in the offer to the other leg; null when we offered plain RTP. */
  offered: SdesKey | null;
}

/** Where a peer wants media: null when it gave none (RFC 2543 hold, or ICE 0.0.0.0 before candidates). */
export interface MediaTarget {
  address: string;
  port: number;
  rtcpPort: number;
}

export interface RewrittenOffer {
  sdp: string;
  /** The offerer's media destination, for the relay's leg (setRemote). */
  remote: MediaTarget | null;
  /** Audio codecs offered to the other leg, in the offerer's order. */
  codecs: Codec[];
  telephoneEvent: TelephoneEvent;
  /** True when the offerer had no telephone-event/8000 and we added it. */
  telephoneEventAdded: boolean;
  direction: Direction;
  hold: boolean;
  srtp: PendingSrtp;
}

export interface RewrittenAnswer {
  sdp: string;
  /** The answerer's media destination (the peer whose SDP was the input). */
  remote: MediaTarget | null;
  /** The one codec in use on both legs, with the offerer's payload type. */
  codec: Codec;
  /** telephone-event in the SDP we send (the offerer's), or null if it offered none. */
  telephoneEvent: TelephoneEvent | null;
  /** telephone-event the answering peer accepted (RewrittenAnswer from rewriteAnswer only). */
  peerTelephoneEvent: TelephoneEvent | null;
  ptime: number | null;
  direction: Direction;
  hold: boolean;
  /** SRTP keys of the leg the answer goes to (the offerer), or null for plain RTP. */
  srtp: SrtpKeys | null;
  /** SRTP keys of the answering peer's leg (rewriteAnswer only), or null for plain RTP. */
  peerSrtp: SrtpKeys | null;
}

const unacceptable = (error: string): SdpError => ({ error, status: 488 });

function targetOf(sdp: ParsedSdp): MediaTarget | null {
  if (sdp.nullAddress || sdp.rejected || (sdp.ice && sdp.address === '0.0.0.0')) return null;
  return { address: sdp.address, port: sdp.port, rtcpPort: sdp.rtcpPort };
}

function parsed(sdp: string | ParsedSdp): ParsedSdp | SdpError {
  return typeof sdp === 'string' ? parseSdp(sdp) : sdp;
}

function pickTelephoneEventPt(wanted: number, taken: readonly Codec[]): number {
  const used = new Set(taken.map((c) => c.pt));
  if (!used.has(wanted)) return wanted;
  for (let pt = 96; pt <= 127; pt++) if (!used.has(pt)) return pt;
  return wanted; // unreachable with at most a handful of kept codecs
}

function teCodec(te: TelephoneEvent): Codec {
  return { pt: te.pt, name: 'telephone-event', rate: 8000, channels: 1, fmtp: te.events };
}

/** RFC 3264 §5.1, §8: the gateway's offer to the other leg, built from what this leg offered. */
export function rewriteOffer(offer: string | ParsedSdp, anchor: Anchor, opts: RewriteOptions = {}): RewrittenOffer | SdpError {
  const sdp = parsed(offer);
  if ('error' in sdp) return sdp;
  const supported = opts.supported ?? SUPPORTED_CODECS;
  const n = negotiate(sdp, supported); // 488 for a disabled stream or no common codec
  if ('error' in n) return n;
  const policy = opts.srtp ?? 'off';
  // Other transports (a WebRTC offer seen here) are refused at the answer, in rewriteAnswer().
  const decision = sdp.protocol === AVP || sdp.protocol === SAVP ? negotiateSrtp(sdp, policy) : { action: 'plain' as const };
  if (decision.action === 'refuse') return decision.error;
  const offerer = decision.action === 'srtp' ? { remote: decision.remote, local: newSdesKey(decision.remote.suite, decision.remote.tag) } : null;
  // SAVP towards the other leg: always when required; with `offer`, when the offerer's leg is SRTP.
  const offered = policy === 'required' || (policy === 'offer' && offerer) ? newSdesKey('AES_CM_128_HMAC_SHA1_80', 1) : null;
  const codecs = sdp.codecs.filter((c) => matchesSupported(c, supported));
  const telephoneEvent = sdp.telephoneEvent ??
    { pt: pickTelephoneEventPt(opts.telephoneEventPt ?? DEFAULT_TELEPHONE_EVENT_PT, codecs), events: DEFAULT_TELEPHONE_EVENTS };
  const direction = effectiveDirection(sdp);
  const text = anchor.session.render(
    { port: anchor.port, codecs: [...codecs, teCodec(telephoneEvent)], ptime: opts.ptime ?? sdp.ptime, direction, crypto: offered },
    anchor.address,
  );
  return {
    sdp: text, remote: targetOf(sdp), codecs, telephoneEvent,
    telephoneEventAdded: sdp.telephoneEvent === null, direction, hold: direction !== 'sendrecv',
    srtp: { offerer, offered },
  };
}

/**
 * RFC 3264 §6: the gateway's answer to the original offerer, built from the other leg's answer to
 * our rewritten offer. Same m-line count and order as `offer`; audio carries the codec the other
 * leg chose, mapped to the offerer's payload type; non-audio streams are rejected with port 0.
 * An error (488) means the other leg's answer is unusable: fail the call towards the offerer.
 */
export function rewriteAnswer(
  answer: string | ParsedSdp, offer: string | ParsedSdp, anchor: Anchor, opts: RewriteOptions & { pendingSrtp?: PendingSrtp } = {},
): RewrittenAnswer | SdpError {
  const ans = parsed(answer);
  if ('error' in ans) return ans;
  const off = parsed(offer);
  if ('error' in off) return off;
  const pending = opts.pendingSrtp ?? { offerer: null, offered: null };
  if (!pending.offerer && off.protocol !== AUDIO_PROTOCOL) return unacceptable(`unsupported transport ${off.protocol} on this leg (plain ${AUDIO_PROTOCOL} only)`);
  if (ans.rejected) return unacceptable('the answerer rejected the audio stream (port 0)');
  let peerSrtp: SrtpKeys | null = null;
  if (pending.offered) {
    const k = acceptAnswerCrypto(ans, pending.offered);
    if ('error' in k) return k;
    peerSrtp = { local: pending.offered, remote: k };
  } else if (ans.protocol !== AVP) {
    return unacceptable(`the answer is ${ans.protocol} to our plain ${AVP} offer`);
  }
  const supported = opts.supported ?? SUPPORTED_CODECS;
  const same = (a: Codec, b: Codec): boolean => a.name.toLowerCase() === b.name.toLowerCase() && a.rate === b.rate;
  let codec: Codec | undefined;
  for (const c of ans.codecs) {
    if (!matchesSupported(c, supported)) continue;
    codec = off.codecs.find((o) => same(o, c));
    if (codec) break;
  }
  if (!codec) return unacceptable('the answer holds no codec that the offerer offered and we support');
  // The offerer's telephone-event is answered whatever the other leg did: DTMF from the offerer is
  // for the gateway (payment capture) as much as for the peer, and the media plane converts.
  const telephoneEvent = off.telephoneEvent;
  // Seen from the offerer: we may send what the answerer sends and receive what it receives,
  // within the reverse of what the offerer asked for (RFC 3264 §6.1).
  const direction = intersectDirections(effectiveDirection(ans), reverseDirection(effectiveDirection(off)));
  const ptime = opts.ptime ?? ans.ptime ?? off.ptime;
  const codecs = telephoneEvent ? [codec, teCodec(telephoneEvent)] : [codec];
  const text = anchor.session.render({ port: anchor.port, codecs, ptime, direction, crypto: pending.offerer?.local ?? null }, anchor.address, off);
  return {
    sdp: text, remote: targetOf(ans), codec, telephoneEvent, peerTelephoneEvent: ans.telephoneEvent,
    ptime, direction, hold: direction !== 'sendrecv', srtp: pending.offerer, peerSrtp,
  };
}

/**
 * The gateway answering an offer itself (media terminated here: prompts, capture), RFC 3264 §6.1:
 * the first supported codec in the offerer's order, its telephone-event if any, direction reversed.
 */
export function answerOffer(offer: string | ParsedSdp, anchor: Anchor, opts: RewriteOptions = {}): RewrittenAnswer | SdpError {
  const off = parsed(offer);
  if ('error' in off) return off;
  const decision = negotiateSrtp(off, opts.srtp ?? 'off');
  if (decision.action === 'refuse') return decision.error;
  const n = negotiate(off, opts.supported ?? SUPPORTED_CODECS);
  if ('error' in n) return n;
  const srtp = decision.action === 'srtp' ? { remote: decision.remote, local: newSdesKey(decision.remote.suite, decision.remote.tag) } : null;
  const codecs = n.telephoneEvent ? [n.codec, teCodec(n.telephoneEvent)] : [n.codec];
  const ptime = opts.ptime ?? off.ptime;
  const text = anchor.session.render({ port: anchor.port, codecs, ptime, direction: n.answerDirection, crypto: srtp?.local ?? null }, anchor.address, off);
  return {
    sdp: text, remote: targetOf(off), codec: n.codec, telephoneEvent: n.telephoneEvent, peerTelephoneEvent: n.telephoneEvent,
    ptime, direction: n.answerDirection, hold: n.answerDirection !== 'sendrecv', srtp, peerSrtp: null,
  };
}

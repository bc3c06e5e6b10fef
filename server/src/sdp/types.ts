/**
 * SDP types and codec policy for the B2BUA's plain-RTP legs.
 * RFC 4566 (SDP), RFC 3264 (offer/answer), RFC 3551 (static payload types), RFC 4733 (DTMF events).
 */

/** RFC 3264 §5.1 / RFC 4566 §6: a stream's direction. Absent means sendrecv. */
export type Direction = 'sendrecv' | 'sendonly' | 'recvonly' | 'inactive';

/** One payload format of an m-line: `a=rtpmap`, or the RFC 3551 §6 static table when absent. */
export interface Codec {
  pt: number;
  /** Encoding name as written (compare case-insensitively, RFC 4855 §3). '' when unknown. */
  name: string;
  rate: number;
  channels: number;
  fmtp?: string;
}

/** telephone-event/8000 (RFC 4733 §7.1.1). `events` is the fmtp list, `0-15` when absent. */
export interface TelephoneEvent {
  pt: number;
  events: string;
}

/** Shape of one m-line, enough to reproduce it rejected (port 0) in an answer (RFC 3264 §6). */
export interface MLine {
  type: string;
  port: number;
  protocol: string;
  formats: string;
}

/** The first audio stream of an SDP, with what the B2BUA needs of the rest. */
export interface ParsedSdp {
  origin: { username: string; sessionId: string; version: number; address: string };
  /** Effective connection address: media-level c= wins over session-level (RFC 4566 §5.7). */
  address: string;
  ipVersion: 4 | 6;
  port: number;
  /** RTCP port: `a=rtcp` (RFC 3605 §2.1) or RTP port + 1 (RFC 3550 §11). */
  rtcpPort: number;
  protocol: string;
  /** The audio m-line's `a=crypto` values (after "crypto:"), in the offerer's order (RFC 4568 §9.1). */
  crypto: string[];
  /** Port 0: the stream is rejected / disabled (RFC 3264 §5.1, §6). */
  rejected: boolean;
  /** Payload formats in the m-line's order, i.e. the offerer's preference (RFC 3264 §5.1). */
  codecs: Codec[];
  telephoneEvent: TelephoneEvent | null;
  /** `a=ptime` in ms (RFC 4566 §6), media level or session level. */
  ptime: number | null;
  /** Declared direction, media level over session level (RFC 3264 §5.1), default sendrecv. */
  direction: Direction;
  /**
   * c=0.0.0.0 without ICE: RFC 2543 hold ("do not send to me", RFC 3264 §8.4). A WebRTC offer also
   * carries 0.0.0.0 (port 9) before candidates (RFC 8839 §5.1), so ICE SDP never counts as this.
   */
  nullAddress: boolean;
  /** Held: direction sendonly/inactive, or nullAddress. */
  hold: boolean;
  /** `a=ice-ufrag` present (a WebRTC/ICE peer). */
  ice: boolean;
  /** Index of the audio stream among all m-lines. */
  audioIndex: number;
  /** Every m-line in order, the audio one included. */
  mlines: MLine[];
  /** Whether any m-line other than the chosen audio one exists (video, a second audio, ...). */
  hasOtherMedia: boolean;
}

export interface SdpError {
  error: string;
  /** SIP status the error maps to: 400 unparsable body, 488 Not Acceptable Here (RFC 3261 §21.4.26). */
  status: 400 | 488;
}

export function isSdpError<T extends object>(r: T | SdpError): r is SdpError {
  return 'error' in r && typeof (r as SdpError).error === 'string';
}

/** A codec we can relay and decode: matched by name (case-insensitive) and clock rate. */
export interface SupportedCodec {
  name: string;
  rate: number;
}

/** Policy: G.711 µ-law and A-law (RFC 3551 §4.5.14), PCMU preferred only by the offerer's order. */
export const SUPPORTED_CODECS: readonly SupportedCodec[] = [
  { name: 'PCMU', rate: 8000 },
  { name: 'PCMA', rate: 8000 },
];

/** RFC 3551 §6 Table 4: static audio payload types (used when an m-line has no a=rtpmap). */
export const STATIC_PAYLOAD_TYPES: Readonly<Record<number, { name: string; rate: number; channels?: number }>> = {
  0: { name: 'PCMU', rate: 8000 },
  3: { name: 'GSM', rate: 8000 },
  4: { name: 'G723', rate: 8000 },
  5: { name: 'DVI4', rate: 8000 },
  6: { name: 'DVI4', rate: 16000 },
  7: { name: 'LPC', rate: 8000 },
  8: { name: 'PCMA', rate: 8000 },
  9: { name: 'G722', rate: 8000 },
  10: { name: 'L16', rate: 44100, channels: 2 },
  11: { name: 'L16', rate: 44100 },
  12: { name: 'QCELP', rate: 8000 },
  13: { name: 'CN', rate: 8000 },
  14: { name: 'MPA', rate: 90000 },
  15: { name: 'G728', rate: 8000 },
  16: { name: 'DVI4', rate: 11025 },
  17: { name: 'DVI4', rate: 22050 },
  18: { name: 'G729', rate: 8000 },
};

/** PT we use when we add telephone-event ourselves (the common choice; any of 96-127 is valid, RFC 3551 §6). */
export const DEFAULT_TELEPHONE_EVENT_PT = 101;
/** RFC 4733 §7.1.1: with no fmtp, events 0-15 (the DTMF digits) are assumed. */
export const DEFAULT_TELEPHONE_EVENTS = '0-15';
/** RFC 3551 §4.5: default packetization for G.711 is 20 ms. */
export const DEFAULT_PTIME = 20;

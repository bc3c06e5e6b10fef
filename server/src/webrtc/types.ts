/** Public types of the WebRTC leg (options, events, statistics, errors). */
import type { PlainPayloadTypes } from './rtp-rewrite.js';

/** pino-compatible subset (the media plane's MediaLogger shape). */
export interface WebRtcLogger {
  debug(obj: object, msg: string): void;
  info(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
  error(obj: object, msg: string): void;
}

export interface WebRtcLegOptions {
  /**
   * Address of the ICE host candidate (RFC 8445 §5.1.1.1) and of the DTLS-SRTP socket: loopback in
   * tests, the gateway's public address in deployments. It must be a local interface address.
   */
  mediaAddress: string;
  /** Address of the plain RTP socket towards the media plane. Default: `mediaAddress`. */
  plainAddress?: string;
  /** Payload types the plain side (the plane's leg) is configured with. Default PCMU 0, telephone-event 101. */
  plainPayloadTypes?: PlainPayloadTypes;
  /** ICE + DTLS must be connected this long after the remote description is applied. Default 10000 ms. */
  connectTimeoutMs?: number;
  /** UDP port range for the ICE socket(s), e.g. the firewall's media range. Default: ephemeral. */
  icePortRange?: [number, number];
  /** Log context (e.g. the call id). */
  id?: string;
  logger?: WebRtcLogger;
}

/** Where something is sent or received on the plain side; `rtcpPort` = `port` (RFC 5761 mux). */
export interface PlainAddress {
  address: string;
  port: number;
  rtcpPort: number;
}

export interface PlainTarget {
  address: string;
  port: number;
}

/**
 * ```
 *  new --answer()--------------------------> connecting --ICE+DTLS up--> connected
 *   \--createOffer()--> offered --setAnswer()--/   \--timeout/failure--> failed --> closed
 *  any state --close()--> closed
 * ```
 */
export type WebRtcLegState = 'new' | 'offered' | 'connecting' | 'connected' | 'failed' | 'closed';

export type WebRtcLegEvents = {
  /** ICE and DTLS are up (RFC 5764 §4: SRTP keys exported); media flows both ways. */
  connected: () => void;
  /** Connect timeout, ICE/DTLS failure or the peer closed; `closed` follows. */
  failed: (reason: string) => void;
  /** The socket and the peer connection are released (after close() or a failure). */
  closed: (reason: string) => void;
};

export interface WebRtcLegStats {
  state: WebRtcLegState;
  /** Browser -> plain. */
  fromBrowser: { audio: number; telephoneEvents: number; otherPayloadType: number; noTarget: number; sendErrors: number };
  /** Plain -> browser. */
  toBrowser: {
    audio: number;
    /** Packets to `plainLocal` from anything but the plain target (dropped). */
    foreignSource: number;
    /** RTCP from the plane (dropped: werift reports to the browser itself). */
    rtcp: number;
    malformed: number;
    /** telephone-event from the plane: dropped (werift's sender only sends the first codec). */
    telephoneEvents: number;
    otherPayloadType: number;
    /** Audio before ICE/DTLS were up or after a failure (dropped). */
    notConnected: number;
    sendErrors: number;
  };
}

export type WebRtcErrorCode = 'BAD_SDP' | 'INVALID_STATE' | 'CLOSED' | 'NO_CANDIDATE';

/** A failed leg operation; `BAD_SDP` maps to SIP 488 Not Acceptable Here (RFC 3261 §21.4.26). */
export class WebRtcError extends Error {
  constructor(
    readonly code: WebRtcErrorCode,
    message: string,
  ) {
    super(message);
    this.name = 'WebRtcError';
  }
}

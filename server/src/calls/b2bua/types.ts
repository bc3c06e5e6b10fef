import type { Clock } from '../../lib/clock.js';
import type { Logger } from '../../observability/logger.js';
import type { SipStack } from '../../sip/stack.js';
import type { Bridge, DigitTransport } from '../../media/plane.js';
import type { Leg } from '../media-anchor.js';
import type { SrtpPolicy } from '../../sdp/index.js';

/** What a call needs from the gateway. */
export interface CallDeps {
  stack: SipStack;
  clock: Clock;
  logger: Logger;
  /** Address of the gateway's media (RTP, and WebRTC ICE host candidates). */
  mediaAddress: string;
  /** A media-plane bridge for the call (worker thread; its RTP ports come from the plane). */
  createBridge: (id: string) => Promise<Bridge>;
  ringTimeoutMs: number;
  /** SRTP policy (RFC 4568 SDES) for a SIP leg whose media peer is at `peerAddress`; default `off`. */
  srtpPolicy?: (peerAddress: string) => SrtpPolicy;
}

/**
 * A digit keyed on a leg: by SIP INFO (RFC 6086 legacy INFO, application/dtmf-relay or
 * application/dtmf) from the signalling, or by RFC 4733 / in-band tone from the media bridge.
 */
export interface LegDigit {
  leg: Leg;
  digit: string;
  durationMs: number | undefined;
  transport: 'info' | DigitTransport;
}

/** An in-dialog REFER (RFC 3515), handed up with its headers intact. */
export interface ReferRequest {
  leg: Leg;
  /** Refer-To as sent. */
  referTo: string;
  /** URI headers inside Refer-To, %-decoded (`<sip:pay@gw?X-Pay-Amount=1499.00>`). */
  referToHeaders: Record<string, string>;
  /** All X-* header fields of the REFER (name lower-cased -> value). */
  xHeaders: Record<string, string>;
  /**
   * Reports progress to the referrer as a NOTIFY with a message/sipfrag body (RFC 3515 2.4.5):
   * e.g. 100 Trying, then a final status which terminates the implicit subscription.
   */
  notify(status: number, reason?: string): void;
  /**
   * Refuses the REFER instead of the default 202 (e.g. 400 with a Warning naming a bad field);
   * only effective while the 'refer' event is being emitted. The call goes on untouched.
   */
  reject(status: number, warning?: string): void;
  /**
   * Takes the answer over, for checks that need I/O (a handoff code, a transaction lookup): the
   * REFER stays unanswered until `accept()` (202, then the first NOTIFY) or `reject()` is called
   * (the first call wins). Only while the 'refer' event is being emitted.
   */
  defer(): ReferDecision;
}

export interface ReferDecision {
  accept(): void;
  reject(status: number, warning?: string): void;
}

export interface CallEvents {
  /** State of the call changed. */
  state: (state: string) => void;
  digit: (d: LegDigit) => void;
  refer: (r: ReferRequest) => void;
  /** The agent left while an inline capture runs; the customer stays until it ends. */
  agentGone: () => void;
  ended: (reason: string) => void;
}

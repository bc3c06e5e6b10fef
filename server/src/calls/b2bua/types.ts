import type { Clock } from '../../lib/clock.js';
import type { SafeEmitter } from '../../lib/emitter.js';
import type { Dialog } from '../../sip/dialog/dialog.js';
import type { ServerTransaction } from '../../sip/transaction/index.js';
import type { SipFlow } from '../../sip/transport/types.js';
import type { CallEvent, CallState } from './call-state.js';
import type { Logger } from '../../observability/logger.js';
import type { SipStack } from '../../sip/stack.js';
import type { Bridge } from '../../media/plane.js';
import type { Leg, MediaAnchor } from '../media-anchor.js';
import type { SrtpPolicy } from '../../sdp/index.js';
import type { SessionTimerSettings } from '../../sip/dialog/session-timer.js';
import type { CallSessionTimers } from './session-timers.js';

/** Where the agent leg goes: a registered contact and the flow it registered on. */
export interface CallTarget {
  agentId: string;
  contactUri: string;
  flowId: string;
  /** The agent registered as a browser (Contact `+sip.ice`, RFC 5768): its media is WebRTC. */
  webrtc?: boolean;
  /** The binding's Path (RFC 3327 5.5): the INVITE's Route set, sent to its first URI. */
  route?: readonly string[];
}

/** Where the INVITE to the agent goes first: its Path's first proxy, else its flow or Contact. */
export function firstHop(t: CallTarget): { flowId?: string; uri: string } {
  const first = t.route?.[0];
  if (first === undefined) return { flowId: t.flowId, uri: t.contactUri };
  const m = /<([^>]+)>/.exec(first);
  // The proxy's own `received` parameter names the agent's connection, not the way to the proxy.
  return { uri: (m ? m[1]! : first).replace(/;received=[^;>]*/i, '').trim() };
}

/** Route header fields for the INVITE to the agent (RFC 3327 5.5, RFC 3261 8.1.2). */
export function routeHeaders(t: CallTarget): [string, string][] {
  return (t.route ?? []).map((r): [string, string] => ['Route', r]);
}

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
  /** No RTP from a leg for this long ends the call (calls/media-watch.ts); 0 or unset: not watched. */
  mediaTimeoutMs?: number;
  /** RFC 4028 session timers (SESSION_EXPIRES_S, MIN_SE_S); unset: none offered or honoured. */
  sessionTimers?: SessionTimerSettings;
  /** SRTP policy (RFC 4568 SDES) for a SIP leg whose media peer is at `peerAddress`; default `off`. */
  srtpPolicy?: (peerAddress: string) => SrtpPolicy;
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
   * e.g. 100 Trying, then a final status which terminates the implicit subscription. `terminate`
   * ends the subscription with this NOTIFY even for a provisional status (RFC 6665 4.2.2: the
   * notifier may end a subscription at any time): nothing more is reported after it.
   */
  notify(status: number, reason?: string, opts?: { terminate?: boolean }): void;
  /**
   * Refuses the REFER instead of the default 202 (e.g. 400 with a Warning naming a bad field);
   * only effective while the 'refer' event is being emitted. The call goes on untouched.
   * `retryAfterS` adds Retry-After (a 503 for load, RFC 3261 21.5.4).
   */
  reject(status: number, warning?: string, retryAfterS?: number): void;
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
  refer: (r: ReferRequest) => void;
  /** The agent left while an inline capture runs; the customer stays until it ends. */
  agentGone: () => void;
  ended: (reason: string) => void;
}

/** What the in-dialog handler (in-dialog.ts) needs of its call (call.ts implements it). */
export interface InDialogHost {
  readonly state: CallState;
  readonly ended: boolean;
  readonly events: SafeEmitter<CallEvents>;
  readonly media: MediaAnchor | undefined;
  /** The dialog and flow of a leg. */
  leg(leg: Leg): { dialog: Dialog | undefined; flow: SipFlow | undefined };
  dispatch(ev: CallEvent): void;
  /** The agent's BYE (the call decides whether a capture keeps the customer). */
  onAgentBye(): void;
  hangup(reason: string): void;
  /** RFC 4028 session timers of the call's legs (undefined: not configured). */
  readonly sessions: CallSessionTimers | undefined;
  /** RFC 3261 13.3.1.4: resend a 2xx until its ACK; `giveUp` after 64*T1. */
  retransmit2xx(txn: ServerTransaction, text: string, waiting: () => boolean, giveUp: () => void): void;
}

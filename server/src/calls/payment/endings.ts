import type { Clock, TimerHandle } from '../../lib/clock.js';
import type { Logger } from '../../observability/logger.js';
import type { Outcome } from '../../store/index.js';
import type { RunEnding } from './run.js';

/**
 * The final NOTIFY of the agent's REFER (RFC 3515 2.4.5, message/sipfrag): the outcome as a SIP
 * status the referrer's stack understands. Only `paid` is a 2xx.
 */
export const OUTCOME_SIPFRAG: Record<Outcome, { status: number; reason: string }> = {
  paid: { status: 200, reason: 'OK' },
  declined: { status: 603, reason: 'Declined' },
  failed: { status: 500, reason: 'Payment Failed' },
  abandoned: { status: 487, reason: 'Request Terminated' },
  cancelled: { status: 487, reason: 'Request Terminated' },
};

/**
 * The NOTIFY that ends the REFER's subscription, by the kind of agent that sent the REFER.
 *
 * - `browser` (an agent on SIP over WebSocket, RFC 7118: the widget, the JsSIP page): the outcome
 *   as a final status (OUTCOME_SIPFRAG); these clients stay on the call after it.
 * - `phone` (a stock SIP phone on UDP/TCP/TLS): its transfer button is a blind transfer (RFC 5589
 *   6), and a transferor ends its call on any final status, 2xx or failure alike (baresip 1.0:
 *   "Call transfered" on 2xx, "transfer failed" on >= 300, then BYE), which would hang up on the
 *   customer who is coming back to it. So the subscription ends (Subscription-State: terminated,
 *   RFC 6665 4.2.2) with a provisional sipfrag that names the outcome: the phone's call stays up and
 *   the customer and the agent talk again.
 */
export function finalNotify(outcome: Outcome, agent: 'browser' | 'phone'): { status: number; reason: string } {
  if (agent === 'browser') return OUTCOME_SIPFRAG[outcome];
  return { status: 100, reason: `Payment ${outcome}, the customer is back on the call` };
}

/**
 * An agent on SIP over WebSocket (RFC 7118) is a browser client; on UDP/TCP/TLS, a SIP phone. One
 * reached through a proxy (Path, RFC 3327: Kamailio as the WebSocket front) is told by its Contact's
 * `transport=ws` / `wss` (RFC 7118 5).
 */
export function agentKindOf(flowId: string | undefined, contactUri?: string): 'browser' | 'phone' {
  return /^wss?:/i.test(flowId ?? '') || /;transport=wss?\b/i.test(contactUri ?? '') ? 'browser' : 'phone';
}

/**
 * Inline mode: the run reports to the agent who sent the REFER with its final NOTIFY (which ends
 * the subscription, {@link finalNotify}), and the call is the customer's and the agent's again
 * (`released`). A bridge that cannot mute the agent ends the whole call (`hangupCall`).
 */
export function notifyReferrer(o: {
  notify: (status: number, reason: string, opts: { terminate: true }) => void;
  agent: 'browser' | 'phone';
  released: () => void;
  hangupCall: (why: string) => void;
}): RunEnding {
  return {
    end: (outcome) => {
      const frag = finalNotify(outcome, o.agent);
      o.notify(frag.status, frag.reason, { terminate: true });
      o.released();
    },
    abort: (why) => {
      if (why === 'mute-failed') return o.hangupCall('mute failed');
      const frag = finalNotify('failed', o.agent);
      o.notify(frag.status, frag.reason, { terminate: true });
      o.released();
    },
  };
}

/** The customer's dialog with the gateway in transfer mode, as the end-of-run strategies use it. */
export interface CustomerDialog {
  /** Ends the call: BYE (once; nothing if the customer already hung up) and release. */
  hangup(why: string): void;
  /** Sends a REFER (RFC 3515) in the dialog; `onFinal` gets the final status (408 on timeout). */
  refer(referTo: string, onFinal: (status: number) => void): void;
  /** Calls `fn` when a NOTIFY of our REFER reports a 2xx (the customer reached the target). */
  onTransferred(fn: () => void): void;
}

/** Transfer mode without X-Pay-Return-To: the gateway hangs up after the outcome (BYE). */
export function hangUpCustomer(dialog: CustomerDialog): RunEnding {
  return {
    end: () => dialog.hangup('payment over'),
    abort: (why) => dialog.hangup(why),
  };
}

/** How long the gateway waits for the NOTIFY saying the customer reached X-Pay-Return-To. */
export const REFER_BACK_WAIT_MS = 10_000;

/**
 * Transfer mode with X-Pay-Return-To: the customer is sent back with a REFER (RFC 3515); the
 * gateway leaves the call (BYE) once a NOTIFY says the transfer succeeded (RFC 3515 2.4.5), after
 * {@link REFER_BACK_WAIT_MS} without one, or at once if the REFER is refused.
 */
export function referBack(dialog: CustomerDialog, returnTo: string, clock: Clock, log: Logger): RunEnding {
  let timer: TimerHandle | undefined;
  return {
    end: () => {
      dialog.refer(`<${returnTo}>`, (status) => {
        if (status >= 300) {
          log.warn({ status }, 'customer could not be transferred back; hanging up');
          return dialog.hangup('transfer back refused');
        }
        timer = clock.setTimeout(() => dialog.hangup('no NOTIFY for the transfer back'), REFER_BACK_WAIT_MS);
        dialog.onTransferred(() => {
          timer?.cancel();
          dialog.hangup('customer transferred back');
        });
      });
    },
    abort: (why) => dialog.hangup(why),
  };
}

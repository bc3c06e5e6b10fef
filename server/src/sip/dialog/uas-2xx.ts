import type { Clock } from '../../lib/clock.js';
import { SipTimers } from '../constants.js';
import type { ServerTransaction } from '../transaction/index.js';

/**
 * RFC 3261 13.3.1.4: the UAS core retransmits its 2xx to an INVITE at T1, 2*T1 ... capped at T2
 * (unreliable transports only) until the ACK arrives, and gives up after 64*T1 — then the dialog
 * must be torn down. `waiting()` says whether the ACK is still outstanding.
 */
export function retransmit2xxUntilAck(
  clock: Clock,
  txn: ServerTransaction,
  text: string,
  waiting: () => boolean,
  giveUp: () => void,
): { cancel(): void } {
  const started = clock.now();
  let interval: number = SipTimers.T1;
  let handle = clock.setTimeout(tick, txn.flow.reliable ? SipTimers.UAS_2XX_GIVE_UP : interval);
  let cancelled = false;
  function tick(): void {
    if (cancelled || !waiting()) return;
    if (clock.now() - started >= SipTimers.UAS_2XX_GIVE_UP) {
      giveUp();
      return;
    }
    if (!txn.flow.reliable && !txn.terminated) txn.respond(200, text);
    interval = Math.min(interval * 2, SipTimers.T2);
    handle = clock.setTimeout(tick, txn.flow.reliable ? SipTimers.UAS_2XX_GIVE_UP : interval);
  }
  return {
    cancel: () => {
      cancelled = true;
      handle.cancel();
    },
  };
}

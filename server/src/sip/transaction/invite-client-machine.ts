/**
 * INVITE client transaction, RFC 3261 17.1.1.2 (Figure 5) as corrected by RFC 6026 7.2 (Accepted state).
 *
 *                     |INVITE from TU
 *   Timer A fires     |INVITE sent; start B, and A if unreliable
 *   reset A,          V
 *   INVITE sent  +-----------+   Timer B fires, or Transport Err: inform TU
 *      +---------|  Calling  |---------------------------------------------+
 *      +-------->|           |----------------------------+                |
 *                +-----------+  2xx: 2xx to TU, start M   |                |
 *     300-699      |      | 1xx: 1xx to TU                |                |
 *     ACK sent     |      V                               V                |
 *     resp to TU   |  +------------+  2xx: to TU    +-----------+ 2xx:     |
 *   1xx to TU +----|--| Proceeding |--------------->| Accepted  |--+ to TU |
 *      +------+    |  |            |-- Transport    |(RFC 6026) |<-+       |
 *      +---------->|  +------------+   Err: inform  +-----------+          |
 *                  |      | 300-699: ACK sent,   |        | Timer M fires  |
 *                  V      V resp to TU           |        V                |
 *   300-699  +-----------+  Timer D fires, or    +--->+------------+       |
 *   ACK sent | Completed |  Transport Err (inform) -->| Terminated |<------+
 *     +------|           |--------------------------->+------------+
 *     +----->+-----------+
 */
import {
  type ClientEvent,
  type MachineContext,
  type Transition,
  type TxnAction,
  InvalidStateError,
  act,
  cancel,
  describeEvent,
  isFailure,
  isProvisional,
  isSuccess,
  start,
} from './types.js';

export enum InviteClientState {
  Calling = 'Calling',
  Proceeding = 'Proceeding',
  Completed = 'Completed',
  /** RFC 6026 7.2: a 2xx arrived; further 2xx (retransmissions, forks) still go to the TU until Timer M. */
  Accepted = 'Accepted',
  Terminated = 'Terminated',
}

const S = InviteClientState;
const to = (state: InviteClientState, ...actions: TxnAction[]): Transition<InviteClientState> => ({ state, actions });

/** Entering Calling (17.1.1.2): send the INVITE, Timer B always, Timer A only over an unreliable transport. */
export function inviteClientStart(ctx: MachineContext): Transition<InviteClientState> {
  return ctx.reliable
    ? to(S.Calling, act('sendRequest'), start('B'))
    : to(S.Calling, act('sendRequest'), start('B'), start('A'));
}

export function inviteClientTransition(
  state: InviteClientState,
  event: ClientEvent,
  ctx: MachineContext,
): Transition<InviteClientState> {
  const bad = (): never => {
    throw new InvalidStateError('InviteClient', state, describeEvent(event));
  };
  switch (state) {
    case S.Calling:
    case S.Proceeding: {
      const stop = state === S.Calling ? [cancel('A'), cancel('B')] : [];
      if (event.type === 'response') {
        const s = event.status;
        // 17.1.1.2: a provisional response stops retransmission; Proceeding has no timer of its own.
        if (isProvisional(s)) return to(S.Proceeding, ...stop, act('toTu'));
        // RFC 6026 7.2 (replacing 17.1.1.2's "2xx: Terminated"): Accepted, Timer M.
        if (isSuccess(s)) return to(S.Accepted, ...stop, act('toTu'), start('M'));
        // 17.1.1.2 / 17.1.1.3: ACK generated here, response up, Timer D (0 over reliable transports).
        if (isFailure(s)) return to(S.Completed, ...stop, act('sendAck'), act('toTu'), start('D'));
        return bad();
      }
      // 17.1.4 (Figure 5 draws it from Calling; a flow that closes in Proceeding loses the final too).
      if (event.type === 'transportError') return to(S.Terminated, act('transportError'));
      if (state === S.Calling && event.type === 'timer') {
        if (event.timer === 'A' && !ctx.reliable) return to(S.Calling, act('sendRequest'), start('A'));
        if (event.timer === 'B') return to(S.Terminated, act('timeout'));
      }
      return bad();
    }
    case S.Completed:
      if (event.type === 'response') {
        // 17.1.1.2: retransmitted finals get the same ACK again and are not passed up.
        if (isFailure(event.status)) return to(S.Completed, act('sendAck'));
        // 16.7 step 5: a proxy forwards a 2xx even after a non-2xx final; the TU must see it to ACK it.
        if (isSuccess(event.status)) return to(S.Completed, act('toTu'));
        if (isProvisional(event.status)) return to(S.Completed); // late, meaningless: dropped
        return bad();
      }
      if (event.type === 'timer' && event.timer === 'D') return to(S.Terminated);
      if (event.type === 'transportError') return to(S.Terminated, act('transportError'));
      return bad();
    case S.Accepted:
      if (event.type === 'response') {
        // RFC 6026 7.2: every 2xx goes to the TU (it ACKs each one, 13.2.2.4); anything else is discarded.
        if (isSuccess(event.status)) return to(S.Accepted, act('toTu'));
        if (isProvisional(event.status) || isFailure(event.status)) return to(S.Accepted);
        return bad();
      }
      if (event.type === 'timer' && event.timer === 'M') return to(S.Terminated);
      // Nothing is sent in Accepted (the TU ACKs 2xx itself): a closed flow changes nothing here.
      if (event.type === 'transportError') return to(S.Accepted);
      return bad();
    case S.Terminated:
      return bad();
  }
}

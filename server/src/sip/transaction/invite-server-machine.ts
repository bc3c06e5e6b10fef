/**
 * INVITE server transaction, RFC 3261 17.2.1 (Figure 7) as corrected by RFC 6026 7.1 (Accepted state).
 *
 *                             |INVITE: pass to TU; start Trying (send 100 if TU silent 200 ms)
 *        INVITE               V
 *        resend last 1xx +------------+  101-199 from TU: send response
 *           +------------|            |<-----+
 *           +----------->| Proceeding |------+
 *                        +------------+  Transport Err: inform TU ---------------+
 *          300-699 from TU  |       | 2xx from TU: send response, start L         |
 *          send, start G H  |       +-------------------------+                   |
 *                           V                                 V                   |
 *     INVITE, Timer G  +-----------+              INVITE: -  +-----------+ ACK:   |
 *     resend final +---| Completed |                      +--| Accepted  |-+ to TU|
 *                  +-->|           |                      +->|(RFC 6026) |<+      |
 *                      +-----------+  2xx from TU: send ---->+-----------+        |
 *                        |      |  Timer H fires, or                | Timer L     |
 *                   ACK  |      |  Transport Err: inform TU         | fires       |
 *                        V      +--------------------+              V             |
 *     ACK, INVITE  +-----------+  Timer I fires      +------>+------------+       |
 *         -    +---| Confirmed |------------------------------>| Terminated |<------+
 *              +-->+-----------+                               +------------+
 */
import {
  type MachineContext,
  type ServerEvent,
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

export enum InviteServerState {
  Proceeding = 'Proceeding',
  Completed = 'Completed',
  Confirmed = 'Confirmed',
  /** RFC 6026 7.1: a 2xx was sent; INVITE retransmissions are absorbed, ACKs and further 2xx pass until Timer L. */
  Accepted = 'Accepted',
  Terminated = 'Terminated',
}

const S = InviteServerState;
const to = (state: InviteServerState, ...actions: TxnAction[]): Transition<InviteServerState> => ({ state, actions });

/** Entering Proceeding (17.2.1): the request goes to the TU; a 100 Trying follows unless the TU answers first. */
export function inviteServerStart(): Transition<InviteServerState> {
  return to(S.Proceeding, start('Trying'));
}

export function inviteServerTransition(
  state: InviteServerState,
  event: ServerEvent,
  ctx: MachineContext,
): Transition<InviteServerState> {
  const bad = (): never => {
    throw new InvalidStateError('InviteServer', state, describeEvent(event));
  };
  switch (state) {
    case S.Proceeding:
      switch (event.type) {
        case 'request':
          return to(S.Proceeding, act('sendResponse')); // 17.2.1: resend the most recent provisional
        case 'respond': {
          const s = event.status;
          if (isProvisional(s)) return to(S.Proceeding, cancel('Trying'), act('sendResponse'));
          // RFC 6026 7.1 (replacing 17.2.1's "2xx: Terminated"): the UAS core retransmits 2xx itself (13.3.1.4).
          if (isSuccess(s)) return to(S.Accepted, cancel('Trying'), act('sendResponse'), start('L'));
          if (isFailure(s)) {
            const g = ctx.reliable ? [] : [start('G')];
            return to(S.Completed, cancel('Trying'), act('sendResponse'), ...g, start('H'));
          }
          return bad();
        }
        case 'timer':
          return event.timer === 'Trying' ? to(S.Proceeding, act('sendTrying')) : bad();
        case 'transportError':
          return to(S.Terminated, act('transportError')); // 17.2.4
        case 'ack':
          return bad(); // an ACK before any final response acknowledges nothing
      }
      return bad();
    case S.Completed:
      switch (event.type) {
        case 'request':
          return to(S.Completed, act('sendResponse')); // 17.2.1: INVITE retransmission: resend the final
        case 'ack':
          return to(S.Confirmed, cancel('G'), cancel('H'), start('I')); // I is 0 over reliable transports
        case 'timer':
          if (event.timer === 'G' && !ctx.reliable) return to(S.Completed, act('sendResponse'), start('G'));
          if (event.timer === 'H') return to(S.Terminated, act('timeout'));
          return bad();
        case 'transportError':
          return to(S.Terminated, act('transportError'));
        case 'respond':
          return bad(); // the final response has been sent already
      }
      return bad();
    case S.Confirmed:
      // 17.2.1: Confirmed absorbs ACK retransmissions (and any late INVITE retransmission) until Timer I.
      if (event.type === 'ack' || event.type === 'request') return to(S.Confirmed);
      if (event.type === 'timer' && event.timer === 'I') return to(S.Terminated);
      if (event.type === 'transportError') return to(S.Confirmed); // nothing is sent in Confirmed
      return bad();
    case S.Accepted:
      switch (event.type) {
        case 'request':
          return to(S.Accepted); // RFC 6026 7.1: absorbed, never a new transaction
        case 'ack':
          return to(S.Accepted, act('toTu')); // RFC 6026 7.1: the 2xx's ACK belongs to the TU
        case 'respond':
          return isSuccess(event.status) ? to(S.Accepted, act('sendResponse')) : bad(); // 2xx retransmissions
        case 'timer':
          return event.timer === 'L' ? to(S.Terminated) : bad();
        case 'transportError':
          return to(S.Accepted, act('transportError')); // RFC 6026 Figure 5: inform TU, stay
      }
      return bad();
    case S.Terminated:
      return bad();
  }
}

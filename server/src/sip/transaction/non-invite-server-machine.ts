/**
 * Non-INVITE server transaction, RFC 3261 17.2.2 (Figure 8).
 *
 *                           |Request received: pass to TU
 *                           V
 *                     +-----------+
 *   request: -   +----|           |
 *                +--->|  Trying   |-------------+
 *                     |           |             | 200-699 from TU
 *                     +-----------+             | send response, start J
 *                        |                      |
 *                        | 1xx from TU          |
 *                        | send response        |
 *                        V                      |
 *   request, 1xx +-----------+                  |
 *   from TU      |           |                  |
 *   send resp +--| Proceeding|----------------->+
 *             +->|           |  200-699 from TU |
 *                +-----------+  send response   |
 *                  |                            V
 *                  | Transport Err.      +-----------+ request:
 *                  | inform TU           | Completed |-----+ send response
 *                  |                     |           |<----+
 *                  |                     +-----------+
 *                  |  Transport Err: inform TU |  | Timer J fires
 *                  V                           V  V
 *                +------------------------------------+
 *                |             Terminated             |
 *                +------------------------------------+
 */
import {
  type ServerEvent,
  type Transition,
  type TxnAction,
  InvalidStateError,
  act,
  describeEvent,
  isFailure,
  isProvisional,
  isSuccess,
  start,
} from './types.js';

export enum NonInviteServerState {
  Trying = 'Trying',
  Proceeding = 'Proceeding',
  Completed = 'Completed',
  Terminated = 'Terminated',
}

const S = NonInviteServerState;
const to = (state: NonInviteServerState, ...actions: TxnAction[]): Transition<NonInviteServerState> => ({
  state,
  actions,
});

/** Entering Trying (17.2.2): the request goes to the TU; nothing is sent, no timer runs. */
export function nonInviteServerStart(): Transition<NonInviteServerState> {
  return to(S.Trying);
}

export function nonInviteServerTransition(
  state: NonInviteServerState,
  event: ServerEvent,
): Transition<NonInviteServerState> {
  const bad = (): never => {
    throw new InvalidStateError('NonInviteServer', state, describeEvent(event));
  };
  const respond = (status: number): Transition<NonInviteServerState> => {
    if (isProvisional(status)) return to(S.Proceeding, act('sendResponse'));
    // 17.2.2: J is 64*T1 over unreliable transports, 0 over reliable ones (the runtime picks the value).
    if (isSuccess(status) || isFailure(status)) return to(S.Completed, act('sendResponse'), start('J'));
    return bad();
  };
  switch (state) {
    case S.Trying:
      if (event.type === 'request') return to(S.Trying); // 17.2.2: retransmissions discarded in Trying
      if (event.type === 'respond') return respond(event.status);
      if (event.type === 'transportError') return to(S.Trying); // nothing sent yet: the TU learns when it responds
      return bad();
    case S.Proceeding:
      if (event.type === 'request') return to(S.Proceeding, act('sendResponse')); // resend the last provisional
      if (event.type === 'respond') return respond(event.status);
      if (event.type === 'transportError') return to(S.Terminated, act('transportError')); // 17.2.4
      return bad();
    case S.Completed:
      if (event.type === 'request') return to(S.Completed, act('sendResponse')); // resend the final
      if (event.type === 'timer' && event.timer === 'J') return to(S.Terminated);
      if (event.type === 'transportError') return to(S.Terminated, act('transportError'));
      return bad(); // 'respond': the final has been sent already; 'ack': never matches a non-INVITE
    case S.Terminated:
      return bad();
  }
}

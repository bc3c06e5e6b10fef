/**
 * Non-INVITE client transaction, RFC 3261 17.1.2.2 (Figure 6).
 *
 *                           |Request from TU
 *                           |send request; start F, and E if unreliable
 *       Timer E             V
 *       send request  +-----------+
 *           +---------|           |-------------------+
 *           |         |  Trying   |  Timer F fires,   |
 *           +-------->|           |  or Transport Err |
 *                     +-----------+  inform TU        |
 *        200-699         |  |                         |
 *        resp to TU      |  |1xx                      |
 *        +---------------+  |resp to TU               |
 *        |                  |                         |
 *        |   Timer E        V       Timer F fires,    |
 *        |   send request +-----------+ or Transport  |
 *        |  +-------------|           | Err, inform TU|
 *        |  |  (E = T2)   | Proceeding|-------------->|
 *        |  +------------>|           |-----+         |
 *        |                +-----------+ 1xx |         |
 *        |                   |      ^  resp to TU     |
 *        | 200-699           |      +-----+           |
 *        | resp to TU        |                        |
 *        V                   V                        |
 *     +-----------+  (any response: absorbed)         |
 *     | Completed |  Timer K fires                    |
 *     |           |----------------+                  |
 *     +-----------+                V                  |
 *                            +------------+           |
 *                            | Terminated |<----------+
 *                            +------------+
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

export enum NonInviteClientState {
  Trying = 'Trying',
  Proceeding = 'Proceeding',
  Completed = 'Completed',
  Terminated = 'Terminated',
}

const S = NonInviteClientState;
const to = (state: NonInviteClientState, ...actions: TxnAction[]): Transition<NonInviteClientState> => ({
  state,
  actions,
});

/** Entering Trying (17.1.2.2): send, Timer F always, Timer E only over an unreliable transport. */
export function nonInviteClientStart(ctx: MachineContext): Transition<NonInviteClientState> {
  return ctx.reliable
    ? to(S.Trying, act('sendRequest'), start('F'))
    : to(S.Trying, act('sendRequest'), start('F'), start('E'));
}

export function nonInviteClientTransition(
  state: NonInviteClientState,
  event: ClientEvent,
  ctx: MachineContext,
): Transition<NonInviteClientState> {
  const bad = (): never => {
    throw new InvalidStateError('NonInviteClient', state, describeEvent(event));
  };
  switch (state) {
    case S.Trying:
    case S.Proceeding:
      if (event.type === 'response') {
        const s = event.status;
        if (isProvisional(s)) return to(S.Proceeding, act('toTu'));
        // 17.1.2.2: a final response: to the TU, Completed, Timer K (0 over reliable transports).
        if (isSuccess(s) || isFailure(s)) return to(S.Completed, cancel('E'), cancel('F'), act('toTu'), start('K'));
        return bad();
      }
      if (event.type === 'timer') {
        // 17.1.2.2: E doubles up to T2 in Trying, and is reset to T2 in Proceeding (the runtime picks the value).
        if (event.timer === 'E' && !ctx.reliable) return to(state, act('sendRequest'), start('E'));
        if (event.timer === 'F') return to(S.Terminated, act('timeout'));
        return bad();
      }
      return to(S.Terminated, act('transportError')); // 17.1.4
    case S.Completed:
      // 17.1.2.2: response retransmissions are absorbed while Timer K runs.
      if (event.type === 'response') return isProvisional(event.status) || isSuccess(event.status) || isFailure(event.status) ? to(S.Completed) : bad();
      if (event.type === 'timer' && event.timer === 'K') return to(S.Terminated);
      if (event.type === 'transportError') return to(S.Completed); // nothing is sent in Completed
      return bad();
    case S.Terminated:
      return bad();
  }
}

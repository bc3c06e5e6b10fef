/** RFC 3261 section 17 transaction layer (with RFC 6026), correct over UDP as well as TCP/WS. */
export { TransactionLayer } from './layer.js';
export type { RequestResult, ResponseResult, SendRequestOptions, TransactionLayerOptions } from './layer.js';
export { InviteClientTransaction, NonInviteClientTransaction } from './client.js';
export { InviteServerTransaction, NonInviteServerTransaction } from './server.js';
export { InviteClientState, inviteClientStart, inviteClientTransition } from './invite-client-machine.js';
export { NonInviteClientState, nonInviteClientStart, nonInviteClientTransition } from './non-invite-client-machine.js';
export { InviteServerState, inviteServerStart, inviteServerTransition } from './invite-server-machine.js';
export { NonInviteServerState, nonInviteServerStart, nonInviteServerTransition } from './non-invite-server-machine.js';
export { MAGIC_COOKIE, parseTopVia, type TopVia } from './matching.js';
export { timerDuration } from './runtime.js';
export {
  InvalidStateError,
  type ClientEvent,
  type ClientTransaction,
  type ClientTransactionUser,
  type IncomingRequestMessage,
  type IncomingResponseMessage,
  type MachineContext,
  type ServerEvent,
  type ServerTransaction,
  type TimerName,
  type TransactionLogger,
  type Transition,
  type TxnAction,
} from './types.js';

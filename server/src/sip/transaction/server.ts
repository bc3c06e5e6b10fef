/**
 * Server transactions (RFC 3261 17.2): the runtime half of the INVITE and non-INVITE server machines.
 */
import { InviteServerState, inviteServerStart, inviteServerTransition } from './invite-server-machine.js';
import { toTagOf } from './matching.js';
import {
  NonInviteServerState,
  nonInviteServerStart,
  nonInviteServerTransition,
} from './non-invite-server-machine.js';
import { type RuntimeDeps, TransactionRuntime } from './runtime.js';
import type {
  IncomingRequestMessage,
  ServerEvent,
  ServerTransaction,
  Transition,
  TxnAction,
} from './types.js';

export interface ServerTransactionDeps extends RuntimeDeps {
  readonly request: IncomingRequestMessage;
}

abstract class ServerRuntime<S extends string>
  extends TransactionRuntime<S, ServerEvent>
  implements ServerTransaction
{
  readonly request: IncomingRequestMessage;
  readonly method: string;
  /** The most recent response passed to the transport: what a retransmitted request gets again. */
  protected lastResponse: string | undefined;
  /** To tag of the last response sent (RFC 2543 ACK matching, 17.2.3). */
  responseToTag: string | undefined;
  private readonly timeoutCallbacks: Array<() => void> = [];
  private readonly transportErrorCallbacks: Array<() => void> = [];

  constructor(deps: ServerTransactionDeps, initial: S) {
    super(deps, initial);
    this.request = deps.request;
    this.method = deps.request.method;
  }

  respond(statusCode: number, serialisedResponse: string): void {
    const event: ServerEvent = { type: 'respond', status: statusCode };
    if (this.terminated) this.dispatch(event); // throws InvalidStateError
    this.transition(this.current, event); // pure: throws before anything changes
    this.lastResponse = serialisedResponse;
    this.responseToTag = toTagOf(serialisedResponse) ?? this.responseToTag;
    this.dispatch(event);
  }

  onTimeout(cb: () => void): void {
    this.timeoutCallbacks.push(cb);
  }

  onTransportError(cb: () => void): void {
    this.transportErrorCallbacks.push(cb);
  }

  /** 17.2.3: a retransmission of the request that created this transaction. */
  receiveRetransmission(): void {
    this.dispatch({ type: 'request' });
  }

  /** The flow under this transaction closed (17.2.4). */
  transportFailed(): void {
    if (!this.terminated) this.dispatch({ type: 'transportError' });
  }

  protected perform(action: TxnAction): void {
    switch (action.type) {
      case 'sendResponse':
        if (this.lastResponse !== undefined) this.send(this.lastResponse);
        return;
      case 'timeout':
        for (const cb of this.timeoutCallbacks) this.safely('onTimeout', cb);
        return;
      case 'transportError':
        for (const cb of this.transportErrorCallbacks) this.safely('onTransportError', cb);
        return;
      default:
        this.performOther(action);
    }
  }

  protected performOther(action: TxnAction): void {
    this.logger.warn({ txn: this.id, action: action.type }, 'sip transaction: unexpected action');
  }
}

/** RFC 3261 17.2.1 / RFC 6026 7.1. */
export class InviteServerTransaction extends ServerRuntime<InviteServerState> {
  protected readonly machineName = 'InviteServer';
  protected readonly terminatedState = InviteServerState.Terminated;
  private readonly buildTrying: (request: IncomingRequestMessage) => string;
  private ackToTu = false;

  constructor(deps: ServerTransactionDeps & { buildTrying: (request: IncomingRequestMessage) => string }) {
    super(deps, InviteServerState.Proceeding);
    this.buildTrying = deps.buildTrying;
  }

  start(): void {
    this.begin(inviteServerStart());
  }

  /**
   * A matching ACK. Returns 'to-tu' when it acknowledges a 2xx (RFC 6026 Accepted: the TU/dialog
   * owns it, 13.3.1.4), 'absorbed' when it acknowledges the non-2xx final (17.2.1). Throws
   * InvalidStateError in Proceeding (nothing to acknowledge).
   */
  receiveAck(): 'to-tu' | 'absorbed' {
    this.ackToTu = false;
    this.dispatch({ type: 'ack' });
    return this.ackToTu ? 'to-tu' : 'absorbed';
  }

  protected transition(state: InviteServerState, event: ServerEvent): Transition<InviteServerState> {
    return inviteServerTransition(state, event, { reliable: this.flow.reliable });
  }

  protected override performOther(action: TxnAction): void {
    if (action.type === 'toTu') {
      this.ackToTu = true;
    } else if (action.type === 'sendTrying') {
      // 17.2.1: the 100 is built per 8.2.6 (no To tag added) and becomes the response resent on retransmission.
      try {
        this.lastResponse = this.buildTrying(this.request);
      } catch (err) {
        this.logger.error({ txn: this.id, err }, 'sip transaction: buildTrying threw');
        return;
      }
      this.send(this.lastResponse);
    } else {
      super.performOther(action);
    }
  }
}

/** RFC 3261 17.2.2. */
export class NonInviteServerTransaction extends ServerRuntime<NonInviteServerState> {
  protected readonly machineName = 'NonInviteServer';
  protected readonly terminatedState = NonInviteServerState.Terminated;

  constructor(deps: ServerTransactionDeps) {
    super(deps, NonInviteServerState.Trying);
  }

  start(): void {
    this.begin(nonInviteServerStart());
  }

  protected transition(state: NonInviteServerState, event: ServerEvent): Transition<NonInviteServerState> {
    return nonInviteServerTransition(state, event);
  }
}

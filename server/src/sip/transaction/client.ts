/**
 * Client transactions (RFC 3261 17.1): the runtime half of the INVITE and non-INVITE client machines.
 */
import {
  InviteClientState,
  inviteClientStart,
  inviteClientTransition,
} from './invite-client-machine.js';
import {
  NonInviteClientState,
  nonInviteClientStart,
  nonInviteClientTransition,
} from './non-invite-client-machine.js';
import { type RuntimeDeps, TransactionRuntime } from './runtime.js';
import type {
  ClientEvent,
  ClientTransaction,
  ClientTransactionUser,
  IncomingResponseMessage,
  Transition,
  TxnAction,
} from './types.js';

export interface ClientTransactionDeps extends RuntimeDeps {
  /** The full serialised request; its top Via carries `branch`. */
  readonly request: string;
  readonly method: string;
  readonly branch: string;
  readonly user: ClientTransactionUser;
}

abstract class ClientRuntime<S extends string>
  extends TransactionRuntime<S, ClientEvent>
  implements ClientTransaction
{
  readonly method: string;
  readonly branch: string;
  protected readonly request: string;
  protected readonly user: ClientTransactionUser;
  protected response: IncomingResponseMessage | undefined;

  constructor(deps: ClientTransactionDeps, initial: S) {
    super(deps, initial);
    this.method = deps.method;
    this.branch = deps.branch;
    this.request = deps.request;
    this.user = deps.user;
  }

  /** 17.1.3: a response matched to this transaction by the layer. Responses the machine rejects are dropped. */
  receiveResponse(res: IncomingResponseMessage): void {
    this.response = res;
    this.dispatch({ type: 'response', status: res.statusCode ?? 0 });
  }

  /** The flow under this transaction closed (17.1.4). */
  transportFailed(): void {
    if (!this.terminated) this.dispatch({ type: 'transportError' });
  }

  protected perform(action: TxnAction): void {
    switch (action.type) {
      case 'sendRequest':
        this.send(this.request);
        return;
      case 'toTu': {
        const res = this.response;
        if (res) this.safely('onResponse', () => this.user.onResponse(res));
        return;
      }
      case 'timeout':
        this.safely('onTimeout', () => this.user.onTimeout());
        return;
      case 'transportError':
        this.safely('onTransportError', () => this.user.onTransportError());
        return;
      default:
        this.performOther(action);
    }
  }

  protected performOther(action: TxnAction): void {
    this.logger.warn({ txn: this.id, action: action.type }, 'sip transaction: unexpected action');
  }
}

/** RFC 3261 17.1.1 / RFC 6026 7.2. */
export class InviteClientTransaction extends ClientRuntime<InviteClientState> {
  protected readonly machineName = 'InviteClient';
  protected readonly terminatedState = InviteClientState.Terminated;
  private readonly buildAck: (response: IncomingResponseMessage) => string;
  private ack: string | undefined;

  constructor(deps: ClientTransactionDeps & { buildAck: (response: IncomingResponseMessage) => string }) {
    super(deps, InviteClientState.Calling);
    this.buildAck = deps.buildAck;
  }

  /** Sends the INVITE. A transport error here reaches the TU before this returns. */
  start(): void {
    this.begin(inviteClientStart({ reliable: this.flow.reliable }));
  }

  protected transition(state: InviteClientState, event: ClientEvent): Transition<InviteClientState> {
    return inviteClientTransition(state, event, { reliable: this.flow.reliable });
  }

  /** 17.1.1.3: the ACK for a non-2xx final is built once and resent for each retransmitted final. */
  protected override performOther(action: TxnAction): void {
    if (action.type !== 'sendAck') return super.performOther(action);
    const res = this.response;
    if (this.ack === undefined && res) {
      try {
        this.ack = this.buildAck(res);
      } catch (err) {
        this.logger.error({ txn: this.id, err }, 'sip transaction: buildAck threw');
        return;
      }
    }
    if (this.ack !== undefined) this.send(this.ack);
  }
}

/** RFC 3261 17.1.2. */
export class NonInviteClientTransaction extends ClientRuntime<NonInviteClientState> {
  protected readonly machineName = 'NonInviteClient';
  protected readonly terminatedState = NonInviteClientState.Terminated;

  constructor(deps: ClientTransactionDeps) {
    super(deps, NonInviteClientState.Trying);
  }

  /** Sends the request. A transport error here reaches the TU before this returns. */
  start(): void {
    this.begin(nonInviteClientStart({ reliable: this.flow.reliable }));
  }

  protected transition(state: NonInviteClientState, event: ClientEvent): Transition<NonInviteClientState> {
    return nonInviteClientTransition(state, event, { reliable: this.flow.reliable });
  }
}

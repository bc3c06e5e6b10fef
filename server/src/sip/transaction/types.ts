/**
 * Shared vocabulary of the four RFC 3261 section 17 transaction machines (docs/architecture.md practice 3):
 * events in, actions out. The machines are pure; the runtime classes execute the actions.
 */
import type { Core } from 'sip.js';
import type { SipFlow } from '../transport/types.js';

export type IncomingMessage = Core.IncomingMessage;
export type IncomingRequestMessage = Core.IncomingRequestMessage;
export type IncomingResponseMessage = Core.IncomingResponseMessage;

/** What the layer logs with; a pino `Logger` (observability/logger.ts) fits. */
export interface TransactionLogger {
  debug(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
}

/** The TU of a client transaction (RFC 3261 17.1). Callbacks run synchronously; an exception is logged, never rethrown. */
export interface ClientTransactionUser {
  /** Every response the machine passes up: provisionals, the final, and (INVITE) each further 2xx. */
  onResponse(res: IncomingResponseMessage): void;
  /** Timer B or F fired without a final response (17.1.1.2, 17.1.2.2). */
  onTimeout(): void;
  /** The flow refused a message or closed (17.1.4). */
  onTransportError(): void;
}

export interface ClientTransaction {
  readonly id: string;
  readonly method: string;
  readonly branch: string;
  readonly flow: SipFlow;
  readonly state: string;
  readonly terminated: boolean;
  /** Called once, when the transaction reaches Terminated or is disposed. */
  onTerminated(cb: () => void): void;
  /** Idempotent: cancels every timer and removes the transaction; the TU is not called. */
  dispose(): void;
}

export interface ServerTransaction {
  readonly id: string;
  readonly method: string;
  readonly request: IncomingRequestMessage;
  readonly flow: SipFlow;
  readonly state: string;
  readonly terminated: boolean;
  /**
   * Sends a response from the TU (RFC 3261 17.2). Throws InvalidStateError when the machine has no
   * such move (a second final, anything after Terminated); INVITE: a 2xx may be repeated (RFC 6026 Accepted).
   */
  respond(statusCode: number, serialisedResponse: string): void;
  /** INVITE: Timer H fired with no ACK for a non-2xx final (17.2.1). */
  onTimeout(cb: () => void): void;
  /** A response could not be sent (17.2.4). */
  onTransportError(cb: () => void): void;
  onTerminated(cb: () => void): void;
  dispose(): void;
}

/** Every timer a transaction can run: RFC 3261 17 (A..K), RFC 6026 (L, M), and the 100 Trying delay (17.2.1). */
export type TimerName = 'A' | 'B' | 'D' | 'E' | 'F' | 'G' | 'H' | 'I' | 'J' | 'K' | 'L' | 'M' | 'Trying';

/** What the transport under the transaction guarantees. A/E/G retransmit only when it is unreliable (17.1.1.2, 17.1.2.2, 17.2.1). */
export interface MachineContext {
  readonly reliable: boolean;
}

export type TxnAction =
  /** Client: pass the request to the transport (again). */
  | { readonly type: 'sendRequest' }
  /** INVITE client: send (or resend) the ACK for the non-2xx final (17.1.1.3). */
  | { readonly type: 'sendAck' }
  /** Server: pass the most recent response from the TU to the transport (no-op if there is none yet). */
  | { readonly type: 'sendResponse' }
  /** INVITE server: send a 100 Trying on the TU's behalf (17.2.1). */
  | { readonly type: 'sendTrying' }
  | { readonly type: 'startTimer'; readonly timer: TimerName }
  | { readonly type: 'cancelTimer'; readonly timer: TimerName }
  /** Client: pass the response to the TU. Server (RFC 6026 Accepted): pass the ACK to the TU. */
  | { readonly type: 'toTu' }
  /** Inform the TU of a timeout (Timer B, F, H). */
  | { readonly type: 'timeout' }
  /** Inform the TU of a transport error (17.1.4, 17.2.4). */
  | { readonly type: 'transportError' };

/** Events of a client transaction (17.1). `status` is the response's status code. */
export type ClientEvent =
  | { readonly type: 'response'; readonly status: number }
  | { readonly type: 'timer'; readonly timer: TimerName }
  | { readonly type: 'transportError' };

/** Events of a server transaction (17.2). `request` is a retransmission of the request that created it. */
export type ServerEvent =
  | { readonly type: 'request' }
  | { readonly type: 'ack' }
  | { readonly type: 'respond'; readonly status: number }
  | { readonly type: 'timer'; readonly timer: TimerName }
  | { readonly type: 'transportError' };

export interface Transition<S extends string> {
  readonly state: S;
  readonly actions: readonly TxnAction[];
}

/** An impossible move: a machine got an event its RFC figure has no arrow for (docs/architecture.md practice 10). */
/** Shared with every state machine of the project (docs/architecture.md practice 10). */
export { InvalidStateError } from '../../lib/errors.js';

export function describeEvent(e: ClientEvent | ServerEvent): string {
  switch (e.type) {
    case 'response':
    case 'respond':
      return `${e.type}(${e.status})`;
    case 'timer':
      return `timer(${e.timer})`;
    default:
      return e.type;
  }
}

export const start = (timer: TimerName): TxnAction => ({ type: 'startTimer', timer });
export const cancel = (timer: TimerName): TxnAction => ({ type: 'cancelTimer', timer });
export const act = <T extends Exclude<TxnAction['type'], 'startTimer' | 'cancelTimer'>>(type: T): TxnAction =>
  ({ type }) as TxnAction;

/** Status classes used by every machine. */
export const isProvisional = (s: number): boolean => s >= 100 && s <= 199;
export const isSuccess = (s: number): boolean => s >= 200 && s <= 299;
export const isFailure = (s: number): boolean => s >= 300 && s <= 699;

import { InvalidStateError } from '../../lib/errors.js';

/**
 * The B2BUA call state machine: one caller leg (A, we are its UAS) and one agent leg (B, we are
 * its UAC). Pure: a state and an event give the next state and the actions the runtime performs.
 *
 *             b.provisional            b.answered              a.ack
 *   Calling ───────────────► Ringing ─────────────► Answered ─────────► Confirmed
 *     │  \______________________│_____b.answered______▲  │  \               │
 *     │ a.cancel                │ a.cancel              │  │ b.bye         │ a.bye / b.bye / hangup
 *     ▼                         ▼                       │  ▼               ▼
 *   Cancelling ◄────────────────┘       ack.timeout  ByeAfterAck ──a.ack──► Ended
 *     │ b.rejected / b.answered / b.timeout  └──────────┴──────────────────► Ended
 *     └──────────────────────────────────────────────────────────────────► Ended
 *   Calling/Ringing --b.rejected / b.timeout / hangup--> Ended
 *   Confirmed --b.bye-in-capture--> AgentGone --capture.done / a.bye / hangup--> Ended
 *     (the agent hung up or closed the tab while the customer keys a card: the capture goes on
 *      with the customer alone, who is hung up on once it has heard the outcome)
 *
 * RFC 3261 9.1 (CANCEL), 13.3.1.4 (2xx retransmitted until ACK, give up after 64*T1), 15 (BYE only
 * after the ACK for our 2xx or its timeout).
 */
export enum CallState {
  Calling = 'calling',
  Ringing = 'ringing',
  Answered = 'answered',
  ByeAfterAck = 'bye-after-ack',
  Confirmed = 'confirmed',
  AgentGone = 'agent-gone',
  Cancelling = 'cancelling',
  Ended = 'ended',
}

export type CallEvent =
  | 'b.provisional'
  | 'b.answered'
  | 'b.rejected'
  | 'b.timeout'
  | 'a.cancel'
  | 'a.ack'
  | 'ack.timeout'
  | 'a.bye'
  | 'b.bye'
  | 'b.bye-in-capture'
  | 'capture.done'
  | 'hangup';

export type CallAction =
  | 'relay-provisional'
  | 'answer-a'
  | 'reject-a'
  | 'reject-a-487'
  | 'cancel-b'
  | 'ack-b'
  | 'bye-a'
  | 'bye-b'
  | 'release';

export interface Transition {
  state: CallState;
  actions: CallAction[];
}

type Table = Partial<Record<CallState, Partial<Record<CallEvent, Transition>>>>;

const t = (state: CallState, ...actions: CallAction[]): Transition => ({ state, actions });
const S = CallState;

const early = {
  'b.provisional': t(S.Ringing, 'relay-provisional'),
  // RFC 3261 13.2.2.4: the agent's 2xx is ACKed at once, not when the caller ACKs ours: a caller
  // that never ACKs must not make the agent give up its own 2xx (64*T1) before we end the call.
  'b.answered': t(S.Answered, 'ack-b', 'answer-a'),
  'b.rejected': t(S.Ended, 'reject-a', 'release'),
  'b.timeout': t(S.Ended, 'reject-a', 'release'),
  'a.cancel': t(S.Cancelling, 'reject-a-487', 'cancel-b'),
  hangup: t(S.Ended, 'cancel-b', 'reject-a', 'release'),
} satisfies Partial<Record<CallEvent, Transition>>;

export const CALL_TABLE: Table = {
  [S.Calling]: early,
  [S.Ringing]: early,
  [S.Cancelling]: {
    'b.provisional': t(S.Cancelling),
    'b.rejected': t(S.Ended, 'release'),
    'b.timeout': t(S.Ended, 'release'),
    // 200 OK crossed our CANCEL: the agent's dialog exists, so ACK and BYE it (RFC 3261 9.1).
    'b.answered': t(S.Ended, 'ack-b', 'bye-b', 'release'),
    hangup: t(S.Ended, 'release'),
  },
  [S.Answered]: {
    'a.ack': t(S.Confirmed),
    // RFC 3261 13.3.1.4 / RFC 6026 7.1: no ACK within 64*T1 (Timer L): BYE on both legs.
    'ack.timeout': t(S.Ended, 'bye-b', 'bye-a', 'release'),
    'a.bye': t(S.Ended, 'bye-b', 'release'),
    'b.bye': t(S.ByeAfterAck),
    'b.answered': t(S.Answered, 'ack-b'),
    hangup: t(S.Ended, 'bye-b', 'bye-a', 'release'),
  },
  [S.ByeAfterAck]: {
    'a.ack': t(S.Ended, 'bye-a', 'release'),
    'ack.timeout': t(S.Ended, 'bye-a', 'release'),
    'a.bye': t(S.Ended, 'release'),
    'b.answered': t(S.ByeAfterAck, 'ack-b'),
    hangup: t(S.Ended, 'bye-a', 'release'),
  },
  [S.Confirmed]: {
    'a.bye': t(S.Ended, 'bye-b', 'release'),
    'b.bye': t(S.Ended, 'bye-a', 'release'),
    'a.ack': t(S.Confirmed),
    'b.answered': t(S.Confirmed, 'ack-b'),
    'b.bye-in-capture': t(S.AgentGone),
    hangup: t(S.Ended, 'bye-a', 'bye-b', 'release'),
  },
  [S.AgentGone]: {
    'capture.done': t(S.Ended, 'bye-a', 'release'),
    'a.bye': t(S.Ended, 'release'),
    'a.ack': t(S.AgentGone),
    hangup: t(S.Ended, 'bye-a', 'release'),
  },
};

/** Pure transition; throws InvalidStateError on a move the table does not allow. */
export function nextCallState(state: CallState, event: CallEvent): Transition {
  const tr = CALL_TABLE[state]?.[event];
  if (!tr) throw new InvalidStateError('call', state, event);
  return tr;
}

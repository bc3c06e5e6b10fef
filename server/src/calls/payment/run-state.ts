import { InvalidStateError } from '../../lib/errors.js';

/**
 * Lifecycle of one payment run (a capture on the customer leg of a bridge). Pure: a state and an
 * event give the next state and the actions the runtime performs.
 *
 *            start                    outcome
 *   Created ───────► Running ──────────────────► Ending ──close──► Closed
 *      │               │ kill / close               │ kill (ignored: the strategy is under way)
 *      └── kill / close┴──────────────────────────────────────────► Closed
 *   Closed: kill, close and a late outcome (money that finished after a kill) change nothing.
 *
 * `kill` is the customer or the call going away: the capture is told the customer hung up (money
 * in flight is let finish) and no end-of-run strategy runs, since nobody is left to send it to.
 * `outcome` is the capture's end after its outcome prompt: the end-of-run strategy runs (BYE,
 * NOTIFY, REFER back), then the run closes.
 */
export enum RunState {
  Created = 'created',
  Running = 'running',
  Ending = 'ending',
  Closed = 'closed',
}

export type RunEvent = 'start' | 'outcome' | 'kill' | 'close';

export type RunAction = 'start-capture' | 'run-strategy' | 'hang-up-capture' | 'release';

export interface RunTransition {
  readonly state: RunState;
  readonly actions: readonly RunAction[];
}

const t = (state: RunState, ...actions: RunAction[]): RunTransition => ({ state, actions });
const S = RunState;

export const RUN_TABLE: Readonly<Record<RunState, Partial<Record<RunEvent, RunTransition>>>> = {
  [S.Created]: {
    start: t(S.Running, 'start-capture'),
    kill: t(S.Closed, 'release'),
    close: t(S.Closed, 'release'),
  },
  [S.Running]: {
    outcome: t(S.Ending, 'run-strategy'),
    kill: t(S.Closed, 'hang-up-capture', 'release'),
    close: t(S.Closed, 'hang-up-capture', 'release'),
  },
  [S.Ending]: {
    kill: t(S.Ending),
    close: t(S.Closed, 'release'),
  },
  [S.Closed]: {
    outcome: t(S.Closed),
    kill: t(S.Closed),
    close: t(S.Closed),
  },
};

/** Pure transition; throws InvalidStateError on a move the table does not allow. */
export function nextRunState(state: RunState, event: RunEvent): RunTransition {
  const tr = RUN_TABLE[state][event];
  if (!tr) throw new InvalidStateError('payment run', state, event);
  return tr;
}

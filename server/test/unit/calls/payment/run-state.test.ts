import { describe, expect, it } from 'vitest';
import { nextRunState, RUN_TABLE, RunState as S, type RunAction, type RunEvent } from '../../../../src/calls/payment/run-state.js';
import { InvalidStateError } from '../../../../src/lib/errors.js';

const moves: [S, RunEvent, S, RunAction[]][] = [
  [S.Created, 'start', S.Running, ['start-capture']],
  [S.Created, 'kill', S.Closed, ['release']],
  [S.Created, 'close', S.Closed, ['release']],
  [S.Running, 'outcome', S.Ending, ['run-strategy']],
  [S.Running, 'kill', S.Closed, ['hang-up-capture', 'release']],
  [S.Running, 'close', S.Closed, ['hang-up-capture', 'release']],
  [S.Ending, 'kill', S.Ending, []],
  [S.Ending, 'close', S.Closed, ['release']],
  [S.Closed, 'outcome', S.Closed, []],
  [S.Closed, 'kill', S.Closed, []],
  [S.Closed, 'close', S.Closed, []],
];

const illegal: [S, RunEvent][] = [
  [S.Created, 'outcome'],
  [S.Running, 'start'],
  [S.Ending, 'start'],
  [S.Ending, 'outcome'],
  [S.Closed, 'start'],
];

describe('payment run lifecycle (start / kill / done)', () => {
  it.each(moves)('%s + %s -> %s', (from, ev, to, actions) => {
    expect(nextRunState(from, ev)).toEqual({ state: to, actions });
  });

  it.each(illegal)('%s + %s is refused with InvalidStateError', (from, ev) => {
    expect(() => nextRunState(from, ev)).toThrow(InvalidStateError);
  });

  it('the table holds exactly the moves above', () => {
    const all = Object.entries(RUN_TABLE).flatMap(([s, row]) => Object.keys(row).map((e) => `${s}+${e}`));
    expect(all.sort()).toEqual(moves.map(([s, e]) => `${s}+${e}`).sort());
  });

  it('every way into Closed releases exactly once; the strategy runs only on an outcome while running', () => {
    for (const [from, row] of Object.entries(RUN_TABLE)) {
      for (const [ev, tr] of Object.entries(row)) {
        const releases = tr.actions.filter((a) => a === 'release').length;
        expect(releases).toBe(tr.state === S.Closed && from !== S.Closed ? 1 : 0);
        if (tr.actions.includes('run-strategy')) expect([from, ev]).toEqual([S.Running, 'outcome']);
      }
    }
  });
});

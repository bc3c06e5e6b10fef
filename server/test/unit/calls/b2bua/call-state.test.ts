import { describe, expect, it } from 'vitest';
import { CALL_TABLE, CallState as S, nextCallState, type CallAction, type CallEvent } from '../../../../src/calls/b2bua/call-state.js';
import { InvalidStateError } from '../../../../src/lib/errors.js';

const moves: [S, CallEvent, S, CallAction[]][] = [
  [S.Calling, 'b.provisional', S.Ringing, ['relay-provisional']],
  [S.Ringing, 'b.provisional', S.Ringing, ['relay-provisional']],
  [S.Calling, 'b.answered', S.Answered, ['ack-b', 'answer-a']],
  [S.Ringing, 'b.answered', S.Answered, ['ack-b', 'answer-a']],
  [S.Ringing, 'b.rejected', S.Ended, ['reject-a', 'release']],
  [S.Calling, 'b.timeout', S.Ended, ['reject-a', 'release']],
  [S.Ringing, 'a.cancel', S.Cancelling, ['reject-a-487', 'cancel-b']],
  [S.Calling, 'hangup', S.Ended, ['cancel-b', 'reject-a', 'release']],
  [S.Cancelling, 'b.provisional', S.Cancelling, []],
  [S.Cancelling, 'b.rejected', S.Ended, ['release']],
  [S.Cancelling, 'b.answered', S.Ended, ['ack-b', 'bye-b', 'release']],
  [S.Cancelling, 'b.timeout', S.Ended, ['release']],
  [S.Answered, 'a.ack', S.Confirmed, []],
  [S.Answered, 'ack.timeout', S.Ended, ['bye-b', 'bye-a', 'release']],
  [S.Answered, 'a.bye', S.Ended, ['bye-b', 'release']],
  [S.Answered, 'b.bye', S.ByeAfterAck, []],
  [S.Answered, 'b.answered', S.Answered, ['ack-b']],
  [S.ByeAfterAck, 'a.ack', S.Ended, ['bye-a', 'release']],
  [S.ByeAfterAck, 'ack.timeout', S.Ended, ['bye-a', 'release']],
  [S.Confirmed, 'a.bye', S.Ended, ['bye-b', 'release']],
  [S.Confirmed, 'b.bye', S.Ended, ['bye-a', 'release']],
  [S.Confirmed, 'b.answered', S.Confirmed, ['ack-b']],
  [S.Confirmed, 'a.ack', S.Confirmed, []],
  [S.Confirmed, 'hangup', S.Ended, ['bye-a', 'bye-b', 'release']],
  [S.Confirmed, 'b.bye-in-capture', S.AgentGone, []],
  [S.AgentGone, 'capture.done', S.Ended, ['bye-a', 'release']],
  [S.AgentGone, 'a.bye', S.Ended, ['release']],
  [S.AgentGone, 'a.ack', S.AgentGone, []],
  [S.AgentGone, 'hangup', S.Ended, ['bye-a', 'release']],
];

const illegal: [S, CallEvent][] = [
  [S.Calling, 'a.ack'],
  [S.Calling, 'a.bye'],
  [S.Confirmed, 'a.cancel'],
  [S.Confirmed, 'b.provisional'],
  [S.Cancelling, 'a.ack'],
  [S.Ended, 'a.bye'],
  [S.Ended, 'hangup'],
  [S.AgentGone, 'b.bye'],
  [S.AgentGone, 'b.bye-in-capture'],
  [S.Ringing, 'b.bye-in-capture'],
  [S.Confirmed, 'capture.done'],
];

describe('B2BUA call state machine', () => {
  it.each(moves)('%s + %s -> %s', (from, ev, to, actions) => {
    expect(nextCallState(from, ev)).toEqual({ state: to, actions });
  });

  it.each(illegal)('%s + %s is refused with InvalidStateError', (from, ev) => {
    expect(() => nextCallState(from, ev)).toThrow(InvalidStateError);
  });

  it('every transition that ends the call releases the media exactly once', () => {
    for (const row of Object.values(CALL_TABLE)) {
      for (const tr of Object.values(row ?? {})) {
        if (tr.state === S.Ended) expect(tr.actions.filter((a) => a === 'release')).toHaveLength(1);
        else expect(tr.actions).not.toContain('release');
      }
    }
  });

  it('every live state can be ended by a hangup', () => {
    for (const s of Object.values(S).filter((x) => x !== S.Ended)) {
      expect(nextCallState(s, 'hangup').state).toBe(S.Ended);
    }
  });
});

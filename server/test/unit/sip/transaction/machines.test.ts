/**
 * Table-driven tests of the four pure transition functions (docs/architecture.md practice 3), one row per
 * arrow of RFC 3261 Figures 5-8 as corrected by RFC 6026. Notation: `send`/`ack`/`resp`/`trying`
 * send, `+X`/`-X` start/cancel timer X, `tu` to TU, `timeout`/`terr` inform the TU.
 */
import { describe, expect, it } from 'vitest';
import {
  type ClientEvent,
  type ServerEvent,
  type Transition,
  type TxnAction,
  InvalidStateError,
  InviteClientState as IC,
  InviteServerState as IS,
  NonInviteClientState as NC,
  NonInviteServerState as NS,
  inviteClientStart,
  inviteClientTransition,
  inviteServerStart,
  inviteServerTransition,
  nonInviteClientStart,
  nonInviteClientTransition,
  nonInviteServerStart,
  nonInviteServerTransition,
} from '../../../../src/sip/transaction/index.js';

function fmt(actions: readonly TxnAction[]): string {
  return actions
    .map((a) => {
      switch (a.type) {
        case 'startTimer':
          return `+${a.timer}`;
        case 'cancelTimer':
          return `-${a.timer}`;
        case 'sendRequest':
          return 'send';
        case 'sendAck':
          return 'ack';
        case 'sendResponse':
          return 'resp';
        case 'sendTrying':
          return 'trying';
        case 'toTu':
          return 'tu';
        case 'transportError':
          return 'terr';
        default:
          return a.type;
      }
    })
    .join(' ');
}

/** `r180` response, `tu486` respond from TU, `timer:A`, `terr`, `req`, `ack`. */
function clientEvent(e: string): ClientEvent {
  if (e.startsWith('r')) return { type: 'response', status: Number(e.slice(1)) };
  if (e.startsWith('timer:')) return { type: 'timer', timer: e.slice(6) as 'A' };
  return { type: 'transportError' };
}
function serverEvent(e: string): ServerEvent {
  if (e.startsWith('tu')) return { type: 'respond', status: Number(e.slice(2)) };
  if (e.startsWith('timer:')) return { type: 'timer', timer: e.slice(6) as 'G' };
  if (e === 'req') return { type: 'request' };
  if (e === 'ack') return { type: 'ack' };
  return { type: 'transportError' };
}

type Ctx = 'U' | 'R';
type Row<S> = [from: S, event: string, ctx: Ctx, to: S, actions: string];
type Bad<S> = [from: S, event: string, ctx: Ctx];
const ctxOf = (c: Ctx) => ({ reliable: c === 'R' });

function suite<S extends string, E>(
  name: string,
  fn: (s: S, e: E, ctx: { reliable: boolean }) => Transition<S>,
  toEvent: (e: string) => E,
  legal: Row<S>[],
  illegal: Bad<S>[],
): void {
  describe(name, () => {
    it.each(legal)('%s --%s (%s)--> %s [%s]', (from, event, ctx, to, actions) => {
      const t = fn(from, toEvent(event), ctxOf(ctx));
      expect(t.state).toBe(to);
      expect(fmt(t.actions)).toBe(actions);
    });
    it.each(illegal)('%s --%s (%s)--> throws InvalidStateError', (from, event, ctx) => {
      expect(() => fn(from, toEvent(event), ctxOf(ctx))).toThrow(InvalidStateError);
    });
  });
}

describe('entry transitions', () => {
  it('INVITE client enters Calling sending the INVITE with Timer B, and Timer A only when unreliable', () => {
    expect([inviteClientStart({ reliable: false }).state, fmt(inviteClientStart({ reliable: false }).actions)]).toEqual([IC.Calling, 'send +B +A']);
    expect(fmt(inviteClientStart({ reliable: true }).actions)).toBe('send +B');
  });
  it('non-INVITE client enters Trying sending the request with Timer F, and Timer E only when unreliable', () => {
    expect([nonInviteClientStart({ reliable: false }).state, fmt(nonInviteClientStart({ reliable: false }).actions)]).toEqual([NC.Trying, 'send +F +E']);
    expect(fmt(nonInviteClientStart({ reliable: true }).actions)).toBe('send +F');
  });
  it('INVITE server enters Proceeding with the 100 Trying timer; non-INVITE server enters Trying silently', () => {
    expect([inviteServerStart().state, fmt(inviteServerStart().actions)]).toEqual([IS.Proceeding, '+Trying']);
    expect([nonInviteServerStart().state, fmt(nonInviteServerStart().actions)]).toEqual([NS.Trying, '']);
  });
});

// RFC 3261 Figure 5 + RFC 6026 7.2 (Accepted).
suite<IC, ClientEvent>('INVITE client transaction (Figure 5, RFC 6026)', inviteClientTransition, clientEvent,
  [
    [IC.Calling, 'timer:A', 'U', IC.Calling, 'send +A'],
    [IC.Calling, 'timer:B', 'U', IC.Terminated, 'timeout'],
    [IC.Calling, 'timer:B', 'R', IC.Terminated, 'timeout'],
    [IC.Calling, 'r100', 'U', IC.Proceeding, '-A -B tu'],
    [IC.Calling, 'r183', 'R', IC.Proceeding, '-A -B tu'],
    [IC.Calling, 'r200', 'U', IC.Accepted, '-A -B tu +M'],
    [IC.Calling, 'r202', 'R', IC.Accepted, '-A -B tu +M'],
    [IC.Calling, 'r302', 'U', IC.Completed, '-A -B ack tu +D'],
    [IC.Calling, 'r486', 'U', IC.Completed, '-A -B ack tu +D'],
    [IC.Calling, 'r503', 'R', IC.Completed, '-A -B ack tu +D'],
    [IC.Calling, 'r699', 'U', IC.Completed, '-A -B ack tu +D'],
    [IC.Calling, 'terr', 'U', IC.Terminated, 'terr'],
    [IC.Proceeding, 'r180', 'U', IC.Proceeding, 'tu'],
    [IC.Proceeding, 'r200', 'U', IC.Accepted, 'tu +M'],
    [IC.Proceeding, 'r487', 'U', IC.Completed, 'ack tu +D'],
    [IC.Proceeding, 'r603', 'R', IC.Completed, 'ack tu +D'],
    [IC.Proceeding, 'terr', 'R', IC.Terminated, 'terr'],
    [IC.Completed, 'r487', 'U', IC.Completed, 'ack'],
    [IC.Completed, 'r200', 'U', IC.Completed, 'tu'],
    [IC.Completed, 'r180', 'U', IC.Completed, ''],
    [IC.Completed, 'timer:D', 'U', IC.Terminated, ''],
    [IC.Completed, 'timer:D', 'R', IC.Terminated, ''],
    [IC.Completed, 'terr', 'U', IC.Terminated, 'terr'],
    [IC.Accepted, 'r200', 'U', IC.Accepted, 'tu'],
    [IC.Accepted, 'r180', 'U', IC.Accepted, ''],
    [IC.Accepted, 'r486', 'U', IC.Accepted, ''],
    [IC.Accepted, 'timer:M', 'U', IC.Terminated, ''],
    [IC.Accepted, 'terr', 'R', IC.Accepted, ''],
  ],
  [
    [IC.Calling, 'timer:A', 'R'],
    [IC.Calling, 'timer:D', 'U'],
    [IC.Calling, 'timer:M', 'U'],
    [IC.Calling, 'r99', 'U'],
    [IC.Calling, 'r700', 'U'],
    [IC.Proceeding, 'timer:A', 'U'],
    [IC.Proceeding, 'timer:B', 'U'],
    [IC.Completed, 'timer:A', 'U'],
    [IC.Completed, 'timer:M', 'U'],
    [IC.Accepted, 'timer:D', 'U'],
    [IC.Accepted, 'timer:B', 'U'],
    [IC.Terminated, 'r200', 'U'],
    [IC.Terminated, 'timer:B', 'U'],
    [IC.Terminated, 'terr', 'U'],
  ],
);

// RFC 3261 Figure 6.
suite<NC, ClientEvent>('non-INVITE client transaction (Figure 6)', nonInviteClientTransition, clientEvent,
  [
    [NC.Trying, 'timer:E', 'U', NC.Trying, 'send +E'],
    [NC.Trying, 'timer:F', 'U', NC.Terminated, 'timeout'],
    [NC.Trying, 'timer:F', 'R', NC.Terminated, 'timeout'],
    [NC.Trying, 'r100', 'U', NC.Proceeding, 'tu'],
    [NC.Trying, 'r200', 'U', NC.Completed, '-E -F tu +K'],
    [NC.Trying, 'r404', 'R', NC.Completed, '-E -F tu +K'],
    [NC.Trying, 'terr', 'U', NC.Terminated, 'terr'],
    [NC.Proceeding, 'timer:E', 'U', NC.Proceeding, 'send +E'],
    [NC.Proceeding, 'timer:F', 'U', NC.Terminated, 'timeout'],
    [NC.Proceeding, 'r180', 'U', NC.Proceeding, 'tu'],
    [NC.Proceeding, 'r200', 'U', NC.Completed, '-E -F tu +K'],
    [NC.Proceeding, 'r500', 'U', NC.Completed, '-E -F tu +K'],
    [NC.Proceeding, 'terr', 'R', NC.Terminated, 'terr'],
    [NC.Completed, 'r200', 'U', NC.Completed, ''],
    [NC.Completed, 'r100', 'U', NC.Completed, ''],
    [NC.Completed, 'timer:K', 'U', NC.Terminated, ''],
    [NC.Completed, 'timer:K', 'R', NC.Terminated, ''],
    [NC.Completed, 'terr', 'U', NC.Completed, ''],
  ],
  [
    [NC.Trying, 'timer:E', 'R'],
    [NC.Trying, 'timer:K', 'U'],
    [NC.Trying, 'r700', 'U'],
    [NC.Proceeding, 'timer:K', 'U'],
    [NC.Completed, 'timer:E', 'U'],
    [NC.Completed, 'timer:F', 'U'],
    [NC.Completed, 'r0', 'U'],
    [NC.Terminated, 'r200', 'U'],
    [NC.Terminated, 'timer:K', 'U'],
  ],
);

// RFC 3261 Figure 7 + RFC 6026 7.1 (Accepted).
suite<IS, ServerEvent>('INVITE server transaction (Figure 7, RFC 6026)', inviteServerTransition, serverEvent,
  [
    [IS.Proceeding, 'req', 'U', IS.Proceeding, 'resp'],
    [IS.Proceeding, 'timer:Trying', 'U', IS.Proceeding, 'trying'],
    [IS.Proceeding, 'tu180', 'U', IS.Proceeding, '-Trying resp'],
    [IS.Proceeding, 'tu100', 'R', IS.Proceeding, '-Trying resp'],
    [IS.Proceeding, 'tu200', 'U', IS.Accepted, '-Trying resp +L'],
    [IS.Proceeding, 'tu200', 'R', IS.Accepted, '-Trying resp +L'],
    [IS.Proceeding, 'tu486', 'U', IS.Completed, '-Trying resp +G +H'],
    [IS.Proceeding, 'tu486', 'R', IS.Completed, '-Trying resp +H'],
    [IS.Proceeding, 'tu302', 'U', IS.Completed, '-Trying resp +G +H'],
    [IS.Proceeding, 'terr', 'U', IS.Terminated, 'terr'],
    [IS.Completed, 'req', 'U', IS.Completed, 'resp'],
    [IS.Completed, 'timer:G', 'U', IS.Completed, 'resp +G'],
    [IS.Completed, 'ack', 'U', IS.Confirmed, '-G -H +I'],
    [IS.Completed, 'ack', 'R', IS.Confirmed, '-G -H +I'],
    [IS.Completed, 'timer:H', 'U', IS.Terminated, 'timeout'],
    [IS.Completed, 'terr', 'U', IS.Terminated, 'terr'],
    [IS.Confirmed, 'ack', 'U', IS.Confirmed, ''],
    [IS.Confirmed, 'req', 'U', IS.Confirmed, ''],
    [IS.Confirmed, 'timer:I', 'U', IS.Terminated, ''],
    [IS.Confirmed, 'terr', 'U', IS.Confirmed, ''],
    [IS.Accepted, 'req', 'U', IS.Accepted, ''],
    [IS.Accepted, 'ack', 'U', IS.Accepted, 'tu'],
    [IS.Accepted, 'tu200', 'U', IS.Accepted, 'resp'],
    [IS.Accepted, 'timer:L', 'U', IS.Terminated, ''],
    [IS.Accepted, 'terr', 'U', IS.Accepted, 'terr'],
  ],
  [
    [IS.Proceeding, 'ack', 'U'],
    [IS.Proceeding, 'timer:G', 'U'],
    [IS.Proceeding, 'timer:H', 'U'],
    [IS.Proceeding, 'tu700', 'U'],
    [IS.Proceeding, 'tu99', 'U'],
    [IS.Completed, 'tu200', 'U'],
    [IS.Completed, 'tu180', 'U'],
    [IS.Completed, 'tu486', 'U'],
    [IS.Completed, 'timer:G', 'R'],
    [IS.Completed, 'timer:Trying', 'U'],
    [IS.Confirmed, 'tu200', 'U'],
    [IS.Confirmed, 'timer:G', 'U'],
    [IS.Confirmed, 'timer:H', 'U'],
    [IS.Accepted, 'tu486', 'U'],
    [IS.Accepted, 'tu180', 'U'],
    [IS.Accepted, 'timer:G', 'U'],
    [IS.Terminated, 'req', 'U'],
    [IS.Terminated, 'ack', 'U'],
    [IS.Terminated, 'tu200', 'U'],
  ],
);

// RFC 3261 Figure 8.
suite<NS, ServerEvent>('non-INVITE server transaction (Figure 8)', (s, e) => nonInviteServerTransition(s, e), serverEvent,
  [
    [NS.Trying, 'req', 'U', NS.Trying, ''],
    [NS.Trying, 'tu100', 'U', NS.Proceeding, 'resp'],
    [NS.Trying, 'tu200', 'U', NS.Completed, 'resp +J'],
    [NS.Trying, 'tu404', 'R', NS.Completed, 'resp +J'],
    [NS.Trying, 'terr', 'U', NS.Trying, ''],
    [NS.Proceeding, 'req', 'U', NS.Proceeding, 'resp'],
    [NS.Proceeding, 'tu183', 'U', NS.Proceeding, 'resp'],
    [NS.Proceeding, 'tu200', 'U', NS.Completed, 'resp +J'],
    [NS.Proceeding, 'tu603', 'U', NS.Completed, 'resp +J'],
    [NS.Proceeding, 'terr', 'U', NS.Terminated, 'terr'],
    [NS.Completed, 'req', 'U', NS.Completed, 'resp'],
    [NS.Completed, 'timer:J', 'U', NS.Terminated, ''],
    [NS.Completed, 'timer:J', 'R', NS.Terminated, ''],
    [NS.Completed, 'terr', 'U', NS.Terminated, 'terr'],
  ],
  [
    [NS.Trying, 'timer:J', 'U'],
    [NS.Trying, 'ack', 'U'],
    [NS.Trying, 'tu700', 'U'],
    [NS.Proceeding, 'timer:J', 'U'],
    [NS.Completed, 'tu200', 'U'],
    [NS.Completed, 'tu100', 'U'],
    [NS.Completed, 'ack', 'U'],
    [NS.Terminated, 'req', 'U'],
    [NS.Terminated, 'tu200', 'U'],
    [NS.Terminated, 'timer:J', 'U'],
  ],
);

describe('InvalidStateError', () => {
  it('names the machine, the state and the event, and carries a code', () => {
    try {
      inviteServerTransition(IS.Completed, { type: 'respond', status: 200 }, { reliable: false });
      expect.unreachable();
    } catch (err) {
      expect(err).toBeInstanceOf(InvalidStateError);
      const e = err as InvalidStateError;
      expect([e.code, e.machine, e.state, e.event]).toEqual(['INVALID_STATE', 'InviteServer', 'Completed', 'respond(200)']);
    }
  });
});

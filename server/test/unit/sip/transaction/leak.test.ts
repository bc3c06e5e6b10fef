/** Leak check: many transactions of every kind, over reliable and unreliable flows, all reaped. */
import { describe, expect, it } from 'vitest';
import { FakeClock } from '../../../support/fake-clock.js';
import {
  type ClientEvent,
  InvalidStateError,
  InviteClientState,
  InviteServerState,
  NonInviteClientState,
  NonInviteServerState,
  type ServerEvent,
  type TimerName,
  TransactionLayer,
  type TransactionLogger,
  inviteClientTransition,
  inviteServerTransition,
  nonInviteClientTransition,
  nonInviteServerTransition,
} from '../../../../src/sip/transaction/index.js';
import { silentLogger } from '../../../../src/observability/logger.js';
import { FakeFlow, buildAck, recordingUser, request, response, tuResponse } from './helpers.js';

const N = 50;

describe('transaction leak check', () => {
  it.each([
    ['unreliable (UDP)', false],
    ['reliable (TCP)', true],
  ])('every kind of transaction ends and leaves size 0 and no timer, over a %s flow', (_name, reliable) => {
    const clock = new FakeClock();
    const logger: TransactionLogger = silentLogger; // a pino Logger fits the layer's logger type
    const layer = new TransactionLayer({ clock, logger });
    const flow = new FakeFlow(clock, reliable);
    const failing = new FakeFlow(clock, reliable);
    failing.fail = true;

    for (let i = 0; i < N; i++) {
      const b = `z9hG4bK-${i}`;
      const send = (method: string, branch: string, f = flow) =>
        layer.sendRequest({ request: `${method} sip:x SIP/2.0\r\n\r\n`, method, branch, flow: f, user: recordingUser(), buildAck });
      // Client: INVITE rejected after ringing, INVITE accepted, INVITE unanswered, INVITE on a dead flow.
      send('INVITE', `${b}-c1`);
      layer.receiveResponse(response(180, { branch: `${b}-c1` }), flow);
      layer.receiveResponse(response(486, { branch: `${b}-c1` }), flow);
      send('INVITE', `${b}-c2`);
      layer.receiveResponse(response(200, { branch: `${b}-c2` }), flow);
      send('INVITE', `${b}-c3`);
      send('INVITE', `${b}-c4`, failing);
      // Client: non-INVITE answered, unanswered, and a CANCEL sharing an INVITE's branch.
      send('OPTIONS', `${b}-c5`);
      layer.receiveResponse(response(200, { branch: `${b}-c5`, method: 'OPTIONS' }), flow);
      send('BYE', `${b}-c6`);
      send('CANCEL', `${b}-c3`);
      layer.receiveResponse(response(200, { branch: `${b}-c3`, method: 'CANCEL' }), flow);

      // Server: INVITE rejected + ACK, rejected without ACK (Timer H), accepted (Timer L), never answered then CANCELled.
      const inv = (tag: string) => layer.receiveRequest(request({ branch: `${b}-${tag}`, callId: `${i}-${tag}` }), flow);
      const r1 = inv('s1');
      if (r1.kind === 'new') r1.txn.respond(486, tuResponse(486));
      layer.receiveRequest(request({ method: 'ACK', branch: `${b}-s1`, callId: `${i}-s1`, toTag: 'gw-tag-1' }), flow);
      const r2 = inv('s2');
      if (r2.kind === 'new') r2.txn.respond(500, tuResponse(500));
      const r3 = inv('s3');
      if (r3.kind === 'new') r3.txn.respond(200, tuResponse(200));
      const r4 = inv('s4');
      const c4 = layer.receiveRequest(request({ method: 'CANCEL', branch: `${b}-s4`, callId: `${i}-s4` }), flow);
      if (c4.kind === 'cancel') {
        c4.txn.respond(200, tuResponse(200));
        c4.target?.respond(487, tuResponse(487));
      }
      layer.receiveRequest(request({ method: 'ACK', branch: `${b}-s4`, callId: `${i}-s4`, toTag: 'gw-tag-1' }), flow);
      expect([r1.kind, r2.kind, r3.kind, r4.kind, c4.kind]).toEqual(['new', 'new', 'new', 'new', 'cancel']);
      expect(c4.kind === 'cancel' && c4.target).toBe(r4.kind === 'new' && r4.txn);
      // Server: non-INVITE answered, and an RFC 2543 one (no cookie).
      const r5 = layer.receiveRequest(request({ method: 'OPTIONS', branch: `${b}-s5` }), flow);
      if (r5.kind === 'new') r5.txn.respond(200, tuResponse(200));
      const r6 = layer.receiveRequest(request({ method: 'INFO', branch: `legacy-${i}` }), flow);
      if (r6.kind === 'new') r6.txn.respond(200, tuResponse(200));
      expect([r5.kind, r6.kind]).toEqual(['new', 'new']);
      clock.advance(10);
    }
    expect(layer.size).toBeGreaterThan(0);
    clock.advance(64_000);
    expect(layer.size).toBe(0);
    expect(clock.pending()).toBe(0);
    layer.close();
  });
});

describe('totality of the pure machines', () => {
  const timers: TimerName[] = ['A', 'B', 'D', 'E', 'F', 'G', 'H', 'I', 'J', 'K', 'L', 'M', 'Trying'];
  const statuses = [100, 180, 200, 299, 302, 486, 699];
  const clientEvents: ClientEvent[] = [
    ...statuses.map((status) => ({ type: 'response' as const, status })),
    ...timers.map((timer) => ({ type: 'timer' as const, timer })),
    { type: 'transportError' },
  ];
  const serverEvents: ServerEvent[] = [
    ...statuses.map((status) => ({ type: 'respond' as const, status })),
    ...timers.map((timer) => ({ type: 'timer' as const, timer })),
    { type: 'request' },
    { type: 'ack' },
    { type: 'transportError' },
  ];
  const machines: Array<[string, string[], (s: string, e: never, ctx: { reliable: boolean }) => unknown, unknown[]]> = [
    ['InviteClient', Object.values(InviteClientState), inviteClientTransition as never, clientEvents],
    ['NonInviteClient', Object.values(NonInviteClientState), nonInviteClientTransition as never, clientEvents],
    ['InviteServer', Object.values(InviteServerState), inviteServerTransition as never, serverEvents],
    ['NonInviteServer', Object.values(NonInviteServerState), nonInviteServerTransition as never, serverEvents],
  ];

  it.each(machines)('%s answers every (state, event) with a transition or an InvalidStateError, never anything else', (_n, states, fn, events) => {
    for (const reliable of [false, true]) {
      for (const s of states) {
        for (const e of events) {
          try {
            fn(s, e as never, { reliable });
          } catch (err) {
            expect(err).toBeInstanceOf(InvalidStateError);
          }
        }
      }
    }
  });

  it.each(machines)('%s: Terminated accepts nothing', (_n, states, fn, events) => {
    expect(states).toContain('Terminated');
    for (const e of events) expect(() => fn('Terminated', e as never, { reliable: false })).toThrow(InvalidStateError);
  });
});

/** Runtime of the client transactions (RFC 3261 17.1) through the TransactionLayer, on a FakeClock. */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { FakeClock } from '../../../support/fake-clock.js';
import {
  InvalidStateError,
  InviteClientState,
  NonInviteClientState,
  TransactionLayer,
} from '../../../../src/sip/transaction/index.js';
import { FakeFlow, RecordingLogger, buildAck, recordingUser, response } from './helpers.js';

let clock: FakeClock;
let logger: RecordingLogger;
let layer: TransactionLayer;
let udp: FakeFlow;
let tcp: FakeFlow;

beforeEach(() => {
  clock = new FakeClock();
  logger = new RecordingLogger();
  layer = new TransactionLayer({ clock, logger });
  udp = new FakeFlow(clock, false);
  tcp = new FakeFlow(clock, true);
});

afterEach(() => {
  // Leak check after every scenario: nothing live once it has run out, and no timer left behind.
  clock.advance(120_000);
  expect(layer.size).toBe(0);
  layer.close();
  expect(clock.pending()).toBe(0);
});

const INVITE = 'INVITE sip:bob@peer.example SIP/2.0\r\nVia: SIP/2.0/UDP 203.0.113.1;branch=z9hG4bK-out-1\r\n\r\n';
const OPTIONS = 'OPTIONS sip:bob@peer.example SIP/2.0\r\nVia: SIP/2.0/UDP 203.0.113.1;branch=z9hG4bK-out-1\r\n\r\n';

function invite(flow: FakeFlow, user = recordingUser(), branch = 'z9hG4bK-out-1') {
  const txn = layer.sendRequest({ request: INVITE, method: 'INVITE', branch, flow, user, buildAck });
  return { txn, user };
}
function options(flow: FakeFlow, user = recordingUser(), method = 'OPTIONS') {
  const txn = layer.sendRequest({ request: OPTIONS, method, branch: 'z9hG4bK-out-1', flow, user });
  return { txn, user };
}

describe('INVITE client transaction (17.1.1)', () => {
  it('over UDP retransmits after 500, 1000, 2000, 4000 ... ms and times out with Timer B at 32 s', () => {
    const { txn, user } = invite(udp);
    clock.advance(31_999);
    expect(udp.times('INVITE')).toEqual([0, 500, 1500, 3500, 7500, 15500, 31500]);
    expect(user.calls).toEqual([]);
    clock.advance(1);
    expect(user.calls).toEqual(['timeout']);
    expect(txn.state).toBe(InviteClientState.Terminated);
    expect(layer.size).toBe(0);
  });

  it('over a reliable flow sends once and still times out with Timer B', () => {
    const { user } = invite(tcp);
    clock.advance(32_000);
    expect(tcp.times('INVITE')).toEqual([0]);
    expect(user.calls).toEqual(['timeout']);
  });

  it('a provisional response stops retransmission and Timer B; Proceeding waits for the final', () => {
    const { txn, user } = invite(udp);
    clock.advance(700);
    layer.receiveResponse(response(180), udp);
    clock.advance(60_000);
    expect(udp.times('INVITE')).toEqual([0, 500]);
    expect(txn.state).toBe(InviteClientState.Proceeding);
    expect(user.calls).toEqual(['response 180']);
    layer.receiveResponse(response(486), udp);
    expect(user.calls).toEqual(['response 180', 'response 486']);
  });

  it('a non-2xx final is ACKed by the transaction, its retransmissions re-ACKed but not passed up, Timer D ends it', () => {
    const { txn, user } = invite(udp);
    expect(layer.receiveResponse(response(486), udp)).toEqual({ kind: 'matched', txn });
    expect(txn.state).toBe(InviteClientState.Completed);
    clock.advance(1000);
    layer.receiveResponse(response(486), udp);
    expect(udp.sent.map((s) => s.message.split(' ')[0])).toEqual(['INVITE', 'ACK', 'ACK']);
    expect(udp.sent[1].message).toContain('tag=peer-1');
    expect(user.calls).toEqual(['response 486']);
    clock.advance(SipD - 1001);
    expect(layer.size).toBe(1);
    clock.advance(1);
    expect(txn.state).toBe(InviteClientState.Terminated);
    expect(layer.size).toBe(0);
  });

  it('over a reliable flow a non-2xx final ends the transaction at once (Timer D = 0)', () => {
    const { txn } = invite(tcp);
    layer.receiveResponse(response(503), tcp);
    expect(tcp.times('ACK')).toEqual([0]);
    expect(txn.state).toBe(InviteClientState.Terminated);
    expect(layer.size).toBe(0);
  });

  it('a 2xx moves to Accepted (RFC 6026): retransmitted 2xx reach the TU until Timer M, then come back unmatched', () => {
    const { txn, user } = invite(udp);
    layer.receiveResponse(response(200), udp);
    layer.receiveResponse(response(200), udp);
    expect(txn.state).toBe(InviteClientState.Accepted);
    expect(user.calls).toEqual(['response 200', 'response 200']);
    expect(udp.times('ACK')).toEqual([]); // the TU ACKs a 2xx (13.2.2.4)
    clock.advance(32_000);
    expect(layer.size).toBe(0);
    const late = response(200);
    expect(layer.receiveResponse(late, udp)).toEqual({ kind: 'unmatched-2xx', response: late, flow: udp });
  });

  it('reports a transport error on the first send before sendRequest returns, and on a failed retransmission', () => {
    udp.fail = true;
    const first = invite(udp);
    expect(first.user.calls).toEqual(['transport-error']);
    expect(first.txn.terminated).toBe(true);
    expect(layer.size).toBe(0);

    udp.fail = false;
    const second = invite(udp);
    udp.fail = true;
    clock.advance(500);
    expect(second.user.calls).toEqual(['transport-error']);
    expect(layer.size).toBe(0);
  });

  it('a closed flow is a transport error for the transactions on it', () => {
    const { user } = invite(tcp);
    layer.receiveResponse(response(100), tcp);
    layer.flowClosed(tcp);
    expect(user.calls).toEqual(['response 100', 'transport-error']);
    expect(layer.size).toBe(0);
  });

  it('without buildAck builds the non-2xx ACK itself from its INVITE (17.1.1.3), and refuses ACK and a duplicate branch', () => {
    const user = recordingUser();
    const full = [
      'INVITE sip:bob@peer.example SIP/2.0', 'Via: SIP/2.0/UDP 203.0.113.1;branch=z9hG4bK-own', 'Max-Forwards: 69', 'Route: <sip:p1.example;lr>',
      'From: <sip:gw@gw.example>;tag=gw-1', 'To: <sip:bob@peer.example>', 'Call-ID: out-1@gw.example', 'CSeq: 7 INVITE', 'Content-Length: 0', '', '',
    ].join('\r\n');
    layer.sendRequest({ request: full, method: 'INVITE', branch: 'z9hG4bK-own', flow: udp, user });
    layer.receiveResponse(response(486, { branch: 'z9hG4bK-own', cseq: 7 }), udp);
    const ack = udp.sent.map((s) => s.message).find((m) => m.startsWith('ACK'));
    expect(ack).toBe([
      'ACK sip:bob@peer.example SIP/2.0', 'Via: SIP/2.0/UDP 203.0.113.1;branch=z9hG4bK-own', 'Max-Forwards: 70', 'Route: <sip:p1.example;lr>',
      'From: <sip:gw@gw.example>;tag=gw-1', 'To: <sip:bob@peer.example>;tag=peer-1', 'Call-ID: out-1@gw.example', 'CSeq: 7 ACK', 'Content-Length: 0', '', '',
    ].join('\r\n'));
    expect(() => layer.sendRequest({ request: INVITE, method: 'ACK', branch: 'z9hG4bK-x', flow: udp, user })).toThrow(TypeError);
    invite(udp);
    expect(() => invite(udp)).toThrow(/already exists/);
    layer.close();
  });
});

const SipD = 32_000;

describe('non-INVITE client transaction (17.1.2)', () => {
  it('over UDP Timer E doubles up to T2 and Timer F times out at 32 s', () => {
    const { user } = options(udp);
    clock.advance(31_999);
    expect(udp.times('OPTIONS')).toEqual([0, 500, 1500, 3500, 7500, 11500, 15500, 19500, 23500, 27500, 31500]);
    clock.advance(1);
    expect(user.calls).toEqual(['timeout']);
    expect(layer.size).toBe(0);
  });

  it('in Proceeding Timer E fires at T2', () => {
    const { txn } = options(udp);
    clock.advance(100);
    layer.receiveResponse(response(100, { method: 'OPTIONS' }), udp);
    expect(txn.state).toBe(NonInviteClientState.Proceeding);
    clock.advance(8_400);
    expect(udp.times('OPTIONS')).toEqual([0, 500, 4500, 8500]);
  });

  it('over a reliable flow sends once; a final ends it at once (Timer K = 0)', () => {
    const { txn, user } = options(tcp);
    clock.advance(10_000);
    layer.receiveResponse(response(200, { method: 'OPTIONS' }), tcp);
    expect(tcp.sent).toHaveLength(1);
    expect(user.calls).toEqual(['response 200']);
    expect(txn.state).toBe(NonInviteClientState.Terminated);
  });

  it('in Completed absorbs response retransmissions until Timer K (T4 over UDP)', () => {
    const { txn, user } = options(udp);
    layer.receiveResponse(response(404, { method: 'OPTIONS' }), udp);
    clock.advance(4_999);
    layer.receiveResponse(response(404, { method: 'OPTIONS' }), udp);
    expect(user.calls).toEqual(['response 404']);
    expect(udp.sent).toHaveLength(1);
    expect(txn.state).toBe(NonInviteClientState.Completed);
    clock.advance(1);
    expect(layer.size).toBe(0);
  });

  it('matches responses by branch and CSeq method: a CANCEL shares the INVITE branch but not its transaction', () => {
    const inv = invite(udp);
    const can = options(udp, recordingUser(), 'CANCEL');
    layer.receiveResponse(response(200, { method: 'CANCEL' }), udp);
    layer.receiveResponse(response(487), udp);
    expect(can.user.calls).toEqual(['response 200']);
    expect(inv.user.calls).toEqual(['response 487']);
    expect(layer.receiveResponse(response(200, { method: 'BYE' }), udp)).toEqual({ kind: 'unmatched' });
    expect(layer.receiveResponse(response(200, { branch: 'z9hG4bK-other', method: 'CANCEL' }), udp)).toEqual({ kind: 'unmatched' });
  });

  it("a TU callback's exception is logged and the transaction goes on", () => {
    const user = { ...recordingUser(), onResponse: () => { throw new Error('boom'); } };
    const { txn } = options(udp, user);
    layer.receiveResponse(response(200, { method: 'OPTIONS' }), udp);
    expect(txn.state).toBe(NonInviteClientState.Completed);
    expect(logger.entries.some((e) => e.level === 'error')).toBe(true);
  });
});

describe('lifecycle', () => {
  it('dispose is idempotent, cancels timers, calls onTerminated once and not the TU', () => {
    const { txn, user } = invite(udp);
    let terminated = 0;
    txn.onTerminated(() => terminated++);
    txn.dispose();
    txn.dispose();
    expect([terminated, layer.size, clock.pending()]).toEqual([1, 0, 0]);
    clock.advance(40_000);
    expect(user.calls).toEqual([]);
    expect(udp.sent).toHaveLength(1);
    let late = 0;
    txn.onTerminated(() => late++);
    expect(late).toBe(1);
  });

  it('close is idempotent, cancels every timer, and sendRequest after close throws', () => {
    invite(udp);
    options(tcp);
    expect(layer.size).toBe(2);
    layer.close();
    layer.close();
    expect([layer.size, clock.pending()]).toEqual([0, 0]);
    expect(() => options(udp)).toThrow(InvalidStateError);
  });
});

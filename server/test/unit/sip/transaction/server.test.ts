/** Runtime of the server transactions (RFC 3261 17.2) and request matching (17.2.3, 9.2), on a FakeClock. */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { FakeClock } from '../../../support/fake-clock.js';
import {
  InvalidStateError,
  InviteServerState,
  NonInviteServerState,
  type RequestResult,
  type ServerTransaction,
  TransactionLayer,
} from '../../../../src/sip/transaction/index.js';
import { FakeFlow, RecordingLogger, type ReqOpts, request, tuResponse } from './helpers.js';

let clock: FakeClock;
let layer: TransactionLayer;
let udp: FakeFlow;
let tcp: FakeFlow;

beforeEach(() => {
  clock = new FakeClock();
  layer = new TransactionLayer({ clock, logger: new RecordingLogger() });
  udp = new FakeFlow(clock, false);
  tcp = new FakeFlow(clock, true);
});

afterEach(() => {
  clock.advance(120_000);
  expect(layer.size).toBe(0);
  layer.close();
  expect(clock.pending()).toBe(0);
});

function txnOf(r: RequestResult): ServerTransaction {
  if (r.kind !== 'new' && r.kind !== 'cancel') throw new Error(`expected a new transaction, got ${r.kind}`);
  return r.txn;
}
const receive = (flow: FakeFlow, o: ReqOpts = {}) => layer.receiveRequest(request(o), flow);
const ack = (flow: FakeFlow, o: ReqOpts = {}) => receive(flow, { method: 'ACK', toTag: 'gw-tag-1', ...o });
const statuses = (flow: FakeFlow) => flow.sent.map((s) => Number(s.message.split(' ')[1]));

describe('INVITE server transaction (17.2.1)', () => {
  it('sends 100 Trying after 200 ms when the TU is silent, without a To tag (8.2.6)', () => {
    const txn = txnOf(receive(udp));
    clock.advance(199);
    expect(udp.sent).toHaveLength(0);
    clock.advance(1);
    expect(udp.times('SIP/2.0 100')).toEqual([200]);
    expect(udp.sent[0].message).toMatch(/^To: <sip:pay@gw\.example>\r$/m);
    txn.respond(486, tuResponse(486));
  });

  it('sends no 100 Trying when the TU answered within 200 ms', () => {
    const txn = txnOf(receive(udp));
    clock.advance(100);
    txn.respond(180, tuResponse(180));
    clock.advance(1_000);
    expect(statuses(udp)).toEqual([180]);
    txn.respond(200, tuResponse(200));
  });

  it('absorbs INVITE retransmissions, resending the most recent provisional (if any)', () => {
    const txn = txnOf(receive(udp));
    expect(receive(udp)).toEqual({ kind: 'retransmission', txn });
    expect(udp.sent).toHaveLength(0);
    clock.advance(200);
    receive(udp);
    txn.respond(183, tuResponse(183));
    receive(udp);
    expect(statuses(udp)).toEqual([100, 100, 183, 183]);
    txn.respond(487, tuResponse(487));
  });

  it('over UDP resends a non-2xx final on Timer G (T1 doubling to T2) until Timer H reports a timeout', () => {
    const txn = txnOf(receive(udp));
    const timeouts: number[] = [];
    txn.onTimeout(() => timeouts.push(clock.now()));
    txn.respond(486, tuResponse(486));
    clock.advance(32_000);
    expect(udp.times('SIP/2.0 486')).toEqual([0, 500, 1500, 3500, 7500, 11500, 15500, 19500, 23500, 27500, 31500]);
    expect(timeouts).toEqual([32_000]);
    expect(txn.state).toBe(InviteServerState.Terminated);
    expect(layer.size).toBe(0);
  });

  it('an ACK stops Timer G (Confirmed); ACK retransmissions are absorbed until Timer I (T4)', () => {
    const txn = txnOf(receive(udp));
    txn.respond(486, tuResponse(486));
    clock.advance(600);
    expect(ack(udp)).toEqual({ kind: 'ack-absorbed', txn });
    expect(txn.state).toBe(InviteServerState.Confirmed);
    expect(ack(udp)).toEqual({ kind: 'ack-absorbed', txn });
    clock.advance(10_000);
    expect(udp.times('SIP/2.0 486')).toEqual([0, 500]);
    expect(layer.size).toBe(0);
  });

  it('resends the final for an INVITE retransmission in Completed', () => {
    const txn = txnOf(receive(udp));
    txn.respond(403, tuResponse(403));
    clock.advance(100);
    receive(udp);
    expect(udp.times('SIP/2.0 403')).toEqual([0, 100]);
    ack(udp);
  });

  it('over a reliable flow: no Timer G, and the ACK ends the transaction at once (Timer I = 0)', () => {
    const txn = txnOf(receive(tcp));
    txn.respond(486, tuResponse(486));
    clock.advance(10_000);
    expect(tcp.sent).toHaveLength(1);
    expect(ack(tcp)).toEqual({ kind: 'ack-absorbed', txn });
    expect(layer.size).toBe(0);
  });

  it('a 2xx moves to Accepted (RFC 6026): INVITE retransmissions absorbed, ACK and further 2xx pass, Timer L ends it', () => {
    const txn = txnOf(receive(udp));
    txn.respond(200, tuResponse(200));
    expect(txn.state).toBe(InviteServerState.Accepted);
    receive(udp);
    expect(statuses(udp)).toEqual([200]);
    txn.respond(200, tuResponse(200)); // the UAS core's 13.3.1.4 retransmission
    expect(statuses(udp)).toEqual([200, 200]);
    const ackReq = request({ method: 'ACK', branch: 'z9hG4bK-ack-2xx', toTag: 'gw-tag-1' });
    expect(layer.receiveRequest(ackReq, udp)).toEqual({ kind: 'ack-2xx', ack: ackReq, flow: udp });
    const sameBranch = request({ method: 'ACK', toTag: 'gw-tag-1' });
    expect(layer.receiveRequest(sameBranch, udp)).toEqual({ kind: 'ack-2xx', ack: sameBranch, flow: udp, txn });
    clock.advance(32_000);
    expect(layer.size).toBe(0);
    expect(ack(udp).kind).toBe('ack-2xx');
    expect(receive(udp).kind).toBe('new'); // 17.2.3: once gone, it is a new request
    layer.close();
  });

  it('reports a transport error when a response cannot be sent', () => {
    const txn = txnOf(receive(tcp));
    let errors = 0;
    txn.onTransportError(() => errors++);
    tcp.fail = true;
    txn.respond(180, tuResponse(180));
    expect([errors, txn.state, layer.size]).toEqual([1, InviteServerState.Terminated, 0]);
  });

  it('rejects a second final and anything after Terminated with InvalidStateError, sending nothing', () => {
    const txn = txnOf(receive(tcp));
    txn.respond(486, tuResponse(486));
    expect(() => txn.respond(200, tuResponse(200))).toThrow(InvalidStateError);
    expect(tcp.sent).toHaveLength(1);
    ack(tcp);
    expect(() => txn.respond(180, tuResponse(180))).toThrow(InvalidStateError);
  });

  it('an ACK before any final is dropped', () => {
    const txn = txnOf(receive(udp));
    expect(ack(udp, { toTag: undefined })).toEqual({ kind: 'dropped', reason: 'ACK in Proceeding' });
    txn.dispose();
  });
});

describe('non-INVITE server transaction (17.2.2)', () => {
  it('absorbs retransmissions silently in Trying, resends the final in Completed until Timer J (64*T1 over UDP)', () => {
    const txn = txnOf(receive(udp, { method: 'OPTIONS' }));
    expect(receive(udp, { method: 'OPTIONS' }).kind).toBe('retransmission');
    expect(udp.sent).toHaveLength(0);
    clock.advance(1000);
    expect(udp.sent).toHaveLength(0); // no 100 Trying for non-INVITE
    txn.respond(200, tuResponse(200));
    receive(udp, { method: 'OPTIONS' });
    expect(statuses(udp)).toEqual([200, 200]);
    expect(txn.state).toBe(NonInviteServerState.Completed);
    clock.advance(31_999);
    expect(layer.size).toBe(1);
    clock.advance(1);
    expect(layer.size).toBe(0);
  });

  it('resends the last provisional in Proceeding; over a reliable flow the final ends it at once (Timer J = 0)', () => {
    const txn = txnOf(receive(tcp, { method: 'INFO' }));
    txn.respond(100, tuResponse(100));
    receive(tcp, { method: 'INFO' });
    txn.respond(200, tuResponse(200));
    expect(statuses(tcp)).toEqual([100, 100, 200]);
    expect(txn.state).toBe(NonInviteServerState.Terminated);
  });
});

describe('request matching (17.2.3, 9.2)', () => {
  it('a CANCEL gets its own transaction and is matched to its INVITE', () => {
    const inv = txnOf(receive(udp));
    const r = receive(udp, { method: 'CANCEL' });
    expect(r.kind).toBe('cancel');
    if (r.kind !== 'cancel') return;
    expect(r.target).toBe(inv);
    expect(r.txn).not.toBe(inv);
    expect(r.txn.method).toBe('CANCEL');
    r.txn.respond(200, tuResponse(200));
    expect(receive(udp, { method: 'CANCEL' })).toEqual({ kind: 'retransmission', txn: r.txn });
    inv.respond(487, tuResponse(487));
    const stray = receive(udp, { method: 'CANCEL', branch: 'z9hG4bK-nothing' });
    expect(stray.kind === 'cancel' && stray.target).toBe(undefined);
    txnOf(stray).respond(481, tuResponse(481));
    ack(udp);
  });

  it('the same branch from another sent-by, or with another method, is another transaction', () => {
    const a = txnOf(receive(udp, { method: 'OPTIONS' }));
    const b = txnOf(receive(udp, { method: 'OPTIONS', sentBy: '198.51.100.8:5060' }));
    const c = txnOf(receive(udp, { method: 'INFO' }));
    expect(new Set([a.id, b.id, c.id]).size).toBe(3);
    expect(layer.size).toBe(3);
    layer.close();
  });

  it('reads the first of comma-separated Via values and matches case-insensitively on sent-by', () => {
    const first = txnOf(receive(udp, { via: 'SIP/2.0/UDP Host.Example:5070;branch=z9hG4bK-v1, SIP/2.0/TCP other:5090' }));
    const again = receive(udp, { via: 'SIP/2.0/UDP host.example:5070 ;branch=z9hG4bK-v1' });
    expect(again).toEqual({ kind: 'retransmission', txn: first });
    first.respond(200, tuResponse(200));
  });

  describe('RFC 2543 fallback for a branch without the magic cookie', () => {
    const legacy = { branch: '1234abcd' };

    it('matches retransmissions, the ACK (by the To tag of the response) and the CANCEL', () => {
      const inv = txnOf(receive(udp, legacy));
      expect(receive(udp, legacy)).toEqual({ kind: 'retransmission', txn: inv });
      expect(receive(udp, { ...legacy, cseq: 2 }).kind).toBe('new');
      const cancel = receive(udp, { ...legacy, method: 'CANCEL' });
      expect(cancel.kind === 'cancel' && cancel.target).toBe(inv);
      txnOf(cancel).respond(200, tuResponse(200));
      inv.respond(487, tuResponse(487, 'uas-tag'));
      expect(ack(udp, { ...legacy, toTag: 'wrong-tag' }).kind).toBe('ack-2xx');
      expect(ack(udp, { ...legacy, toTag: 'uas-tag' })).toEqual({ kind: 'ack-absorbed', txn: inv });
      expect(inv.state).toBe(InviteServerState.Confirmed);
      layer.close();
    });

    it('tells requests apart by Request-URI, From tag, Call-ID and top Via; works with no branch at all', () => {
      const base = txnOf(receive(udp, { method: 'OPTIONS', branch: null }));
      expect(receive(udp, { method: 'OPTIONS', branch: null }).kind).toBe('retransmission');
      for (const o of [{ ruri: 'sip:other@gw.example' }, { fromTag: 'f2' }, { callId: 'c2' }, { sentBy: '198.51.100.9' }]) {
        expect(receive(udp, { method: 'OPTIONS', branch: null, ...o }).kind).toBe('new');
      }
      expect(layer.size).toBe(5);
      base.respond(200, tuResponse(200));
      layer.close();
    });
  });

  it('drops a request without a usable Via, and everything after close', () => {
    const noVia = request();
    noVia.setHeader('via', 'garbage'); // sip.js itself refuses such text: simulate a message mangled after parsing
    expect(layer.receiveRequest(noVia, udp)).toEqual({ kind: 'dropped', reason: 'no parsable top Via' });
    layer.close();
    expect(receive(udp).kind).toBe('dropped');
  });
});

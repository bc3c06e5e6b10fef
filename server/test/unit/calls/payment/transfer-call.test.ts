import { describe, expect, it, vi } from 'vitest';
import type { Leg } from '../../../../src/calls/media-anchor.js';
import { DEMO_OTP_TEMPLATE, type Payments } from '../../../../src/calls/payment/setup.js';
import { TransferPaymentCall, type TransferDeps } from '../../../../src/calls/payment/transfer-call.js';
import type { SessionEvent } from '../../../../src/capture/events.js';
import type { Transaction } from '../../../../src/handoff/index.js';
import { SafeEmitter } from '../../../../src/lib/emitter.js';
import type { Bridge } from '../../../../src/media/plane.js';
import type { BridgeEvents } from '../../../../src/media/worker/remote-bridge.js';
import { silentLogger } from '../../../../src/observability/logger.js';
import { MemoryEventBus, MemorySessionStore } from '../../../../src/store/index.js';
import type { ServerTransaction } from '../../../../src/sip/transaction/index.js';
import { FakeClock } from '../../../support/fake-clock.js';
import { parseRequest } from '../../sip/transaction/helpers.js';

const SDP = ['v=0', 'o=pbx 1 1 IN IP4 127.0.0.1', 's=-', 'c=IN IP4 127.0.0.1', 't=0 0', 'm=audio 40000 RTP/AVP 0 101', 'a=rtpmap:0 PCMU/8000', 'a=rtpmap:101 telephone-event/8000', ''].join('\r\n');

function request(method: string, cseq: number, body = ''): string {
  return [
    `${method} sip:pay@127.0.0.1:5060 SIP/2.0`,
    `Via: SIP/2.0/UDP 127.0.0.1:5070;branch=z9hG4bK-${method}-${cseq}`,
    'Max-Forwards: 70',
    'From: <sip:customer@127.0.0.1>;tag=cust-1',
    `To: <sip:pay@127.0.0.1>${method === 'INVITE' ? '' : ';tag=gw-1'}`,
    'Call-ID: pay-call-1',
    `CSeq: ${cseq} ${method}`,
    'Contact: <sip:customer@127.0.0.1:5070>',
    ...(body ? ['Content-Type: application/sdp'] : []),
    `Content-Length: ${Buffer.byteLength(body)}`,
    '',
    body,
  ].join('\r\n');
}

const txn = () => ({ flow: { id: 'udp:127.0.0.1:5070', reliable: true }, terminated: false, respond: vi.fn() }) as unknown as ServerTransaction;

/** A TransferPaymentCall on fakes: a recording SIP stack, a bridge whose prompts never end, memory store and bus. */
async function answeredCall(details: Partial<Transaction> = {}) {
  const clock = new FakeClock();
  const sent: string[] = [];
  const stack = {
    respond: vi.fn(() => 'SIP/2.0 200 OK\r\n\r\n'),
    via: () => ({ protocol: 'UDP', sentBy: '127.0.0.1:5060', contact: '<sip:pay@127.0.0.1:5060>' }),
    sendRequest: vi.fn((o: { method: string }) => void sent.push(o.method)),
  };
  const bridge = {
    events: new SafeEmitter<BridgeEvents>(),
    addRtpLeg: async () => ({ address: '127.0.0.1', rtpPort: 20000, rtcpPort: 20001 }),
    configureLeg: async () => {},
    setMode: async () => {},
    play: () => new Promise(() => {}),
    stopPrompts: async () => {},
    close: vi.fn(async () => {}),
  } as unknown as Bridge;
  const store = new MemorySessionStore({ clock });
  const payments = { payment: { breaker: { state: 'closed' } }, sms: {}, otpTemplate: DEMO_OTP_TEMPLATE } as unknown as Payments;
  const deps = {
    stack,
    clock,
    logger: silentLogger,
    createBridge: async () => bridge,
    payments,
    bus: new MemoryEventBus<SessionEvent>({ clock }),
    store,
    instanceId: 'test',
    defaultLanguage: 'en',
  } as unknown as TransferDeps;
  const txn1 = txn();
  const transaction: Transaction = {
    amount: '1499.00',
    currency: 'INR',
    merchantId: 'M-DEMO-01',
    orderRef: 'ORD-1',
    customerMobile: '+919800000001',
    ...details,
  } as Transaction;
  const call = new TransferPaymentCall(deps, parseRequest(request('INVITE', 1, SDP)), txn1, transaction, () => {});
  await call.start();
  call.onAck({} as Leg, parseRequest(request('ACK', 1)));
  await vi.waitFor(async () => expect((await store.list())[0]?.state).toBe('greeting'));
  return { call, sent, store, stack };
}

describe('TransferPaymentCall: the customer hangs up', () => {
  it('answers the BYE and sends nothing more in the dialog: no BYE back (RFC 3261 15.1.2)', async () => {
    const { call, sent, store, stack } = await answeredCall();
    const byeTxn = txn();
    call.onInDialog({} as Leg, parseRequest(request('BYE', 2)), byeTxn);
    await call.whenClosed;
    expect(stack.respond).toHaveBeenCalledWith(byeTxn, 200);
    expect(sent).toEqual([]);
    expect((await store.list())[0]).toMatchObject({ outcome: 'abandoned', failureReason: 'customer-hung-up' });
  });

  it('does not try to REFER a customer who hung up back to X-Pay-Return-To', async () => {
    const { call, sent } = await answeredCall({ returnTo: 'sip:agent-1@pbx.example' });
    call.onInDialog({} as Leg, parseRequest(request('BYE', 2)), txn());
    await call.whenClosed;
    expect(sent).toEqual([]);
  });

  it('still hangs up itself when the gateway ends the call (shutdown): one BYE', async () => {
    const { call, sent } = await answeredCall();
    call.hangup('shutdown');
    await call.whenClosed;
    expect(sent).toEqual(['BYE']);
  });
});

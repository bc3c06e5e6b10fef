import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { Call } from '../../src/calls/b2bua/call.js';
import type { ReferRequest } from '../../src/calls/b2bua/types.js';
import type { DigitEvent } from '../../src/media/plane.js';
import type { Gateway } from '../../src/gateway.js';
import { startTestGateway, type LogSink } from '../support/gateway.js';
import { freeMediaPort, freePort } from '../../devtools/ports.js';
import { runSipp, type SippResult } from '../../devtools/sipp/run.js';
import { RtpSink, WsSipAgent, tagOf, type AgentDialog, type SipMessage } from '../support/ws-sip-agent.js';

/**
 * In-dialog REFER (RFC 3515) and INFO (RFC 6086) on a real gateway: a SIPp caller (leg A) is
 * bridged to a WS agent (leg B, the widget's side) that sends the REFERs and INFOs itself.
 */
let gw: Gateway;
let logs: LogSink;
let target: string;
let agent: WsSipAgent;
let rtp: RtpSink;

beforeAll(async () => {
  ({ gw, logs, target } = await startTestGateway({ SIP_DIGEST_ALGORITHMS: 'SHA-256,MD5', RING_TIMEOUT_S: '10' }, { gateway: { inlinePayments: false } }));
  // These tests drive the REFER machinery with their own listener: no inline payments here
  // (those are proven in pay-inline.test.ts).
  agent = await WsSipAgent.connect(`ws://127.0.0.1:${gw.httpPort}/sip`, { user: 'agent-1', password: 'demo' });
  expect((await agent.register({ expires: 600 })).final.status).toBe(200);
  rtp = await RtpSink.open();
});
/** The call of the running test; if the test failed half-way, afterEach hangs it up. */
let current: Live | undefined;
afterEach(async () => {
  const live = current;
  current = undefined;
  if (live && gw.calls.calls.size > 0) {
    await agent.inDialog(live.d, 'BYE').catch(() => undefined);
    await live.caller;
  }
  await until(() => gw.calls.calls.size === 0).catch(() => undefined);
  agent.clearInbox();
});
afterAll(async () => {
  await agent?.close();
  await rtp?.close();
  await gw?.close();
});

const ok = (r: SippResult, what: string): void => {
  expect(r.code, `${what} failed:\n${r.errors}\n${r.stderr}`).toBe(0);
};

async function until(cond: () => boolean, ms = 5_000): Promise<void> {
  for (const end = Date.now() + ms; !cond(); ) {
    if (Date.now() > end) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 20));
  }
}

interface Live {
  call: Call;
  d: AgentDialog;
  caller: Promise<SippResult>;
}

/** A SIPp caller (`scenario`) through the gateway to the WS agent, answered and confirmed. */
async function establish(scenario = 'caller-wait-bye.xml', onCall?: (c: Call) => void): Promise<Live> {
  const seen = new Promise<Call>((resolve) => {
    const off = gw.calls.events.on('call', (c) => {
      off();
      onCall?.(c);
      resolve(c);
    });
  });
  const caller = (async () =>
    runSipp({ scenario, target, service: 'agent-1', localPort: await freePort(), mediaPort: await freeMediaPort(), timeoutS: 30 }).done)();
  const invite = await agent.nextRequest('INVITE');
  const d = agent.answer(invite, rtp.port);
  await agent.nextRequest('ACK');
  const call = await seen;
  // A REFER before the caller's ACK would get 491 (RFC 3515 / 3261 14.2): wait for the ACK.
  await until(() => call.state === 'confirmed');
  current = { call, d, caller };
  return current;
}

/** The agent hangs up; the SIPp caller (caller-wait-bye.xml) gets the BYE; nothing is left. */
async function hangUp(live: Live): Promise<void> {
  const res = await agent.inDialog(live.d, 'BYE');
  expect(res.status).toBe(200);
  current = undefined;
  ok(await live.caller, 'caller');
  await until(() => gw.calls.calls.size === 0);
}

const REFER_TO = '<sip:pay@gw?X-Pay-Amount=1499.00&X-Pay-Currency=INR&X-Pay-Merchant-Id=M%2042&X-Pay-Customer-Mobile=+919876543210>';

function refer(live: Live, headers: [string, string][]): Promise<SipMessage> {
  return agent.inDialog(live.d, 'REFER', [['Referred-By', `<sip:agent-1@${agent.host}>`], ...headers]);
}

/** Takes the next NOTIFY and answers it 200 (RFC 6665 4.1.3). */
async function notifyReceived(): Promise<SipMessage> {
  const n = await agent.nextRequest('NOTIFY');
  agent.respond(n, 200);
  return n;
}

describe('in-dialog REFER from the agent (RFC 3515)', () => {
  it('is answered 202, handed up with Refer-To URI headers %-decoded and X-headers, and NOTIFYs report 100 Trying then the final status', async () => {
    const live = await establish();
    const refers: ReferRequest[] = [];
    live.call.events.on('refer', (r) => {
      refers.push(r);
      setTimeout(() => r.notify(200), 100); // e.g. once the capture has finished
    });
    const res = await refer(live, [['Refer-To', REFER_TO], ['X-Pay-Order-Ref', 'ORD-1']]);
    expect(res.status).toBe(202);
    const cseq = res.cseq;

    expect(refers).toHaveLength(1);
    const r = refers[0]!;
    expect(r.leg).toBe('B');
    expect(r.referTo).toBe(REFER_TO);
    expect(r.referToHeaders).toEqual({
      'X-Pay-Amount': '1499.00',
      'X-Pay-Currency': 'INR',
      'X-Pay-Merchant-Id': 'M 42',
      'X-Pay-Customer-Mobile': '+919876543210',
    });
    expect(r.xHeaders['x-pay-order-ref']).toBe('ORD-1');

    const first = await notifyReceived();
    const second = await notifyReceived();
    for (const n of [first, second]) {
      // Inside the agent's dialog: its Call-ID, our tag in To, the gateway's tag in From.
      expect(n.callId).toBe(live.d.callId);
      expect(tagOf(n.header('to'))).toBe(tagOf(live.d.local));
      expect(tagOf(n.header('from'))).toBe(tagOf(live.d.remote));
      // RFC 3515 2.4.6: the implicit subscription's id is the REFER's CSeq number.
      expect(n.header('event')).toBe(`refer;id=${cseq}`);
      expect(n.header('content-type')?.split(';')[0]).toBe('message/sipfrag');
    }
    expect(second.cseq).toBeGreaterThan(first.cseq);
    expect(first.header('subscription-state')).toMatch(/^active\b/);
    expect(first.body.trim()).toBe('SIP/2.0 100 Trying');
    expect(second.header('subscription-state')).toMatch(/^terminated\b/);
    expect(second.body.trim()).toBe('SIP/2.0 200 OK');

    // Terminated: a later notify() sends nothing more.
    r.notify(503);
    await new Promise((res2) => setTimeout(res2, 200));
    expect(agent.unclaimed().filter((m) => m.method === 'NOTIFY')).toEqual([]);
    expect(live.call.state).toBe('confirmed');
    await hangUp(live);
  });

  it('a final notify() made inside the listener still follows the 100 Trying NOTIFY', async () => {
    const live = await establish();
    live.call.events.on('refer', (r) => r.notify(603, 'Declined'));
    const res = await refer(live, [['Refer-To', REFER_TO], ['X-Pay-Order-Ref', 'ORD-2']]);
    expect(res.status).toBe(202);
    const first = await notifyReceived();
    const second = await notifyReceived();
    expect(first.body.trim()).toBe('SIP/2.0 100 Trying');
    expect(second.body.trim()).toBe('SIP/2.0 603 Declined');
    expect(second.header('subscription-state')).toMatch(/^terminated\b/);
    await hangUp(live);
  });

  it('a REFER the listener rejects is answered 400 with a Warning naming the field, no NOTIFY follows, and the call goes on', async () => {
    const live = await establish();
    live.call.events.on('refer', (r) => r.reject(400, 'X-Pay-Amount invalid'));
    const res = await refer(live, [['Refer-To', '<sip:pay@gw?X-Pay-Amount=-14.99&X-Pay-Currency=INR>'], ['X-Pay-Order-Ref', 'ORD-3']]);
    expect(res.status).toBe(400);
    expect(res.header('warning')).toMatch(/^399 \S+ ".*X-Pay-Amount.*"$/);
    await new Promise((r) => setTimeout(r, 300));
    expect(agent.unclaimed().filter((m) => m.method === 'NOTIFY')).toEqual([]);
    expect(live.call.state).toBe('confirmed');
    // Still a live dialog: OPTIONS inside it is answered, and a corrected REFER is accepted.
    expect((await agent.inDialog(live.d, 'OPTIONS')).status).toBe(200);
    await hangUp(live);
  });

  it('a REFER without Refer-To is answered 400 and never reaches the listener; the call goes on', async () => {
    const live = await establish();
    let heard = 0;
    live.call.events.on('refer', () => heard++);
    const res = await refer(live, [['X-Pay-Order-Ref', 'ORD-4']]);
    expect(res.status).toBe(400);
    expect(res.header('warning')).toContain('Refer-To');
    expect(heard).toBe(0);
    // A good REFER on the same call afterwards works.
    const again = await refer(live, [['Refer-To', REFER_TO]]);
    expect(again.status).toBe(202);
    expect(heard).toBe(1);
    expect((await notifyReceived()).body.trim()).toBe('SIP/2.0 100 Trying');
    await hangUp(live);
  });
  it('a Refer-To with two values, or an escape that is not UTF-8, is answered 400 and the call goes on', async () => {
    const live = await establish();
    let heard = 0;
    live.call.events.on('refer', () => heard++);
    const two = await refer(live, [['Refer-To', '<sip:pay@gw?X-Pay-Amount=1.00>'], ['Refer-To', '<sip:pay@gw?X-Pay-Amount=9999.00>']]);
    expect(two.status).toBe(400);
    expect(two.header('warning')).toContain('more than one Refer-To');
    const badEscape = await refer(live, [['Refer-To', '<sip:pay@gw?X-%C3%28=1>']]);
    expect(badEscape.status).toBe(400);
    expect(badEscape.header('warning')).toContain('%-encoding');
    expect(heard).toBe(0);
    expect(live.call.state).toBe('confirmed');
    await hangUp(live);
  });
});

describe('in-dialog INFO (RFC 6086 legacy DTMF)', () => {
  it("from the agent: dtmf-relay and dtmf are answered 200 and become the bridge's digit events with the agent's role; text/plain 415; an Info-Package 469", async () => {
    const live = await establish();
    const digits: DigitEvent[] = [];
    live.call.media!.bridge.events.on('digit', (d) => digits.push(d));

    const relay = await agent.inDialog(live.d, 'INFO', [], { type: 'application/dtmf-relay', content: 'Signal=5\r\nDuration=160\r\n' });
    expect(relay.status).toBe(200);
    const plain = await agent.inDialog(live.d, 'INFO', [], { type: 'application/dtmf', content: '#' });
    expect(plain.status).toBe(200);
    const text = await agent.inDialog(live.d, 'INFO', [], { type: 'text/plain', content: '5' });
    expect(text.status).toBe(415);
    // RFC 3261 21.4.13: the 415 says what is accepted.
    expect(text.header('accept')).toContain('application/dtmf-relay');
    const pkg = await agent.inDialog(live.d, 'INFO', [['Info-Package', 'dtmf']], { type: 'application/dtmf-relay', content: 'Signal=7\r\nDuration=160\r\n' });
    expect(pkg.status).toBe(469);
    // An empty INFO (keep-alive probe) is answered 200 and carries no digit.
    expect((await agent.inDialog(live.d, 'INFO')).status).toBe(200);

    expect(digits.map(({ legId, role, digit, durationMs, transport }) => ({ legId, role, digit, durationMs, transport }))).toEqual([
      { legId: 'agent', role: 'agent', digit: '5', durationMs: 160, transport: 'info' },
      { legId: 'agent', role: 'agent', digit: '#', durationMs: undefined, transport: 'info' },
    ]);
    await hangUp(live);
  });

  it("from a SIPp caller (the customer leg): the same answers, and digits with the customer's role", async () => {
    const digits: DigitEvent[] = [];
    // The bridge exists before the agent is even invited, long before the caller's INFO.
    const live = await establish('caller-info.xml', (c) => void until(() => c.media !== undefined).then(() => c.media!.bridge.events.on('digit', (d) => digits.push(d))));
    const bye = await agent.nextRequest('BYE');
    agent.respond(bye, 200);
    ok(await live.caller, 'caller');
    await until(() => gw.calls.calls.size === 0);
    expect(digits.map(({ legId, role, digit, durationMs, transport }) => ({ legId, role, digit, durationMs, transport }))).toEqual([
      { legId: 'customer', role: 'customer', digit: '5', durationMs: 160, transport: 'info' },
      { legId: 'customer', role: 'customer', digit: '#', durationMs: undefined, transport: 'info' },
    ]);
  });
});

describe('hygiene', () => {
  it('the gateway logged no errors in this suite', () => {
    const errors = logs.lines.filter((l) => l.includes('"level":50') || l.includes('"level":60'));
    expect(errors).toEqual([]);
  });
});

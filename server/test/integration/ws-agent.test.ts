import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/load.js';
import type { Gateway } from '../../src/gateway.js';
import { systemClock, type Clock } from '../../src/lib/clock.js';
import { RegistrarLimits } from '../../src/sip/constants.js';
import { offeredAlgorithms } from '../../src/sip/auth/index.js';
import { startTestGateway, type LogSink } from '../support/gateway.js';
import { freeMediaPort, freePort } from '../../devtools/ports.js';
import { runSipp, type SippResult } from '../../devtools/sipp/run.js';
import { RtpSink, WsSipAgent, challengeParams, uriIn, type AgentDialog } from '../support/ws-sip-agent.js';

/**
 * A browser-style softphone (SIP over WebSocket, RFC 7118) as the agent, a real SIPp as the
 * caller, a real gateway in between. The WS agent computes its Digest responses itself.
 */
let gw: Gateway;
let logs: LogSink;
let target: string;
const open: WsSipAgent[] = [];
const sinks: RtpSink[] = [];

beforeAll(async () => {
  // The schema default (SHA-256 then MD5); the test helper's own default is MD5 only, for SIPp.
  ({ gw, logs, target } = await startTestGateway({ SIP_DIGEST_ALGORITHMS: 'SHA-256,MD5', RING_TIMEOUT_S: '10' }));
});
afterEach(async () => {
  await Promise.all(open.splice(0).map((a) => a.close()));
  await Promise.all(sinks.splice(0).map((s) => s.close()));
  await until(() => gw.registrar.registeredAors().length === 0);
});
afterAll(async () => {
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

async function connect(user: string, password = 'demo', g: Gateway = gw): Promise<WsSipAgent> {
  const a = await WsSipAgent.connect(`ws://127.0.0.1:${g.httpPort}/sip`, { user, password });
  open.push(a);
  return a;
}

async function registered(user: string, algorithm: 'SHA-256' | 'MD5' = 'SHA-256'): Promise<WsSipAgent> {
  const a = await connect(user);
  const r = await a.register({ expires: 300, algorithm });
  expect(r.final.status).toBe(200);
  return a;
}

async function sink(): Promise<RtpSink> {
  const s = await RtpSink.open();
  sinks.push(s);
  return s;
}

function caller(scenario: string, service: string, t = target): { done: Promise<SippResult> } {
  const run = (async () =>
    runSipp({ scenario, target: t, service, localPort: await freePort(), mediaPort: await freeMediaPort(), timeoutS: 30 }).done)();
  return { done: run };
}

/** Takes the gateway's INVITE, answers 180 + 200 with `rtpPort`, and waits for the ACK. */
async function answerCall(agent: WsSipAgent, rtpPort: number): Promise<AgentDialog> {
  const invite = await agent.nextRequest('INVITE');
  // RFC 7118 5.2 / RFC 5626: the agent is reached at its registered Contact, over its own connection.
  expect(invite.ruri).toBe(uriIn(agent.contact));
  expect(invite.header('via')).toMatch(/^SIP\/2\.0\/WS /);
  expect(invite.header('content-type')).toBe('application/sdp');
  expect(invite.body).toMatch(/^m=audio \d+ RTP\/AVP .*\b8\b/m);
  const d = agent.answer(invite, rtpPort);
  const ack = await agent.nextRequest('ACK');
  expect(ack.cseq).toBe(invite.cseq);
  expect(ack.callId).toBe(invite.callId);
  return d;
}

async function settle(g: Gateway = gw): Promise<void> {
  await until(() => g.calls.calls.size === 0).catch(() => undefined);
  expect(g.calls.calls.size).toBe(0);
}

describe('REGISTER over SIP WebSocket with Digest (RFC 3261 22.4, RFC 8760)', () => {
  it('the default challenge offers SHA-256 first and MD5 second, with one nonce, and SHA-256 credentials register', async () => {
    // Unset, a WebSocket flow is offered SHA-256 then MD5 (UDP/TCP phones get MD5: registrar-service.test.ts).
    expect(loadConfig({}).SIP_DIGEST_ALGORITHMS).toBeUndefined();
    expect(offeredAlgorithms(undefined, 'ws:1')).toEqual(['SHA-256', 'MD5']);
    const a = await connect('agent-1');
    const { challenge, final } = await a.register({ expires: 300, algorithm: 'SHA-256' });
    expect(challenge?.status).toBe(401);
    const offers = challenge!.all('www-authenticate').map(challengeParams);
    expect(offers.map((o) => o.algorithm)).toEqual(['SHA-256', 'MD5']);
    expect(offers[0]!.qop).toBe('auth');
    expect(offers[0]!.realm).toBe('tonegate');
    expect(offers[1]!.nonce).toBe(offers[0]!.nonce);
    expect(final.status).toBe(200);
    // RFC 3261 10.3 step 8: the 200 lists the binding with its expiry.
    expect(final.all('contact').join(',')).toContain(`${uriIn(a.contact)}>;expires=300`);
    expect(gw.registrar.isRegistered('agent-1')).toBe(true);
    expect(gw.registrar.bindings('agent-1')[0]!.flowId).toMatch(/^ws:/);
  });

  it('another agent registers with MD5 credentials', async () => {
    const a = await connect('agent-2');
    const { challenge, final } = await a.register({ expires: 300, algorithm: 'MD5' });
    expect(challenge?.status).toBe(401);
    expect(final.status).toBe(200);
    expect(gw.registrar.isRegistered('agent-2')).toBe(true);
  });

  it('a wrong password is refused with 403 and registers nothing', async () => {
    for (const algorithm of ['SHA-256', 'MD5'] as const) {
      const a = await connect('agent-3');
      const { final } = await a.register({ expires: 300, algorithm, password: 'wrong' });
      expect(final.status).toBe(403);
    }
    expect(gw.registrar.isRegistered('agent-3')).toBe(false);
  });

  it('an expiry below Min-Expires is answered 423 with Min-Expires (RFC 3261 10.3 step 6)', async () => {
    const a = await connect('agent-1');
    const { final } = await a.register({ expires: 30 });
    expect(final.status).toBe(423);
    expect(final.header('min-expires')).toBe(String(RegistrarLimits.MIN_EXPIRES));
    expect(gw.registrar.isRegistered('agent-1')).toBe(false);
  });
});

describe('a WS agent takes calls from a SIPp caller', () => {
  it('answers 180 + 200, receives the relayed RTP on its own socket, and the caller\'s BYE ends the call', async () => {
    const agent = await registered('agent-1');
    const rtp = await sink();
    const c = caller('caller.xml', 'agent-1');
    const d = await answerCall(agent, rtp.port);
    const bye = await agent.nextRequest('BYE');
    expect(bye.callId).toBe(d.callId);
    agent.respond(bye, 200);
    ok(await c.done, 'caller');
    await settle();
    // caller.xml plays g711a.pcap (30 ms PCMA packets) for 3 s: ~100 packets through the relay.
    expect(rtp.packets).toBeGreaterThan(50);
    expect([...rtp.payloadTypes]).toContain(8);
  });

  it('support reaches the registered WS agent', async () => {
    const agent = await registered('agent-2', 'MD5');
    const rtp = await sink();
    const c = caller('caller.xml', 'support');
    await answerCall(agent, rtp.port);
    agent.respond(await agent.nextRequest('BYE'), 200);
    ok(await c.done, 'caller');
    await settle();
    expect(rtp.packets).toBeGreaterThan(0);
  });

  it('a WS agent that hangs up first sends BYE, gets 200, and the SIPp caller gets the BYE', async () => {
    const agent = await registered('agent-3');
    const rtp = await sink();
    const c = caller('caller-wait-bye.xml', 'agent-3');
    const d = await answerCall(agent, rtp.port);
    await until(() => [...gw.calls.calls].every((call) => call.state === 'confirmed'));
    const res = await agent.inDialog(d, 'BYE');
    expect(res.status).toBe(200);
    ok(await c.done, 'caller');
    await settle();
  });
});

describe('the end of a WS registration', () => {
  it('closing the WebSocket removes the registration, and a later call gets 480', async () => {
    const agent = await registered('agent-1');
    expect(gw.registrar.isRegistered('agent-1')).toBe(true);
    await agent.close();
    await until(() => !gw.registrar.isRegistered('agent-1'));
    ok(await caller('caller-480.xml', 'agent-1').done, 'caller');
    ok(await caller('caller-480.xml', 'support').done, 'caller');
    await settle();
  });

  it('closing the WebSocket during a call ends it: the SIPp caller gets a BYE, and the agent is free again after reconnecting', async () => {
    const agent = await registered('agent-3');
    const rtp = await sink();
    const c = caller('caller-wait-bye.xml', 'agent-3');
    await answerCall(agent, rtp.port);
    await until(() => [...gw.calls.calls].every((call) => call.state === 'confirmed'));
    await agent.close(); // the browser tab closes mid-call
    ok(await c.done, 'caller');
    await settle();
    // Not left "busy": a new connection registers and takes the next call.
    const again = await registered('agent-3');
    const c2 = caller('caller.xml', 'agent-3');
    await answerCall(again, rtp.port);
    again.respond(await again.nextRequest('BYE'), 200);
    ok(await c2.done, 'caller');
    await settle();
  });

  it('closing the WebSocket while ringing: the caller gets 480 at once', async () => {
    const agent = await registered('agent-1');
    const started = Date.now();
    const c = caller('caller-ring-480.xml', 'agent-1');
    const invite = await agent.nextRequest('INVITE');
    agent.respond(invite, 180, { toTag: 'ringing1' });
    await agent.close();
    ok(await c.done, 'caller');
    expect(Date.now() - started).toBeLessThan(5_000); // not the 10 s ring timeout
    await settle();
  });

  it('REGISTER with Expires: 0 de-registers (the 200 lists no binding), and a later call gets 480', async () => {
    const agent = await registered('agent-2');
    const { final } = await agent.register({ expires: 0 });
    expect(final.status).toBe(200);
    expect(final.all('contact')).toEqual([]);
    expect(gw.registrar.isRegistered('agent-2')).toBe(false);
    expect(agent.open).toBe(true);
    ok(await caller('caller-480.xml', 'agent-2').done, 'caller');
    await settle();
  });
});

describe('binding expiry (on the registrar clock)', () => {
  // RegistrarLimits.MIN_EXPIRES is 60 s and not configurable per gateway, so the gateway gets a
  // clock that is real time plus a skew the test moves forward: timers still run in real time.
  let skew = 0;
  const clock: Clock = { now: () => systemClock.now() + skew, setTimeout: (fn, ms) => systemClock.setTimeout(fn, ms) };
  let g2: Gateway;
  let target2: string;
  beforeAll(async () => {
    ({ gw: g2, target: target2 } = await startTestGateway({ SIP_DIGEST_ALGORITHMS: 'SHA-256,MD5' }, { clock }));
  });
  afterAll(async () => {
    await g2?.close();
  });

  it('a binding registered for 60 s is gone 61 s later, and a call to the agent gets 480', async () => {
    const agent = await connect('agent-1', 'demo', g2);
    const { final } = await agent.register({ expires: RegistrarLimits.MIN_EXPIRES });
    expect(final.status).toBe(200);
    expect(final.header('contact')).toContain(`;expires=${RegistrarLimits.MIN_EXPIRES}`);
    skew += 59_000;
    expect(g2.registrar.isRegistered('agent-1')).toBe(true);
    expect(g2.registrar.contacts('agent-1')[0]!.expires).toBeLessThanOrEqual(1);
    skew += 2_000;
    expect(g2.registrar.isRegistered('agent-1')).toBe(false);
    expect(agent.open).toBe(true); // the connection stays; only the binding lapsed
    ok(await caller('caller-480.xml', 'agent-1', target2).done, 'caller');
    await settle(g2);
  });
});

describe('hygiene', () => {
  it('the gateway logged no errors in this suite', () => {
    const errors = logs.lines.filter((l) => l.includes('"level":50') || l.includes('"level":60'));
    expect(errors).toEqual([]);
  });
});

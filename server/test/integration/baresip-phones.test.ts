import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SessionEvent } from '../../src/capture/events.js';
import type { Gateway } from '../../src/gateway.js';
import { Baresip, lastRecording } from '../support/baresip.js';
import { startTestGateway, type LogSink } from '../support/gateway.js';

/**
 * A stock SIP phone (Debian's baresip 1.0, headless) as agent and as customer, configured the way a
 * call centre configures a desk phone: no workaround on the phone, the gateway's default settings
 * (SIP_DIGEST_ALGORITHMS unset). Each phone is a real process, stopped in afterAll.
 */
const OTP = '246813';
let gw: Gateway;
let logs: LogSink;
let target: string;
let agent: Baresip;
let agentAudio: string;
const phones: Baresip[] = [];
const events: SessionEvent[] = [];

async function phone(o: Parameters<typeof Baresip.start>[0]): Promise<Baresip> {
  const p = await Baresip.start({ lifetimeS: 100, ...o });
  phones.push(p);
  return p;
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

async function until(what: string, ok: () => boolean, timeoutMs = 15_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!ok()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(50);
  }
}

const sessionEvent = <T extends SessionEvent['type']>(type: T, pred: (e: Extract<SessionEvent, { type: T }>) => boolean = () => true) =>
  events.find((e): e is Extract<SessionEvent, { type: T }> => e.type === type && pred(e as Extract<SessionEvent, { type: T }>));

async function metric(name: string): Promise<number> {
  const text = await (await fetch(`http://127.0.0.1:${gw.httpPort}/metrics`)).text();
  const line = text.split('\n').find((l) => l.startsWith(`${name} `) || l.startsWith(`${name}{`) && !l.startsWith('#'));
  return line ? Number(line.split(' ').pop()) : NaN;
}

async function legStats() {
  const call = [...gw.calls.calls][0];
  if (!call?.media) throw new Error('no bridged call');
  return Object.fromEntries((await call.media.bridge.stats()).legs.map((l) => [l.id, l]));
}

/** Keys `digits` on the customer's phone (RFC 4733 events) once the capture asks for `field`. */
async function keyWhenAsked(customer: Baresip, sessionId: () => string | undefined, field: 'pan' | 'expiry' | 'cvv' | 'otp', digits: string): Promise<void> {
  await until(`the capture to ask for ${field}`, () => sessionEvent('field.started', (e) => e.field === field && e.sessionId === sessionId()) !== undefined, 30_000);
  expect((await customer.command('sndcode', digits)).ok).toBe(true);
}

/** Share of a window's energy at `hz` (Goertzel), 0..1. */
function toneShare(pcm: Int16Array, rate: number, hz: number): number {
  if (pcm.length === 0) return 0;
  const k = (2 * Math.cos((2 * Math.PI * hz) / rate));
  let s1 = 0;
  let s2 = 0;
  let energy = 0;
  for (const x of pcm) {
    const s = x + k * s1 - s2;
    s2 = s1;
    s1 = s;
    energy += x * x;
  }
  const power = s1 * s1 + s2 * s2 - k * s1 * s2;
  return energy > 0 ? (2 * power) / (pcm.length * energy) : 0;
}

/** What the agent's phone heard in its newest call (sndfile's decoder dump). */
const agentHeard = (): { rate: number; pcm: Int16Array } => lastRecording(agentAudio, 'dec');

beforeAll(async () => {
  // The gateway's defaults for the digest (SIP_DIGEST_ALGORITHMS unset); the test support sets MD5.
  ({ gw, logs, target } = await startTestGateway({ SIP_DIGEST_ALGORITHMS: '', DEMO_OTP: OTP, RING_TIMEOUT_S: '10' }));
  await gw.bus.subscribe((e) => void events.push(e));
  agentAudio = mkdtempSync(join(tmpdir(), 'baresip-agent-audio-'));
  agent = await phone({
    accounts: [`<sip:agent-1@${target}>;auth_pass=demo;answermode=auto;regint=600`],
    source: { sine: 440 },
    recordTo: agentAudio,
    sipTrace: true,
    lifetimeS: 200,
  });
});

afterAll(async () => {
  await Promise.all(phones.map((p) => p.stop()));
  await gw?.close();
  if (agentAudio) rmSync(agentAudio, { recursive: true, force: true });
});

describe('a stock SIP phone (baresip 1.0) as agent and customer, gateway defaults, no workaround', () => {
  it('the agent phone registers with the default digest settings (one MD5 challenge over UDP) and auto-answers a support call with audio both ways', async () => {
    await until('agent-1 to register', () => gw.registrar.isRegistered('agent-1'));
    const challenges = agent.lines.filter((l) => /^WWW-Authenticate:/i.test(l));
    expect(challenges.length).toBeGreaterThan(0);
    expect(challenges.every((l) => /algorithm=MD5/.test(l))).toBe(true);

    const customer = await phone({ accounts: ['<sip:customer-1@127.0.0.1>;regint=0'], source: { sine: 1000 } });
    const rtpInBefore = await metric('tonegate_rtp_packets_total{direction="in"}');
    expect((await customer.command('dial', `sip:support@${target}`)).ok).toBe(true);
    await customer.waitFor('CALL_ESTABLISHED', 10_000);
    // An INVITE reaching the phone shows as CALL_REMOTE_SDP "offer" (auto-answer skips CALL_INCOMING);
    // the 488 tests below count these to show the phone was never rung.
    await agent.waitEvent((e) => e.type === 'CALL_REMOTE_SDP' && e.param === 'offer', 10_000, 'the INVITE at the agent');
    await agent.waitFor('CALL_ESTABLISHED', 10_000);
    await sleep(2000);
    const legs = await legStats();
    // 2 s of 20 ms packets is 100 each way; allow for set-up time.
    for (const id of ['customer', 'agent']) {
      expect(legs[id]!.rx.packets, `${id} leg packets from the phone`).toBeGreaterThan(50);
      expect(legs[id]!.tx.packets, `${id} leg packets to the phone`).toBeGreaterThan(50);
      expect(legs[id]!.rx.wrongSource).toBe(0);
    }
    expect(await metric('tonegate_rtp_packets_total{direction="in"}')).toBeGreaterThan(rtpInBefore + 100);
    expect((await customer.command('hangup')).ok).toBe(true);
    await agent.waitEvent((e) => e.type === 'CALL_CLOSED', 10_000, 'the agent call to close');
    await until('the call to end at the gateway', () => gw.calls.calls.size === 0);
    // The agent's phone heard the customer's 1000 Hz (the dump of what it decoded).
    const heard = agentHeard();
    expect(toneShare(heard.pcm.subarray(-heard.rate), heard.rate, 1000)).toBeGreaterThan(0.5);
  }, 60_000);
});

describe('inline payment from a desk phone: blind transfer to the pay URI in <>', () => {
  it('the customer keys the card with RFC 4733 and pays; the agent phone gets a provisional final NOTIFY, stays on the call, and they talk again', async () => {
    await until('agent-1 to register', () => gw.registrar.isRegistered('agent-1'));
    const customer = await phone({ accounts: ['<sip:customer-2@127.0.0.1>;regint=0'], source: { sine: 1000 } });
    const count = (type: string): number => agent.events.filter((e) => e.type === type).length;
    const established = count('CALL_ESTABLISHED');
    const closed = count('CALL_CLOSED');
    expect((await customer.command('dial', `sip:support@${target}`)).ok).toBe(true);
    await customer.waitFor('CALL_ESTABLISHED', 10_000);
    await until('the agent to answer', () => count('CALL_ESTABLISHED') === established + 1);
    await sleep(1000);

    const orderRef = `BARESIP-${Date.now()}`;
    const headers = [
      'X-Pay-Amount=1499.00', 'X-Pay-Currency=INR', 'X-Pay-Merchant-Id=M-DEMO-01', `X-Pay-Order-Ref=${orderRef}`,
      'X-Pay-Customer-Mobile=+919800000001', 'X-Pay-Agent-Id=agent-1',
    ].join('&');
    const traceFrom = agent.lines.length;
    // baresip's transfer command: a blind transfer, REFER with the Refer-To exactly as typed.
    expect((await agent.command('transfer', `<sip:pay@${target}?${headers}>`)).ok).toBe(true);
    await until('the capture to start', () => sessionEvent('session.started', (e) => e.orderRef === orderRef) !== undefined);
    const sessionId = (): string | undefined => sessionEvent('session.started', (e) => e.orderRef === orderRef)?.sessionId;
    await keyWhenAsked(customer, sessionId, 'pan', '4111111111111111#');
    await keyWhenAsked(customer, sessionId, 'expiry', '1230');
    await keyWhenAsked(customer, sessionId, 'cvv', '123');
    await keyWhenAsked(customer, sessionId, 'otp', OTP);
    await until('the payment to end', () => sessionEvent('session.ended', (e) => e.sessionId === sessionId()) !== undefined, 40_000);
    expect(sessionEvent('session.ended', (e) => e.sessionId === sessionId())).toMatchObject({ outcome: 'paid' });
    const endedAt = Date.now();

    // What the agent's phone did after the payment: it was told the outcome in a NOTIFY that ends
    // the subscription with a provisional status, kept the call (no BYE, no "transfer failed"),
    // and hears the customer again once the outcome prompt is over.
    await sleep(6000);
    const trace = agent.lines.slice(traceFrom).join('\n');
    expect(trace).toMatch(/^Refer-To: <sip:pay@[^>]+\?X-Pay-Amount=1499\.00&[^>]+>$/m);
    expect(trace).toMatch(/^SIP\/2\.0 202 Accepted$/m);
    expect(trace).toMatch(/^Subscription-State: terminated;reason=noresource$/m);
    expect(trace).toMatch(/^SIP\/2\.0 100 Payment paid, the customer is back on the call$/m);
    expect(trace).not.toMatch(/^BYE /m);
    expect(count('CALL_CLOSED')).toBe(closed);
    expect(count('TRANSFER_FAILED')).toBe(0);
    expect(customer.events.some((e) => e.type === 'CALL_CLOSED')).toBe(false);
    expect(gw.calls.calls.size).toBe(1);
    const legs = await legStats();
    expect(legs['agent']!.rx.packets).toBeGreaterThan(0);

    expect((await customer.command('hangup')).ok).toBe(true);
    await until('the agent call to close', () => count('CALL_CLOSED') === closed + 1, 10_000);
    const heard = agentHeard();
    // The last second before the hang-up: the customer's 1000 Hz is back at the agent.
    expect(Date.now() - endedAt).toBeGreaterThan(5000);
    expect(toneShare(heard.pcm.subarray(-heard.rate), heard.rate, 1000)).toBeGreaterThan(0.5);

    const [session] = (await gw.store.list()).filter((s) => s.orderRef === orderRef);
    expect(session).toMatchObject({ outcome: 'paid', dtmfTransport: 'rfc4733', agentId: 'agent-1', card: { brand: 'visa', first6: '411111', last4: '1111' } });
    const leaks = [...logs.lines, JSON.stringify(events)].join('\n');
    for (const secret of ['4111111111111111', OTP]) expect(leaks).not.toContain(secret);
  }, 90_000);
});

describe('a bare Refer-To (the transfer URI typed without <>)', () => {
  it('is refused 400 Malformed Refer-To with a Warning saying the URI must be in <>; baresip then ends its own call', async () => {
    await until('agent-1 to register', () => gw.registrar.isRegistered('agent-1'));
    const customer = await phone({ accounts: ['<sip:customer-6@127.0.0.1>;regint=0'], source: { sine: 1000 } });
    const count = (type: string): number => agent.events.filter((e) => e.type === type).length;
    const established = count('CALL_ESTABLISHED');
    const failed = count('TRANSFER_FAILED');
    expect((await customer.command('dial', `sip:support@${target}`)).ok).toBe(true);
    await customer.waitFor('CALL_ESTABLISHED', 10_000);
    await until('the agent to answer', () => count('CALL_ESTABLISHED') === established + 1);
    const traceFrom = agent.lines.length;
    expect((await agent.command('transfer', `sip:pay@${target}?X-Pay-Amount=10.00&X-Pay-Currency=INR`)).ok).toBe(true);
    await until('the transfer to fail at the phone', () => count('TRANSFER_FAILED') === failed + 1);
    const trace = agent.lines.slice(traceFrom).map((l) => l.replace(/\r$/, '')).join('\n');
    expect(trace).toMatch(/^Refer-To: sip:pay@[^<>\s]+\?X-Pay-Amount=10\.00&X-Pay-Currency=INR$/m);
    expect(trace).toMatch(/^SIP\/2\.0 400 Malformed Refer-To$/m);
    expect(trace).toMatch(/^Warning: 399 tonegate "Refer-To: a URI with headers must be enclosed in <> \(RFC 3261 20\)/m);
    // baresip 1.0 ends its call on a failed transfer (its own BYE): the customer's call ends too.
    await customer.waitFor('CALL_CLOSED', 10_000);
    await until('the call to end at the gateway', () => gw.calls.calls.size === 0);
    expect(gw.paymentCalls.captures.size).toBe(0);
  }, 30_000);
});

describe('a desk-phone customer', () => {
  it('dials a handoff code exactly as POST /api/handoffs returned it and pays; the gateway then hangs up', async () => {
    const orderRef = `BARESIP-CODE-${Date.now()}`;
    const r = await fetch(`http://127.0.0.1:${gw.httpPort}/api/handoffs`, {
      method: 'POST',
      headers: { authorization: `Bearer ${gw.handoffApiKey}`, 'content-type': 'application/json' },
      body: JSON.stringify({ amount: '250.00', currency: 'INR', merchantId: 'M-DEMO-01', orderRef, customerMobile: '+919800000002' }),
    });
    expect(r.status).toBe(201);
    const { sipUri } = (await r.json()) as { sipUri: string };
    expect(sipUri).toMatch(new RegExp(`^sip:pay-[0-9a-z]+@${target.replace(/\./g, '\\.')}$`));

    const customer = await phone({ accounts: ['<sip:customer-3@127.0.0.1>;regint=0'], source: { sine: 1000 } });
    expect((await customer.command('dial', sipUri)).ok).toBe(true);
    await customer.waitFor('CALL_ESTABLISHED', 10_000);
    await until('the capture to start', () => sessionEvent('session.started', (e) => e.orderRef === orderRef) !== undefined);
    const sessionId = (): string | undefined => sessionEvent('session.started', (e) => e.orderRef === orderRef)?.sessionId;
    await keyWhenAsked(customer, sessionId, 'pan', '5555555555554444#');
    await keyWhenAsked(customer, sessionId, 'expiry', '1230');
    await keyWhenAsked(customer, sessionId, 'cvv', '123');
    await keyWhenAsked(customer, sessionId, 'otp', OTP);
    await until('the payment to end', () => sessionEvent('session.ended', (e) => e.sessionId === sessionId()) !== undefined, 40_000);
    expect(sessionEvent('session.ended', (e) => e.sessionId === sessionId())).toMatchObject({ outcome: 'paid' });
    // No X-Pay-Return-To: after the outcome prompt the gateway ends the call.
    await customer.waitFor('CALL_CLOSED', 30_000);
    const [session] = (await gw.store.list()).filter((s) => s.orderRef === orderRef);
    expect(session).toMatchObject({ outcome: 'paid', dtmfTransport: 'rfc4733', card: { brand: 'mastercard', last4: '4444' } });
  }, 90_000);

  it.each([
    ['RTP/SAVP (SDES SRTP, mediaenc=srtp-mand) while SRTP is off', 'srtp-mand', /^Warning: 302 tonegate "unsupported transport RTP\/SAVP: SRTP is off on this gateway \(plain RTP\/AVP only\)"$/],
    ['DTLS-SRTP without ICE (mediaenc=dtls_srtp)', 'dtls_srtp', /^Warning: 302 tonegate "DTLS-SRTP without ICE is not supported \(only browsers use DTLS-SRTP here\): offer RTP\/AVP"$/],
  ])('an offer of %s is refused 488 with a Warning before any agent rings', async (_n, mediaenc, warning) => {
    await until('agent-1 to register', () => gw.registrar.isRegistered('agent-1'));
    const offersAtAgent = (): number => agent.events.filter((e) => e.type === 'CALL_REMOTE_SDP' && e.param === 'offer').length;
    const offersBefore = offersAtAgent();
    const customer = await phone({
      accounts: [`<sip:customer-4@127.0.0.1>;regint=0;mediaenc=${mediaenc}`],
      modules: ['srtp.so', 'dtls_srtp.so'],
      sipTrace: true,
    });
    expect((await customer.command('dial', `sip:support@${target}`)).ok).toBe(true);
    const closed = await customer.waitFor('CALL_CLOSED', 10_000);
    expect(closed.param).toBe('488 Not Acceptable Here');
    // The trace on stdout may trail the ctrl_tcp event a little.
    expect(await customer.waitLine(warning, 5000)).toMatch(warning);
    // The agent's phone never rang, and no call (no media port) was set up.
    await sleep(500);
    expect(offersAtAgent()).toBe(offersBefore);
    expect(gw.calls.calls.size).toBe(0);
  }, 30_000);
});

describe('symmetric RTP latching with a phone whose SDP names another address than its packets come from', () => {
  it('the dropped packets are counted in /metrics and logged once for the leg', async () => {
    await until('agent-1 to register', () => gw.registrar.isRegistered('agent-1'));
    const before = await metric('tonegate_rtp_unexpected_source_packets_total');
    // No net_interface: baresip names its default interface's address in the SDP (eth0 here), but
    // sends from 127.0.0.1, the address it reaches the gateway on.
    const customer = await phone({ accounts: ['<sip:customer-5@127.0.0.1>;regint=0'], source: { sine: 1000 }, netInterface: null, sipTrace: true });
    expect((await customer.command('dial', `sip:support@${target}`)).ok).toBe(true);
    await customer.waitFor('CALL_ESTABLISHED', 10_000);
    await sleep(2000);
    const sdpAddress = /^c=IN IP4 (\S+)$/m.exec(customer.lines.join('\n'))?.[1];
    expect(sdpAddress).toBeDefined();
    expect(sdpAddress).not.toBe('127.0.0.1');
    const legs = await legStats();
    expect(legs['customer']!.rx.packets).toBe(0);
    expect(legs['customer']!.rx.wrongSource).toBeGreaterThan(50);
    expect(await metric('tonegate_rtp_unexpected_source_packets_total')).toBeGreaterThanOrEqual(before + legs['customer']!.rx.wrongSource);
    const warnings = logs.lines.filter((l) => /another address than the SDP names/.test(l) && /"leg":"customer"/.test(l));
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toContain(`"expected":"${sdpAddress}"`);
    expect(warnings[0]).toMatch(/"from":"127\.0\.0\.1:\d+"/);
    expect((await customer.command('hangup')).ok).toBe(true);
    await until('the call to end at the gateway', () => gw.calls.calls.size === 0);
  }, 30_000);
});

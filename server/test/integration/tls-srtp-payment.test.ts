/**
 * A whole payment encrypted end to end (PCI DSS 4.2.1, docs/security.md "Encryption"): a stock SIP
 * phone (Debian's baresip 1.0) dials the transfer-mode pay URI over SIP over TLS (RFC 3261 26.2)
 * with SRTP mandatory (`mediaenc=srtp-mand`: RTP/SAVP, SDES keys, RFC 4568 / RFC 3711) to a
 * gateway with a certificate and SRTP=required; it keys card, expiry, CVV and the OTP from the
 * demo SMS as RFC 4733 events (`sndcode`), and the real demo provider approves: `paid`.
 *
 * The real `tcpdump` captures the call's ports on the loopback interface the whole time, and the
 * capture proves what crossed the wire: TLS records and no SIP text on the TLS port, every media
 * packet authentic SRTP whose telephone-events read in clear spell nothing of the card (decrypted
 * with the keys from the phone's own SIP trace they spell exactly what was keyed), and the card
 * number, expiry+CVV and OTP in no captured byte and no gateway log line.
 */
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SessionEvent } from '../../src/capture/events.js';
import type { Gateway } from '../../src/gateway.js';
import { SrtpSession } from '../../src/media/srtp/srtp.js';
import { isSdpError, parseCryptoAttribute, parseSdp, type SdesKey } from '../../src/sdp/index.js';
import { Baresip } from '../support/baresip.js';
import { startTestGateway, type LogSink } from '../support/gateway.js';
import { startCapture, type Capture, type UdpDatagram } from '../support/pcap-udp.js';
import { TestCa, tlsFetch } from '../support/tls-certs.js';

const OTP = '246810';
const PAN = '4111111111111111';
let gw: Gateway;
let logs: LogSink;
let ca: TestCa;
const phones: Baresip[] = [];
const events: SessionEvent[] = [];

beforeAll(async () => {
  ca = TestCa.create();
  const cert = ca.issue('127.0.0.1');
  ({ gw, logs } = await startTestGateway(
    { TLS_CERT_FILE: cert.certFile, TLS_KEY_FILE: cert.keyFile, SRTP: 'required', DEMO_OTP: OTP },
    { config: { SIP_TLS_PORT: 0 } },
  ));
  await gw.bus.subscribe((e) => void events.push(e));
});
afterAll(async () => {
  await Promise.all(phones.map((p) => p.stop()));
  await gw?.close();
});

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
async function until(what: string, ok: () => boolean, timeoutMs: number): Promise<void> {
  for (const end = Date.now() + timeoutMs; !ok(); await sleep(50)) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}\n${phones.map((p) => p.tail(30)).join('\n---\n')}`);
  }
}
const sessionEvent = <T extends SessionEvent['type']>(type: T, pred: (e: Extract<SessionEvent, { type: T }>) => boolean = () => true) =>
  events.find((e): e is Extract<SessionEvent, { type: T }> => e.type === type && pred(e as Extract<SessionEvent, { type: T }>));

/** The SDP bodies in baresip's SIP trace (`-s`), in order: its offer first, then the gateway's answer. */
function tracedSdps(output: string): string[] {
  const out: string[] = [];
  const text = output.replace(/\r/g, '');
  for (let at = text.indexOf('\nv=0\n'); at >= 0; at = text.indexOf('\nv=0\n', at + 1)) {
    const body: string[] = [];
    for (const l of text.slice(at + 1).split('\n')) {
      if (!/^[a-z]=/.test(l)) break;
      body.push(l);
    }
    out.push(body.join('\r\n') + '\r\n');
  }
  return out;
}

/** RTP, not RTCP (RFC 5761 §4: RTCP packet types 192-223 in the second octet). */
const isRtp = (p: Buffer): boolean => p.length >= 12 && p[0]! >> 6 === 2 && !(p[1]! >= 192 && p[1]! <= 223);

/** RFC 4733 events read from payloads (one per event, by RTP timestamp) as keypad characters. */
function digitsOf(payloads: Buffer[]): string {
  let s = '';
  let lastTs = -1;
  for (const p of payloads) {
    const ts = p.readUInt32BE(4);
    if (ts === lastTs) continue;
    lastTs = ts;
    const ev = p[12]!;
    s += ev <= 9 ? String(ev) : ev === 10 ? '*' : ev === 11 ? '#' : '?';
  }
  return s;
}

interface MediaEnd { key: SdesKey; port: number; te: number | undefined }

/**
 * One SIP leg's SRTP from a phone's own SIP trace: offer and answer both RTP/SAVP, each side with a
 * key of its own. `phoneOffers`: the phone sent the offer (it dialled) or answered the gateway's.
 */
function srtpLeg(trace: string, phoneOffers: boolean): { phone: MediaEnd; gw: MediaEnd } {
  const [first, second] = tracedSdps(trace).map((t) => parseSdp(t));
  if (!first || !second || isSdpError(first) || isSdpError(second)) throw new Error(`no offer and answer in the phone's trace:\n${trace.slice(-4000)}`);
  expect([first.protocol, second.protocol]).toEqual(['RTP/SAVP', 'RTP/SAVP']);
  const [ph, g] = phoneOffers ? [first, second] : [second, first];
  const end = (sdp: typeof ph): MediaEnd => {
    const key = parseCryptoAttribute(sdp.crypto[0] ?? '');
    if (typeof key === 'string') throw new Error(`unreadable a=crypto: ${key}`);
    return { key, port: sdp.port, te: sdp.telephoneEvent?.pt };
  };
  const leg = { phone: end(ph), gw: end(g) };
  expect(leg.gw.key.keySalt.equals(leg.phone.key.keySalt)).toBe(false);
  return leg;
}

/**
 * The media of one leg in the capture, both ways: every packet authentic SRTP under the sender's
 * key. With `keyed`, the phone's telephone-events read as plain RFC 4733 spell nothing of the card,
 * and decrypted they spell exactly `keyed` (so the capture did hold the keyed events).
 */
function provesSrtp(dgrams: UdpDatagram[], leg: { phone: MediaEnd; gw: MediaEnd }, keyed?: string): void {
  const fromPhone = dgrams.filter((d) => d.srcPort === leg.phone.port && d.dstPort === leg.gw.port && isRtp(d.payload));
  const toPhone = dgrams.filter((d) => d.srcPort === leg.gw.port && d.dstPort === leg.phone.port && isRtp(d.payload));
  expect(fromPhone.length).toBeGreaterThan(100);
  expect(toPhone.length).toBeGreaterThan(100);
  const rx = new SrtpSession({ suite: leg.gw.key.suite, keySalt: leg.gw.key.keySalt }, { suite: leg.phone.key.suite, keySalt: leg.phone.key.keySalt });
  const te = leg.phone.te;
  const decrypted: Buffer[] = [];
  for (const d of fromPhone) {
    const b = Buffer.from(d.payload);
    const n = rx.unprotectRtp(b);
    expect(typeof n, 'every media packet from the phone is authentic SRTP').toBe('number');
    if ((b[1]! & 0x7f) === te) decrypted.push(b.subarray(0, n as number));
  }
  const tx = new SrtpSession({ suite: leg.phone.key.suite, keySalt: leg.phone.key.keySalt }, { suite: leg.gw.key.suite, keySalt: leg.gw.key.keySalt });
  for (const d of toPhone) expect(typeof tx.unprotectRtp(Buffer.from(d.payload)), 'every media packet to the phone is authentic SRTP').toBe('number');
  if (keyed === undefined) return;
  const events = fromPhone.filter((d) => (d.payload[1]! & 0x7f) === te).map((d) => d.payload);
  expect(events.length).toBeGreaterThan(30);
  const inClear = digitsOf(events);
  for (const secret of [PAN.slice(0, 6), PAN.slice(-4), '1230', OTP]) expect(inClear).not.toContain(secret);
  expect(digitsOf(decrypted)).toBe(keyed);
}

/**
 * Signalling: the TLS port carried TLS application-data records (type 23, version 3.3) and none of
 * `clear`; nothing went to the UDP SIP port; and the card number, expiry+CVV and OTP are in no
 * captured byte and no gateway log line.
 */
function provesWireAndLogs(pcapFile: string, dgrams: UdpDatagram[], clear: string[]): void {
  const wire = readFileSync(pcapFile).toString('latin1');
  expect(wire.split('\x17\x03\x03').length - 1).toBeGreaterThan(10);
  for (const c of ['SIP/2.0', 'INVITE sip', 'ACK sip', 'BYE sip', 'REFER sip', 'Call-ID', 'a=crypto', 'inline:', 'X-Pay-', ...clear]) {
    expect(wire.includes(c), `"${c}" in the capture`).toBe(false);
  }
  expect(dgrams.filter((d) => d.dstPort === gw.sipPort || d.srcPort === gw.sipPort)).toEqual([]);
  for (const secret of [PAN, '1230123', OTP]) {
    expect(wire.includes(secret), `${secret} in the capture`).toBe(false);
    expect(logs.lines.filter((l) => l.includes(secret)), `${secret} in the gateway log`).toEqual([]);
  }
}

/**
 * tcpdump on lo for this gateway's SIP ports and the media between the phones' RTP ports and the
 * gateway's RTP range. The interface is shared with the tests running beside this one: a port of
 * one of their SIP peers may fall in a phone's range (it was free when the phone started, not
 * reserved), and one of their SIP messages was once captured that way; media packets must
 * therefore have both ends in the two ranges.
 */
async function captureCall(...on: Baresip[]): Promise<{ file: string; cap: Capture }> {
  const file = join(mkdtempSync(join(tmpdir(), 'tg-pcap-')), 'tls-srtp.pcap');
  const phones = on.map((p) => `portrange ${p.rtpPorts.min}-${p.rtpPorts.max}`).join(' or ');
  const media = `(${phones}) and portrange ${gw.config.RTP_PORT_MIN}-${gw.config.RTP_PORT_MAX}`;
  const filter = `tcp port ${gw.sipTlsPort!} or (udp and (port ${gw.sipPort} or (${media})))`;
  // startCapture rejects, naming tcpdump's error, when tcpdump cannot capture (it needs root or CAP_NET_RAW).
  return { file, cap: await startCapture(file, 'lo', filter) };
}

/** A phone on SIP over TLS (the gateway's certificate checked against the test CA) with SRTP mandatory. */
async function tlsPhone(account: string, sine: number): Promise<Baresip> {
  const p = await Baresip.start({ accounts: [account], modules: ['srtp.so'], tls: { caFile: ca.certFile }, source: { sine }, sipTrace: true, lifetimeS: 120 });
  phones.push(p);
  return p;
}

/** Keys card, expiry, CVV and the OTP read from the demo SMS inbox, each once the capture asks for it. */
async function keyPayment(customer: Baresip, sessionId: string): Promise<void> {
  const asked = (field: string): Promise<void> =>
    until(`the capture to ask for ${field}`, () => sessionEvent('field.started', (e) => e.field === field && e.sessionId === sessionId) !== undefined, 30_000);
  const keyWhenAsked = async (field: 'pan' | 'expiry' | 'cvv', digits: string): Promise<void> => {
    await asked(field);
    expect((await customer.command('sndcode', digits)).ok).toBe(true);
  };
  await keyWhenAsked('pan', `${PAN}#`);
  await keyWhenAsked('expiry', '1230');
  await keyWhenAsked('cvv', '123');
  await asked('otp');
  const inbox = JSON.stringify(await (await tlsFetch(`https://127.0.0.1:${gw.httpPort}/demo/sms`, { ca: ca.cert })).json());
  const otp = /\b(\d{6})\b/.exec(inbox)?.[1];
  expect(otp, inbox).toBe(OTP);
  expect((await customer.command('sndcode', otp!)).ok).toBe(true);
  await until('the payment to end', () => sessionEvent('session.ended', (e) => e.sessionId === sessionId) !== undefined, 40_000);
  expect(sessionEvent('session.ended', (e) => e.sessionId === sessionId)).toMatchObject({ outcome: 'paid' });
}

const sessionOf = async (orderRef: string): Promise<string> => {
  await until('the capture to start', () => sessionEvent('session.started', (e) => e.orderRef === orderRef) !== undefined, 15_000);
  return sessionEvent('session.started', (e) => e.orderRef === orderRef)!.sessionId;
};

describe('payments over SIP TLS and SRTP from baresip, captured on the wire', () => {
  it('transfer mode: the customer dials the pay URI and pays; the capture holds TLS records, SRTP only, no card digit, SIP line or clear event', async () => {
    const orderRef = `TLS-SRTP-${Date.now()}`;
    // With a certificate the HTTP port speaks HTTPS only.
    const res = await tlsFetch(`https://127.0.0.1:${gw.httpPort}/api/handoffs`, {
      ca: ca.cert,
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${gw.handoffApiKey}` },
      body: JSON.stringify({ amount: '1499.00', currency: 'INR', merchantId: 'M-DEMO-01', orderRef, customerMobile: '+919800000001' }),
    });
    expect(res.status).toBe(201);
    const { code } = (await res.json()) as { code: string };
    const customer = await tlsPhone('<sip:customer@127.0.0.1;transport=tls>;regint=0;mediaenc=srtp-mand', 1000);
    const { file, cap } = await captureCall(customer);
    let dgrams: UdpDatagram[] = [];
    try {
      // The account's `;transport=tls` goes on the Request-URI: sip:pay-<code>@...;transport=tls.
      expect((await customer.command('dial', `sip:pay-${code}@127.0.0.1:${gw.sipTlsPort!}`)).ok).toBe(true);
      await customer.waitFor('CALL_ESTABLISHED', 10_000);
      await keyPayment(customer, await sessionOf(orderRef));
      // No X-Pay-Return-To: the gateway ends the call after the outcome prompt.
      await customer.waitFor('CALL_CLOSED', 30_000);
    } finally {
      dgrams = await cap.stop();
    }
    const [session] = await gw.store.list({ orderRef });
    expect(session).toMatchObject({ outcome: 'paid', dtmfTransport: 'rfc4733', card: { brand: 'visa', first6: '411111', last4: '1111' } });
    // The phone's own trace: the INVITE went over TLS.
    expect(customer.output).toMatch(/^INVITE sip:pay-[0-9a-z]+@127\.0\.0\.1:\d+;transport=tls SIP\/2\.0\r?$/m);
    expect(customer.output).toMatch(/^Via: SIP\/2\.0\/TLS /m);
    provesSrtp(dgrams, srtpLeg(customer.output, true), `${PAN}#1230123${OTP}`);
    provesWireAndLogs(file, dgrams, [`pay-${code}`, orderRef]);
  }, 150_000);

  it('inline: an agent phone registered over TLS answers a support call and REFERs it to pay; the customer pays, both legs SRTP, nothing in clear', async () => {
    const orderRef = `TLS-SRTP-INLINE-${Date.now()}`;
    const agent = await tlsPhone(
      `<sip:agent-1@127.0.0.1;transport=tls>;auth_pass=demo;answermode=auto;outbound="sip:127.0.0.1:${gw.sipTlsPort!};transport=tls";regint=300;mediaenc=srtp-mand`,
      440,
    );
    await until('agent-1 to register over TLS', () => gw.registrar.bindings('agent-1').some((b) => gw.sip.transport.getFlow(b.flowId)?.protocol === 'TLS'), 10_000);
    const customer = await tlsPhone('<sip:customer-2@127.0.0.1;transport=tls>;regint=0;mediaenc=srtp-mand', 1000);
    const { file, cap } = await captureCall(agent, customer);
    let dgrams: UdpDatagram[] = [];
    try {
      expect((await customer.command('dial', `sip:support@127.0.0.1:${gw.sipTlsPort!}`)).ok).toBe(true);
      await customer.waitFor('CALL_ESTABLISHED', 10_000);
      await agent.waitFor('CALL_ESTABLISHED', 10_000);
      await sleep(1000);
      const headers = ['X-Pay-Amount=1499.00', 'X-Pay-Currency=INR', 'X-Pay-Merchant-Id=M-DEMO-01', `X-Pay-Order-Ref=${orderRef}`, 'X-Pay-Customer-Mobile=+919800000001', 'X-Pay-Agent-Id=agent-1'].join('&');
      // baresip's blind transfer: a REFER whose Refer-To is exactly as typed, sent over the agent's TLS flow.
      expect((await agent.command('transfer', `<sip:pay@127.0.0.1:${gw.sipTlsPort!};transport=tls?${headers}>`)).ok).toBe(true);
      await keyPayment(customer, await sessionOf(orderRef));
      // After the outcome the customer is back with the agent; the customer hangs up.
      await sleep(3000);
      expect(agent.events.some((e) => e.type === 'CALL_CLOSED')).toBe(false);
      expect((await customer.command('hangup')).ok).toBe(true);
      await agent.waitFor('CALL_CLOSED', 10_000);
    } finally {
      dgrams = await cap.stop();
    }
    const [session] = await gw.store.list({ orderRef });
    expect(session).toMatchObject({ outcome: 'paid', dtmfTransport: 'rfc4733', agentId: 'agent-1', card: { brand: 'visa', first6: '411111', last4: '1111' } });
    expect(agent.output).toMatch(/^REFER sip:\S+;transport=tls SIP\/2\.0\r?$/m);
    expect(agent.output).toMatch(/^SIP\/2\.0 202 Accepted\r?$/m);
    // Customer leg (the phone offered) and agent leg (the gateway offered): SRTP both ways.
    provesSrtp(dgrams, srtpLeg(customer.output, true), `${PAN}#1230123${OTP}`);
    provesSrtp(dgrams, srtpLeg(agent.output, false));
    provesWireAndLogs(file, dgrams, [orderRef]);
  }, 150_000);
});

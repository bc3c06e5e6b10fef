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
import { startCapture, type UdpDatagram } from '../support/pcap-udp.js';
import { TestCa, tlsFetch } from '../support/tls-certs.js';

const OTP = '246810';
const PAN = '4111111111111111';
let gw: Gateway;
let logs: LogSink;
let ca: TestCa;
let customer: Baresip | undefined;
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
  await customer?.stop();
  await gw?.close();
});

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
async function until(what: string, ok: () => boolean, timeoutMs: number): Promise<void> {
  for (const end = Date.now() + timeoutMs; !ok(); await sleep(50)) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}\n${customer?.tail() ?? ''}`);
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

describe('a transfer-mode payment over SIP TLS and SRTP from baresip, captured on the wire', () => {
  it('is paid, and the capture holds TLS records, SRTP only, and no card digit, SIP line or clear event', async () => {
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
    const tlsPort = gw.sipTlsPort!;
    const rtpRange = `${gw.config.RTP_PORT_MIN}-${gw.config.RTP_PORT_MAX}`;
    const pcapFile = join(mkdtempSync(join(tmpdir(), 'tg-pcap-')), 'tls-srtp.pcap');
    // This gateway's traffic only (the loopback interface is shared): its SIP ports and its RTP range.
    // startCapture rejects, naming tcpdump's error, when tcpdump cannot capture (it needs root or CAP_NET_RAW).
    const cap = await startCapture(pcapFile, 'lo', `tcp port ${tlsPort} or (udp and (port ${gw.sipPort} or portrange ${rtpRange}))`);
    let dgrams: UdpDatagram[] = [];
    try {
      customer = await Baresip.start({
        accounts: ['<sip:customer@127.0.0.1;transport=tls>;regint=0;mediaenc=srtp-mand'],
        modules: ['srtp.so'],
        tls: { caFile: ca.certFile },
        source: { sine: 1000 },
        sipTrace: true,
        lifetimeS: 100,
      });
      // The account's `;transport=tls` goes on the Request-URI: sip:pay-<code>@...;transport=tls.
      expect((await customer.command('dial', `sip:pay-${code}@127.0.0.1:${tlsPort}`)).ok).toBe(true);
      await customer.waitFor('CALL_ESTABLISHED', 10_000);
      await until('the capture to start', () => sessionEvent('session.started', (e) => e.orderRef === orderRef) !== undefined, 10_000);
      const sessionId = sessionEvent('session.started', (e) => e.orderRef === orderRef)!.sessionId;
      const keyWhenAsked = async (field: 'pan' | 'expiry' | 'cvv' | 'otp', digits: string): Promise<void> => {
        await until(`the capture to ask for ${field}`, () => sessionEvent('field.started', (e) => e.field === field && e.sessionId === sessionId) !== undefined, 30_000);
        expect((await customer!.command('sndcode', digits)).ok).toBe(true);
      };
      await keyWhenAsked('pan', `${PAN}#`);
      await keyWhenAsked('expiry', '1230');
      await keyWhenAsked('cvv', '123');
      // The OTP as the customer reads it: from the demo SMS inbox, once the capture asks for it.
      await until('the capture to ask for otp', () => sessionEvent('field.started', (e) => e.field === 'otp' && e.sessionId === sessionId) !== undefined, 30_000);
      const inbox = JSON.stringify(await (await tlsFetch(`https://127.0.0.1:${gw.httpPort}/demo/sms`, { ca: ca.cert })).json());
      const otp = /\b(\d{6})\b/.exec(inbox)?.[1];
      expect(otp, inbox).toBe(OTP);
      await keyWhenAsked('otp', otp!);
      await until('the payment to end', () => sessionEvent('session.ended', (e) => e.sessionId === sessionId) !== undefined, 40_000);
      expect(sessionEvent('session.ended', (e) => e.sessionId === sessionId)).toMatchObject({ outcome: 'paid' });
      // No X-Pay-Return-To: the gateway ends the call after the outcome prompt.
      await customer.waitFor('CALL_CLOSED', 30_000);
    } finally {
      dgrams = await cap.stop();
    }
    const [session] = await gw.store.list({ orderRef });
    expect(session).toMatchObject({ outcome: 'paid', dtmfTransport: 'rfc4733', card: { brand: 'visa', first6: '411111', last4: '1111' } });

    // The phone's own trace: the INVITE went over TLS, offer and answer are RTP/SAVP with a key each.
    const trace = customer.output;
    expect(trace).toMatch(/^INVITE sip:pay-[0-9a-z]+@127\.0\.0\.1:\d+;transport=tls SIP\/2\.0\r?$/m);
    expect(trace).toMatch(/^Via: SIP\/2\.0\/TLS /m);
    const [offerText, answerText] = tracedSdps(trace);
    const offer = parseSdp(offerText ?? '');
    const answer = parseSdp(answerText ?? '');
    if (isSdpError(offer) || isSdpError(answer)) throw new Error(`no offer and answer in the phone's trace:\n${trace.slice(-4000)}`);
    expect([offer.protocol, answer.protocol]).toEqual(['RTP/SAVP', 'RTP/SAVP']);
    const phoneKey = parseCryptoAttribute(offer.crypto[0]!) as SdesKey;
    const gwKey = parseCryptoAttribute(answer.crypto[0]!) as SdesKey;
    expect(typeof phoneKey === 'object' && typeof gwKey === 'object').toBe(true);
    expect(gwKey.keySalt.equals(phoneKey.keySalt)).toBe(false);

    // Signalling: the TLS port carried TLS application-data records (type 23, version 3.3) and no
    // SIP text; nothing at all went to the UDP SIP port.
    const wire = readFileSync(pcapFile).toString('latin1');
    expect(wire.split('\x17\x03\x03').length - 1).toBeGreaterThan(10);
    for (const clear of ['SIP/2.0', 'INVITE sip', 'ACK sip', 'BYE sip', 'Call-ID', 'a=crypto', 'inline:', `pay-${code}`, orderRef]) {
      expect(wire.includes(clear), `"${clear}" in the capture`).toBe(false);
    }
    expect(dgrams.filter((d) => d.dstPort === gw.sipPort || d.srcPort === gw.sipPort)).toEqual([]);

    // Media from the phone to the gateway's port: every packet authentic SRTP under the phone's key;
    // its telephone-events read as plain RFC 4733 spell nothing of the card, decrypted they spell
    // exactly what was keyed (so the capture did hold the keyed events).
    const media = dgrams.filter((d) => d.dstPort === answer.port && isRtp(d.payload));
    expect(media.length).toBeGreaterThan(100);
    const te = offer.telephoneEvent!.pt;
    const eventPackets = media.filter((d) => (d.payload[1]! & 0x7f) === te);
    expect(eventPackets.length).toBeGreaterThan(30);
    const inClear = digitsOf(eventPackets.map((d) => d.payload));
    for (const secret of [PAN.slice(0, 6), PAN.slice(-4), '1230', OTP]) expect(inClear).not.toContain(secret);
    const rx = new SrtpSession({ suite: gwKey.suite, keySalt: gwKey.keySalt }, { suite: phoneKey.suite, keySalt: phoneKey.keySalt });
    const decrypted: Buffer[] = [];
    for (const d of media) {
      const b = Buffer.from(d.payload);
      const n = rx.unprotectRtp(b);
      expect(typeof n, 'every media packet from the phone is authentic SRTP').toBe('number');
      if ((b[1]! & 0x7f) === te) decrypted.push(b.subarray(0, n as number));
    }
    expect(digitsOf(decrypted)).toBe(`${PAN}#1230123${OTP}`);
    // Media from the gateway to the phone is SRTP as well: it authenticates under the gateway's key.
    const tx = new SrtpSession({ suite: phoneKey.suite, keySalt: phoneKey.keySalt }, { suite: gwKey.suite, keySalt: gwKey.keySalt });
    const toPhone = dgrams.filter((d) => d.srcPort === answer.port && d.dstPort === offer.port && isRtp(d.payload));
    expect(toPhone.length).toBeGreaterThan(100);
    for (const d of toPhone) expect(typeof tx.unprotectRtp(Buffer.from(d.payload)), 'every media packet to the phone is authentic SRTP').toBe('number');

    // The card number, expiry+CVV and OTP: in no captured byte, in no gateway log line.
    for (const secret of [PAN, '1230123', OTP]) {
      expect(wire.includes(secret), `${secret} in the capture`).toBe(false);
      expect(logs.lines.filter((l) => l.includes(secret)), `${secret} in the gateway log`).toEqual([]);
    }
  }, 150_000);
});

/**
 * SRTP with SDES against a real phone: Debian's baresip dials sip:pay over UDP with RTP/SAVP
 * (RFC 4568 a=crypto, RFC 3711 AES_CM_128_HMAC_SHA1_80), keys card, expiry, CVV and OTP as RFC 4733
 * events inside SRTP, and the payment is paid. A tcpdump capture of the call shows the digits only
 * encrypted: no RFC 4733 event and no card digit readable in clear. With SRTP=required the same
 * phone offering plain RTP gets 488.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Gateway } from '../../src/gateway.js';
import { SrtpSession } from '../../src/media/srtp/srtp.js';
import { parseCryptoAttribute, parseSdp, isSdpError, type SdesKey } from '../../src/sdp/index.js';
import { Baresip } from '../support/baresip.js';
import { startTestGateway, type LogSink } from '../support/gateway.js';
import { startCapture, type UdpDatagram } from '../support/pcap-udp.js';

const OTP = '246810';
const phones: Baresip[] = [];

/** A customer phone on UDP offering SRTP (`srtp-mand`, RTP/SAVP with a=crypto only) or plain RTP (`none`). */
async function phone(mediaenc: 'srtp-mand' | 'none'): Promise<Baresip> {
  const enc = mediaenc === 'none' ? '' : `;mediaenc=${mediaenc}`;
  const p = await Baresip.start({ accounts: [`<sip:customer@127.0.0.1>;regint=0${enc}`], modules: ['srtp.so'], source: { sine: 1000 }, lifetimeS: 80 });
  phones.push(p);
  return p;
}

/** Waits until the session of `orderRef` satisfies `ok` (REST, as a supervisor would read it). */
async function sessionUntil(orderRef: string, what: string, ok: (s: SessionJson | undefined) => boolean, timeoutMs: number): Promise<void> {
  for (const end = Date.now() + timeoutMs; !ok(await session(orderRef)); await new Promise((r) => setTimeout(r, 100))) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
  }
}
const PAN = '4111111111111111';
let gw: Gateway;
let logs: LogSink;

beforeAll(async () => {
  ({ gw, logs } = await startTestGateway({ DEMO_OTP: OTP, SRTP: 'required' }));
});
afterAll(async () => {
  await Promise.all(phones.map((p) => p.stop()));
  await gw?.close();
});

async function handoff(orderRef: string): Promise<string> {
  const res = await fetch(`http://127.0.0.1:${gw.httpPort}/api/handoffs`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${gw.handoffApiKey}` },
    body: JSON.stringify({ amount: '1499.00', currency: 'INR', merchantId: 'M-1', orderRef, customerMobile: '+919876543210' }),
  });
  expect(res.status).toBe(201);
  return ((await res.json()) as { code: string }).code;
}

interface SessionJson { state: string; field: string | null; outcome: string | null; card: unknown; dtmfTransport: string }
async function session(orderRef: string): Promise<SessionJson | undefined> {
  const res = await fetch(`http://127.0.0.1:${gw.httpPort}/api/sessions?orderRef=${orderRef}`, { headers: { authorization: `Bearer ${gw.supervisorToken}` } });
  return ((await res.json()) as { sessions: SessionJson[] }).sessions[0];
}

/**
 * This call's traffic only: the gateway's SIP port and the phone's own RTP ports (the loopback
 * interface is shared with other tests, whose ports may fall in the gateway's RTP range).
 */
const callFilter = (p: Baresip): string => `udp and (port ${gw.sipPort} or portrange ${p.rtpPorts.min}-${p.rtpPorts.max})`;

/** The SDP bodies of SIP messages in the capture (SIP over UDP: its text is in clear). */
function sdpBodies(dgrams: UdpDatagram[], port: number): { from: number; sdp: string }[] {
  return dgrams
    .filter((d) => d.srcPort === port || d.dstPort === port)
    .map((d) => ({ from: d.srcPort, text: d.payload.toString('latin1') }))
    .filter((m) => /Content-Type: application\/sdp/i.test(m.text) && m.text.includes('\r\n\r\nv=0'))
    .map((m) => ({ from: m.from, sdp: m.text.slice(m.text.indexOf('\r\n\r\nv=0') + 4) }));
}

/** RTP, not RTCP (RFC 5761 §4: RTCP packet types 192-223 in the second octet). */
const isRtp = (p: Buffer): boolean => p.length >= 12 && p[0]! >> 6 === 2 && !(p[1]! >= 192 && p[1]! <= 223);

describe('SRTP (SDES) with baresip', () => {
  it('baresip pays over SRTP keying by RFC 4733, and the capture holds no event or card digit in clear', async () => {
    const orderRef = `SRTP-${Date.now()}`;
    const code = await handoff(orderRef);
    const customer = await phone('srtp-mand');
    const cap = await startCapture(join(mkdtempSync(join(tmpdir(), 'tg-pcap-')), 'call.pcap'), 'lo', callFilter(customer));
    let dgrams: UdpDatagram[] = [];
    try {
      expect((await customer.command('dial', `sip:pay-${code}@127.0.0.1:${gw.sipPort}`)).ok).toBe(true);
      await customer.waitFor('CALL_ESTABLISHED', 10_000);
      // Each field is keyed (RFC 4733 events, baresip's sndcode) once the capture asks for it.
      const keyWhenAsked = async (field: string, digits: string): Promise<void> => {
        await sessionUntil(orderRef, `the capture to ask for ${field}`, (x) => x?.field === field, 30_000);
        expect((await customer.command('sndcode', digits)).ok).toBe(true);
      };
      await keyWhenAsked('pan', `${PAN}#`);
      await keyWhenAsked('expiry', '1230');
      await keyWhenAsked('cvv', '123');
      await keyWhenAsked('otp', OTP);
      await sessionUntil(orderRef, 'the outcome', (x) => !!x?.outcome, 40_000);
      // No X-Pay-Return-To: the gateway ends the call after the outcome prompt.
      await customer.waitFor('CALL_CLOSED', 30_000);
    } finally {
      await customer.stop();
      dgrams = await cap.stop();
    }
    const s = await session(orderRef);
    expect(s, customer.tail()).toMatchObject({ outcome: 'paid', dtmfTransport: 'rfc4733', card: { brand: 'visa', first6: '411111', last4: '1111' } });

    // The offer and answer in the capture: RTP/SAVP both ways, each side with its own key.
    const bodies = sdpBodies(dgrams, gw.sipPort);
    const offer = bodies.find((b) => b.from !== gw.sipPort);
    const answer = bodies.find((b) => b.from === gw.sipPort);
    expect(offer && answer).toBeTruthy();
    const off = parseSdp(offer!.sdp);
    const ans = parseSdp(answer!.sdp);
    if (isSdpError(off) || isSdpError(ans)) throw new Error('unreadable SDP in the capture');
    expect([off.protocol, ans.protocol]).toEqual(['RTP/SAVP', 'RTP/SAVP']);
    const phoneKey = parseCryptoAttribute(off.crypto[0]!) as SdesKey;
    const gwKey = parseCryptoAttribute(ans.crypto[0]!) as SdesKey;
    expect(gwKey.keySalt.equals(phoneKey.keySalt)).toBe(false);

    // Media from the phone to the gateway's port: every packet SRTP (authenticates with the phone's
    // key); the telephone-event packets carry no readable event: read as plain RFC 4733 they spell
    // nothing of the card, decrypted they spell exactly the keyed digits.
    const media = dgrams.filter((d) => d.dstPort === ans.port && isRtp(d.payload));
    expect(media.length).toBeGreaterThan(100);
    const te = off.telephoneEvent!.pt;
    const events = media.filter((d) => (d.payload[1]! & 0x7f) === te);
    expect(events.length).toBeGreaterThan(30);
    const digitsOf = (payloads: Buffer[]): string => {
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
    };
    const inClear = digitsOf(events.map((d) => d.payload));
    expect(inClear).not.toContain('411111');
    expect(inClear).not.toContain(OTP);
    const rx = new SrtpSession({ suite: gwKey.suite, keySalt: gwKey.keySalt }, { suite: phoneKey.suite, keySalt: phoneKey.keySalt });
    const decrypted: Buffer[] = [];
    for (const d of media) {
      const b = Buffer.from(d.payload);
      const n = rx.unprotectRtp(b);
      expect(typeof n, 'every media packet from the phone is authentic SRTP').toBe('number');
      if ((b[1]! & 0x7f) === te) decrypted.push(b.subarray(0, n as number));
    }
    // Decrypted, the events spell exactly what was keyed (the call ended after the outcome prompt).
    expect(digitsOf(decrypted)).toBe(`${PAN}#1230123${OTP}`);
    // No datagram of the call (SIP or media, either way) holds the card number, expiry+CVV or OTP as text.
    for (const d of dgrams) {
      const text = d.payload.toString('latin1');
      for (const secret of [PAN, '1230123', OTP]) expect(text).not.toContain(secret);
    }
    // Nor does anything the gateway logged.
    expect(logs.lines.join('\n')).not.toContain(PAN);
  });

  it('with SRTP=required the same phone offering plain RTP is refused with 488', async () => {
    const orderRef = `PLAIN-${Date.now()}`;
    const code = await handoff(orderRef);
    const customer = await phone('none');
    const cap = await startCapture(join(mkdtempSync(join(tmpdir(), 'tg-pcap-')), 'plain.pcap'), 'lo', callFilter(customer));
    expect((await customer.command('dial', `sip:pay-${code}@127.0.0.1:${gw.sipPort}`)).ok).toBe(true);
    await customer.waitFor('CALL_CLOSED', 10_000);
    const dgrams = await cap.stop();
    const fromGw = dgrams.filter((d) => d.srcPort === gw.sipPort).map((d) => d.payload.toString('latin1'));
    const final = fromGw.find((t) => /^SIP\/2\.0 [2-6]\d\d/.test(t) && !/^SIP\/2\.0 1/.test(t));
    expect(final, customer.tail()).toMatch(/^SIP\/2\.0 488 /);
    expect(final).toMatch(/Warning: 302 tonegate "plain RTP\/AVP refused: this gateway requires SRTP/);
    expect((await session(orderRef))?.outcome ?? null).toBeNull();
  });
});

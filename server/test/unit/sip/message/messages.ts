/**
 * Realistic messages (SIPp uac/uas and registrar scenarios, a PSTN gateway with tel: URIs) and the
 * RFC 4475 torture set, read from server/test/fixtures/rfc4475 (copied from the RFC's message set; see its README).
 */
import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

export const TORTURE_DIR = fileURLToPath(new URL('../../../fixtures/rfc4475/', import.meta.url));

export function tortureFiles(): { name: string; data: Buffer }[] {
  return readdirSync(TORTURE_DIR)
    .filter((f) => f.endsWith('.dat'))
    .sort()
    .map((f) => ({ name: f.slice(0, -4), data: readFileSync(TORTURE_DIR + f) }));
}

/** Joins lines with CRLF, appends the body and a correct byte Content-Length. */
export function sip(lines: string[], body = ''): Buffer {
  const b = Buffer.from(body, 'utf8');
  return Buffer.concat([Buffer.from(`${lines.join('\r\n')}\r\nContent-Length: ${b.length}\r\n\r\n`, 'latin1'), b]);
}

const SDP = [
  'v=0',
  'o=user1 53655765 2353687637 IN IP4 10.0.0.5',
  's=-',
  'c=IN IP4 10.0.0.5',
  't=0 0',
  'm=audio 6000 RTP/AVP 0 8 101',
  'a=rtpmap:0 PCMU/8000',
  'a=rtpmap:8 PCMA/8000',
  'a=rtpmap:101 telephone-event/8000',
  'a=fmtp:101 0-15',
  '',
].join('\r\n');

export const INVITE = sip(
  [
    'INVITE sip:pay@192.0.2.10:5060 SIP/2.0',
    'Via: SIP/2.0/UDP 10.0.0.5:5061;branch=z9hG4bK-4711-1-0;rport',
    'From: sipp <sip:sipp@10.0.0.5:5061>;tag=4711SIPpTag001',
    'To: <sip:pay@192.0.2.10:5060>',
    'Call-ID: 1-4711@10.0.0.5',
    'CSeq: 1 INVITE',
    'Contact: sip:sipp@10.0.0.5:5061',
    'Max-Forwards: 70',
    'Subject: Performance Test',
    'X-Pay-Amount: 1499.00',
    'X-Pay-Currency: INR',
    'X-Pay-Order-Ref: ORD-1',
    'Content-Type: application/sdp',
  ],
  SDP,
);

export const REGISTER = sip([
  'REGISTER sip:192.0.2.10 SIP/2.0',
  'Via: SIP/2.0/TCP 10.0.0.7:40312;branch=z9hG4bK-reg-1;rport',
  'Max-Forwards: 70',
  'From: "Agent One" <sip:agent-1@192.0.2.10>;tag=reg77',
  'To: "Agent One" <sip:agent-1@192.0.2.10>',
  'Call-ID: reg-1-99@10.0.0.7',
  'CSeq: 2 REGISTER',
  'Contact: <sip:agent-1@10.0.0.7:40312;transport=tcp>;expires=3600',
  'Authorization: Digest username="agent-1", realm="tonegate", nonce="abc", uri="sip:192.0.2.10", response="0123456789abcdef0123456789abcdef"',
  'Expires: 3600',
  'User-Agent: SIPp',
]);

export const BYE = sip([
  'BYE sip:pay@192.0.2.10:5060 SIP/2.0',
  'Via: SIP/2.0/UDP 10.0.0.5:5061;branch=z9hG4bK-4711-1-5, SIP/2.0/UDP 10.0.0.1;branch=z9hG4bKproxy1',
  'v: SIP/2.0/UDP 10.0.0.2;branch=z9hG4bKproxy0',
  'From: sipp <sip:sipp@10.0.0.5:5061>;tag=4711SIPpTag001',
  'To: <sip:pay@192.0.2.10:5060>;tag=gw-abc',
  'Call-ID: 1-4711@10.0.0.5',
  'CSeq: 2 BYE',
  'Max-Forwards: 70',
]);

export const INFO = sip(
  [
    'INFO sip:pay@192.0.2.10 SIP/2.0',
    'Via: SIP/2.0/UDP 10.0.0.5:5061;branch=z9hG4bK-info-1',
    'f: <tel:+919876543210>;tag=pstn1',
    't: <sip:pay@192.0.2.10>;tag=gw-abc',
    'i: 1-4711@10.0.0.5',
    'CSeq: 3 INFO',
    'Max-Forwards: 70',
    'c: application/dtmf-relay',
  ],
  'Signal=5\r\nDuration=160\r\n',
);

export const OK_200 = sip(
  [
    'SIP/2.0 200 OK',
    'Via: SIP/2.0/UDP 192.0.2.10:5060;branch=z9hG4bK-gw-1;received=192.0.2.10',
    'From: <sip:pay@192.0.2.10>;tag=gw-1',
    'To: <sip:agent-1@10.0.0.7>;tag=ag-1',
    'Call-ID: gw-1@192.0.2.10',
    'CSeq: 1 INVITE',
    'Contact: <sip:agent-1@10.0.0.7:40312>',
    'Content-Type: application/sdp',
  ],
  SDP,
);

export const REALISTIC = { INVITE, REGISTER, BYE, INFO, OK_200 };

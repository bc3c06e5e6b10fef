import { Core } from 'sip.js';
import { describe, expect, it } from 'vitest';
import { buildResponse, parseSip, reasonPhrase, sipJsParse } from '../../../../src/sip/message/index.js';
import { BYE, INVITE, sip } from './messages.js';

function request(data: Buffer): Core.IncomingRequestMessage {
  const r = parseSip(data);
  if (r.kind !== 'request') throw new Error(`expected a request, got ${r.kind}`);
  return r.msg;
}

const lines = (s: string): string[] => s.split('\r\n\r\n')[0]?.split('\r\n') ?? [];

describe('buildResponse (RFC 3261 8.2.6)', () => {
  it('copies every Via value in order, From, Call-ID and CSeq, and tags To', () => {
    const out = buildResponse(request(BYE), 200, { toTag: 'ignored-because-to-has-one' });
    expect(lines(out)).toEqual([
      'SIP/2.0 200 OK',
      'Via: SIP/2.0/UDP 10.0.0.5:5061;branch=z9hG4bK-4711-1-5, SIP/2.0/UDP 10.0.0.1;branch=z9hG4bKproxy1',
      'Via: SIP/2.0/UDP 10.0.0.2;branch=z9hG4bKproxy0',
      'From: sipp <sip:sipp@10.0.0.5:5061>;tag=4711SIPpTag001',
      'To: <sip:pay@192.0.2.10:5060>;tag=gw-abc',
      'Call-ID: 1-4711@10.0.0.5',
      'CSeq: 2 BYE',
      'Content-Length: 0',
    ]);
  });

  it('copies Record-Route, in order, into 101-299 responses only (RFC 3261 12.1.1)', () => {
    const withRr = Buffer.from(
      INVITE.toString('latin1').replace('\r\nCall-ID:', '\r\nRecord-Route: <sip:10.0.0.1;lr>, <sip:10.0.0.2;lr>\r\nRecord-Route: <sip:10.0.0.3;lr>\r\nCall-ID:'),
      'latin1',
    );
    for (const status of [180, 200]) {
      const rr = lines(buildResponse(request(withRr), status, { toTag: 't' })).filter((l) => l.startsWith('Record-Route:'));
      // one value per line (RFC 3261 7.3.1: the same as the comma list), order kept
      expect(rr).toEqual(['Record-Route: <sip:10.0.0.1;lr>', 'Record-Route: <sip:10.0.0.2;lr>', 'Record-Route: <sip:10.0.0.3;lr>']);
    }
    for (const status of [100, 486]) expect(buildResponse(request(withRr), status, { toTag: 't' })).not.toContain('Record-Route');
  });

  it('adds the given To tag when the request has none', () => {
    const out = buildResponse(request(INVITE), 180, { toTag: 'gw42' });
    expect(out).toContain('\r\nTo: <sip:pay@192.0.2.10:5060>;tag=gw42\r\n');
    expect(out.startsWith('SIP/2.0 180 Ringing\r\n')).toBe(true);
  });

  it('without a given tag, adds a stateless one: the same for the same request (8.2.7)', () => {
    const a = buildResponse(request(INVITE), 486);
    const b = buildResponse(request(INVITE), 486);
    expect(a).toBe(b);
    expect(a).toMatch(/\r\nTo: <sip:pay@192\.0\.2\.10:5060>;tag=[0-9a-f]{16}\r\n/);
    const other = buildResponse(request(Buffer.from(INVITE.toString('latin1').replace('z9hG4bK-4711-1-0', 'z9hG4bK-4711-2-0'), 'latin1')), 486);
    expect(other.match(/tag=([0-9a-f]{16})/)?.[1]).not.toBe(a.match(/tag=([0-9a-f]{16})/)?.[1]);
  });

  it('counts Content-Length in bytes for a UTF-8 body', () => {
    const content = 'नमस्ते, payment ✓';
    const out = buildResponse(request(INVITE), 200, { toTag: 't', body: { contentType: 'text/plain;charset=utf-8', content } });
    expect([content.length, Buffer.byteLength(content)]).toEqual([17, 31]);
    expect(out).toContain('\r\nContent-Type: text/plain;charset=utf-8\r\nContent-Length: 31\r\n\r\n');
    expect(out.endsWith(content)).toBe(true);
    const parsed = sipJsParse(out);
    expect(parsed).toBeInstanceOf(Core.IncomingResponseMessage);
  });

  it('puts no tag on a 100 (Trying) and copies Timestamp into it (8.2.6.1)', () => {
    const out = buildResponse(request(sip([...baseInvite(), 'Timestamp: 54.5 0.1'])), 100);
    expect(out).toContain('\r\nTo: <sip:pay@192.0.2.10>\r\n');
    expect(out).toContain('\r\nTimestamp: 54.5 0.1\r\n');
  });

  it('takes a reason phrase and extra header fields', () => {
    const out = buildResponse(request(INVITE), 488, { reason: 'No Common Codec', headers: ['Warning: 304 tonegate "Incompatible media format"'] });
    expect(lines(out)[0]).toBe('SIP/2.0 488 No Common Codec');
    expect(out).toContain('\r\nWarning: 304 tonegate "Incompatible media format"\r\n');
  });

  it('throws on a bad status, a header with CR/LF or a To tag that is not a token', () => {
    const req = request(INVITE);
    expect(() => buildResponse(req, 99)).toThrow(RangeError);
    expect(() => buildResponse(req, 700)).toThrow(RangeError);
    expect(() => buildResponse(req, 200, { headers: ['X-A: 1\r\nX-B: 2'] })).toThrow(TypeError);
    expect(() => buildResponse(req, 200, { toTag: 'a b' })).toThrow(TypeError);
  });

  it('copies the From/To of an unknown-scheme request byte for byte (RFC 4475 unksm2)', () => {
    const req = request(sip(['REGISTER sip:example.com SIP/2.0', 'Via: SIP/2.0/UDP 192.0.2.21:5060;branch=z9hG4bKk',
      'To: isbn:2983792873', 'From: <http://www.example.com>;tag=3234233', 'Call-ID: u@x', 'CSeq: 1 REGISTER', 'Max-Forwards: 70']));
    const out = buildResponse(req, 403);
    expect(out).toContain('\r\nFrom: <http://www.example.com>;tag=3234233\r\n');
    expect(out).toMatch(/\r\nTo: isbn:2983792873;tag=[0-9a-f]{16}\r\n/);
  });

  it('is read back by sip.js with the same status, tags and Vias', () => {
    const parsed = sipJsParse(buildResponse(request(BYE), 481));
    expect(parsed).toBeInstanceOf(Core.IncomingResponseMessage);
    if (!(parsed instanceof Core.IncomingResponseMessage)) return;
    expect([parsed.statusCode, parsed.reasonPhrase, parsed.toTag, parsed.getHeaders('via').length]).toEqual([
      481, 'Call/Transaction Does Not Exist', 'gw-abc', 2,
    ]);
  });
});

describe('reasonPhrase', () => {
  it('has the codes tonegate sends, and a class phrase otherwise', () => {
    expect([reasonPhrase(202), reasonPhrase(415), reasonPhrase(416), reasonPhrase(420), reasonPhrase(483), reasonPhrase(505)]).toEqual([
      'Accepted', 'Unsupported Media Type', 'Unsupported URI Scheme', 'Bad Extension', 'Too Many Hops', 'Version Not Supported',
    ]);
    expect([reasonPhrase(199), reasonPhrase(299), reasonPhrase(499), reasonPhrase(699)]).toEqual([
      'Provisional', 'Success', 'Client Error', 'Global Failure',
    ]);
  });
});

function baseInvite(): string[] {
  return [
    'INVITE sip:pay@192.0.2.10 SIP/2.0',
    'Via: SIP/2.0/UDP 10.0.0.5:5061;branch=z9hG4bK-ts',
    'From: <sip:a@10.0.0.5>;tag=a1',
    'To: <sip:pay@192.0.2.10>',
    'Call-ID: ts@10.0.0.5',
    'CSeq: 1 INVITE',
    'Max-Forwards: 70',
  ];
}

import { Core } from 'sip.js';
import { describe, expect, it } from 'vitest';
import { addReceived, parseSip, type ParseResult } from '../../../../src/sip/message/index.js';
import { INFO, INVITE, OK_200, REGISTER, sip } from './messages.js';

function req(method: string, extra: string[], body = '', uri = 'sip:pay@192.0.2.10'): Buffer {
  return sip(
    [
      `${method} ${uri} SIP/2.0`,
      'Via: SIP/2.0/UDP 10.0.0.5:5061;branch=z9hG4bK-p1',
      'From: <sip:a@10.0.0.5>;tag=a1',
      'To: <sip:pay@192.0.2.10>',
      'Call-ID: p1@10.0.0.5',
      `CSeq: 7 ${method}`,
      'Max-Forwards: 70',
      ...extra,
    ],
    body,
  );
}

const SDP = 'v=0\r\no=- 1 1 IN IP4 10.0.0.5\r\ns=-\r\nc=IN IP4 10.0.0.5\r\nt=0 0\r\nm=audio 6000 RTP/AVP 0\r\n';
const outcome = (r: ParseResult): string => (r.kind === 'reject' ? `${r.status} ${r.reason}` : r.kind === 'drop' ? 'drop' : r.kind);
const header = (r: ParseResult, name: string): string | undefined =>
  r.kind === 'reject' ? new RegExp(`\\r\\n${name}: ([^\\r]*)\\r\\n`).exec(r.response)?.[1] : undefined;

describe('parseSip: requests', () => {
  it('processes a SIPp-style INVITE, exposing body bytes, Max-Forwards and the Request-URI', () => {
    const r = parseSip(INVITE);
    expect(r.kind).toBe('request');
    if (r.kind !== 'request') return;
    expect(r.msg).toBeInstanceOf(Core.IncomingRequestMessage);
    expect([r.msg.method, r.maxForwards, r.requestUri, r.msg.getHeader('X-Pay-Amount')]).toEqual(['INVITE', 70, 'sip:pay@192.0.2.10:5060', '1499.00']);
    expect(r.body.toString()).toBe(r.msg.body);
    expect(r.msg.body.startsWith('v=0\r\n')).toBe(true);
  });

  it('a bare Refer-To URI with headers (baresip 1.0 transfer) stays 400 Malformed Refer-To, with a Warning saying to use <> (RFC 3261 20)', () => {
    const bare = parseSip(req('REFER', ['Refer-To: sip:pay@192.0.2.10:5070?X-Pay-Amount=10.00&X-Pay-Currency=INR']));
    expect(outcome(bare)).toBe('400 Malformed Refer-To');
    expect(header(bare, 'Warning')).toMatch(/^399 tonegate "Refer-To: a URI with headers must be enclosed in <> \(RFC 3261 20\)/);
    // In angle brackets the same URI is a valid REFER.
    expect(outcome(parseSip(req('REFER', ['Refer-To: <sip:pay@192.0.2.10:5070?X-Pay-Amount=10.00&X-Pay-Currency=INR>'])))).toBe('request');
    // A malformed Refer-To of another kind gets no such hint.
    const other = parseSip(req('REFER', ['Refer-To: <sip:pay@192.0.2.10']));
    expect(outcome(other)).toBe('400 Malformed Refer-To');
    expect(header(other, 'Warning')).toBeUndefined();
  });

  it('processes REGISTER with Authorization and Expires', () => {
    expect(outcome(parseSip(REGISTER))).toBe('request');
  });

  it('processes a REGISTER with Contact: * (RFC 3261 10.2.2), keeping the field; elsewhere * is not a Contact', () => {
    const r = parseSip(req('REGISTER', ['Contact: *', 'Expires: 0'], '', 'sip:192.0.2.10'));
    expect(outcome(r)).toBe('request');
    if (r.kind !== 'request') return;
    expect(r.msg.getHeaders('contact')).toEqual(['*']);
    expect([r.msg.getHeader('expires'), r.msg.callId, r.neutralised]).toEqual(['0', 'p1@10.0.0.5', []]);
    expect(outcome(parseSip(req('INVITE', ['Contact: *'])))).toBe('400 Malformed Contact');
  });

  it('cuts the body on bytes: a UTF-8 body is whole, a shorter Content-Length truncates (RFC 3261 18.3)', () => {
    const body = 'नमस्ते';
    const r = parseSip(req('MESSAGE', ['Content-Type: text/plain;charset=utf-8'], body));
    expect(r.kind === 'request' && r.msg.body).toBe(body);
    const cut = Buffer.from(req('MESSAGE', ['Content-Type: text/plain'], 'hello world').toString('latin1').replace('Content-Length: 11', 'Content-Length: 5'), 'latin1');
    const t = parseSip(cut);
    expect(t.kind === 'request' && [t.msg.body, t.body.length]).toEqual(['hello', 5]);
  });

  it('answers 400 when Content-Length is larger than the body (18.3, clerr)', () => {
    const data = Buffer.from(req('MESSAGE', ['Content-Type: text/plain'], 'hi').toString('latin1').replace('Content-Length: 2', 'Content-Length: 3'), 'latin1');
    expect(outcome(parseSip(data))).toBe('400 Content-Length larger than the body');
  });

  it('drops a keep-alive and skips CRLFs before the start line (RFC 5626 3.5.1, RFC 3261 7.5)', () => {
    expect(outcome(parseSip(Buffer.from('\r\n\r\n')))).toBe('drop');
    expect(outcome(parseSip(Buffer.concat([Buffer.from('\r\n\r\n'), INVITE])))).toBe('request');
  });

  it('drops garbage and other protocols', () => {
    for (const junk of ['', 'hello', 'GET / HTTP/1.1\r\nHost: x\r\n\r\n', '\u0000\u0001\u00ff']) {
      expect(outcome(parseSip(Buffer.from(junk, 'latin1')))).toBe('drop');
    }
  });

  it('accepts sip, sips and tel Request-URIs; answers 416 to others (8.2.2.1)', () => {
    expect(outcome(parseSip(req('OPTIONS', [], '', 'tel:+919876543210')))).toBe('request');
    expect(outcome(parseSip(req('OPTIONS', [], '', 'sips:pay@192.0.2.10')))).toBe('request');
    expect(outcome(parseSip(req('OPTIONS', [], '', 'mailto:pay@example.com')))).toBe('416 Unsupported URI Scheme');
  });

  it('processes tel: From and To from a PSTN gateway, naming the neutralised fields', () => {
    const r = parseSip(INFO);
    expect(r.kind === 'request' && r.neutralised).toEqual(['From']);
    expect(r.kind === 'request' && r.msg.getHeader('from')).toBe('<tel:+919876543210>;tag=pstn1');
  });

  it('answers 505 to another SIP version (RFC 3261 21.5.6)', () => {
    const data = Buffer.from(req('OPTIONS', []).toString('latin1').replace(' SIP/2.0\r\n', ' SIP/3.0\r\n'), 'latin1');
    const r = parseSip(data);
    expect(outcome(r)).toBe('505 Version Not Supported');
    expect(r.kind === 'reject' && r.topVia.branch).toBe('z9hG4bK-p1');
  });

  it('answers 420 listing unsupported Require tags, honouring supportedOptionTags (8.2.2.3)', () => {
    const r = parseSip(req('INVITE', ['Require: 100rel, timer']));
    expect(outcome(r)).toBe('420 Bad Extension');
    expect(header(r, 'Unsupported')).toBe('100rel, timer');
    const s = parseSip(req('INVITE', ['Require: 100rel, timer']), { supportedOptionTags: ['timer'] });
    expect(header(s, 'Unsupported')).toBe('100rel');
    expect(outcome(parseSip(req('INVITE', ['Require: timer']), { supportedOptionTags: ['timer'] }))).toBe('request');
  });

  it('ignores Require in CANCEL, and never answers an ACK: a bad ACK is dropped (8.2.2.3, 17.2.1)', () => {
    expect(outcome(parseSip(req('CANCEL', ['Require: 100rel'])))).toBe('request');
    expect(outcome(parseSip(req('ACK', ['Require: 100rel'])))).toBe('request');
    expect(outcome(parseSip(req('ACK', ['Content-Type: text/plain'], 'x')))).toBe('drop');
    const mismatch = Buffer.from(req('ACK', []).toString('latin1').replace('CSeq: 7 ACK', 'CSeq: 7 INVITE'), 'latin1');
    expect(outcome(parseSip(mismatch))).toBe('drop');
  });

  it('answers 415 with Accept for a body type the method does not take, per acceptedContentTypes (8.2.3)', () => {
    const r = parseSip(req('INVITE', ['Content-Type: application/json'], '{}'));
    expect(outcome(r)).toBe('415 Unsupported Media Type');
    expect(header(r, 'Accept')).toBe('application/sdp');
    // INFO is not checked unless the caller lists what it takes.
    expect(outcome(parseSip(req('INFO', ['Content-Type: application/json'], '{}')))).toBe('request');
    const opts = { acceptedContentTypes: { INFO: ['application/dtmf-relay', 'application/dtmf'] } };
    expect(outcome(parseSip(INFO, opts))).toBe('request');
    const bad = parseSip(req('INFO', ['Content-Type: application/json'], '{}'), opts);
    expect(header(bad, 'Accept')).toBe('application/dtmf-relay, application/dtmf');
    expect(outcome(parseSip(req('INVITE', ['Content-Type: Application/SDP; charset=x'], SDP)))).toBe('request');
  });

  it('answers 415 with Accept-Encoding to a Content-Encoding it cannot decode, 400 to a body without Content-Type', () => {
    const enc = parseSip(req('INVITE', ['Content-Type: application/sdp', 'Content-Encoding: gzip'], SDP));
    expect([outcome(enc), header(enc, 'Accept-Encoding')]).toEqual(['415 Unsupported Media Type', 'identity']);
    expect(outcome(parseSip(req('INVITE', [], SDP)))).toBe('400 Missing Content-Type header field');
  });

  it('answers 406 to an INVITE whose Accept excludes SDP, q=0 included (20.1, RFC 4475 sdp01)', () => {
    expect(outcome(parseSip(req('INVITE', ['Accept: text/html'])))).toBe('406 Not Acceptable');
    expect(outcome(parseSip(req('INVITE', ['Accept: application/sdp;q=0, text/html'])))).toBe('406 Not Acceptable');
    expect(outcome(parseSip(req('INVITE', ['Accept: application/*'])))).toBe('request');
    expect(outcome(parseSip(req('OPTIONS', ['Accept: text/html'])))).toBe('request');
  });

  it('checks scalar ranges: CSeq < 2**31, Max-Forwards <= 255, Expires <= 2**32-1 (8.1.1.5, 20.22, 20.19)', () => {
    expect(outcome(parseSip(req('REGISTER', ['Expires: 4294967295'])))).toBe('request');
    expect(outcome(parseSip(req('REGISTER', ['Expires: 4294967296'])))).toBe('400 Expires out of range');
    const mf = Buffer.from(req('OPTIONS', []).toString('latin1').replace('Max-Forwards: 70', 'Max-Forwards: 256'), 'latin1');
    expect(outcome(parseSip(mf))).toBe('400 Max-Forwards out of range');
    const cseq = Buffer.from(req('OPTIONS', []).toString('latin1').replace('CSeq: 7', 'CSeq: 2147483648'), 'latin1');
    expect(outcome(parseSip(cseq))).toBe('400 CSeq number out of range');
  });

  it('answers 400 to a header line without a colon, naming the problem in the Reason-Phrase (21.4.1)', () => {
    const r = parseSip(req('OPTIONS', ['NoColonHere']));
    expect(outcome(r)).toBe('400 Malformed header field line');
    expect(r.kind === 'reject' && r.response.startsWith('SIP/2.0 400 Malformed header field line\r\n')).toBe(true);
  });

  it('drops an extension method that begins with a known one (sip.js PEG grammar commits to INVITE)', () => {
    // Documented limitation: sip.js rejects `INVITEX` in the Request-Line and in CSeq, so neither
    // the request nor a reply carrying its CSeq can be read; RFC 3261 would have the TU answer 501.
    expect(outcome(parseSip(req('INVITEX', [])))).toBe('drop');
    expect(outcome(parseSip(req('XINVITE', [])))).toBe('request');
  });
});

describe('parseSip: size and time', () => {
  it('drops a message whose header section exceeds TransportLimits.MAX_HEADER_BYTES (16 KiB)', () => {
    expect(outcome(parseSip(req('OPTIONS', [`X-Big: ${'a'.repeat(16 * 1024)}`])))).toBe('drop');
    expect(outcome(parseSip(req('OPTIONS', [`X-Big: ${'a'.repeat(15 * 1024)}`])))).toBe('request');
  });

  it('reads a 15 KB run of spaces inside a value in linear time (no quadratic trim)', () => {
    const data = req('OPTIONS', [`X-Pay-Amount: 1${' '.repeat(15_000)}2`]);
    parseSip(data);
    const started = performance.now();
    expect(outcome(parseSip(addReceived(data, { address: '203.0.113.9', port: 1 })))).toBe('request');
    expect(performance.now() - started).toBeLessThan(100);
  });
});

describe('parseSip: responses', () => {
  it('parses a 200 OK with its body', () => {
    const r = parseSip(OK_200);
    expect(r.kind === 'response' && [r.msg.statusCode, r.msg.method, r.body.length > 0]).toEqual([200, 'INVITE', true]);
  });

  const variant = (from: string, to: string): Buffer => Buffer.from(OK_200.toString('latin1').replace(from, to), 'latin1');

  it('drops a response with two Via values (8.1.3.3), a bad code, a short body or a missing header', () => {
    expect(outcome(parseSip(variant('received=192.0.2.10', 'received=192.0.2.10, SIP/2.0/UDP 10.9.9.9')))).toBe('drop');
    expect(outcome(parseSip(variant('SIP/2.0 200 OK', 'SIP/2.0 099 Odd')))).toBe('drop');
    expect(outcome(parseSip(variant('SIP/2.0 200 OK', 'SIP/2.0 700 Odd')))).toBe('drop');
    expect(outcome(parseSip(variant('Content-Length: ', 'Content-Length: 9')))).toBe('drop');
    expect(outcome(parseSip(variant('Call-ID: gw-1@192.0.2.10\r\n', '')))).toBe('drop');
    expect(outcome(parseSip(variant('SIP/2.0 200', 'SIP/3.0 200')))).toBe('drop');
  });
});

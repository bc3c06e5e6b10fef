/**
 * RFC 4475 torture messages through parseSip, expectations from
 * server/test/fixtures/rfc4475/README.md (RFC 4475 sections 3.1-3.4).
 */
import { Core } from 'sip.js';
import { describe, expect, it } from 'vitest';
import { parseSip, parseText, sipJsParse, UNKNOWN_SCHEME_HOST } from '../../../../src/sip/message/index.js';
import { tortureFiles } from './messages.js';

type Expected = 'request' | 'response' | 'drop' | number;

const EXPECTED: Record<string, Expected> = {
  // 3.1.1 valid requests: processed normally.
  wsinv: 'request', intmeth: 'request', esc01: 'request', escnull: 'request', esc02: 'request',
  lwsdisp: 'request', longreq: 'request', dblreq: 'request', semiuri: 'request', transports: 'request',
  mpart01: 'request',
  // 3.1.1 valid responses: parsed (the transaction layer finds no match and drops them).
  unreason: 'response', noreason: 'response',
  // 3.1.2 / 3.3 invalid requests: 400.
  badinv01: 400, clerr: 400, ncl: 400, scalar02: 400, quotbal: 400, ltgtruri: 400, lwsruri: 400,
  lwsstart: 400, escruri: 400, mismatch01: 400, mismatch02: 400, insuf: 400, multi01: 400, mcl01: 400,
  // 3.1.2 "400 or tolerant": we answer 400 where sip.js's grammar rejects, and process baddate.
  trws: 400, regbadct: 400, badaspec: 400, baddn: 400, baddate: 'request',
  badvers: 505, // 3.1.2.16
  scalarlg: 'drop', bigcode: 'drop', bcast: 'drop', // odd responses, and 8.1.3.3 for bcast's two Vias
  badbranch: 'request', // 3.2.1
  unkscm: 416, novelsc: 416, // 3.3.2, 3.3.3
  unksm2: 'request', // 3.3.4
  bext01: 420, // 3.3.5
  invut: 415, // 3.3.6
  regaut01: 'request', // 3.3.7: the registrar challenges it
  zeromf: 'request', // 3.3.11: Max-Forwards 0 is exposed; 483 is the TU's call where it forwards
  cparam01: 'request', cparam02: 'request', regescrt: 'request', // 3.3.12-14
  sdp01: 406, // 3.3.15
  inv2543: 'request', // 3.4.1
};

const files = tortureFiles();

function callIdOf(data: Buffer): string | undefined {
  const head = data.toString('utf8').split('\r\n\r\n')[0] ?? '';
  const m = /\r\n(?:call-id|i)[ \t]*:[ \t]*([^\r\n]*)/i.exec(head);
  return m?.[1]?.trim();
}

describe('RFC 4475 torture messages', () => {
  it('covers all 49 files of the set', () => {
    expect(files).toHaveLength(49);
    expect(files.map((f) => f.name).sort()).toEqual(Object.keys(EXPECTED).sort());
  });

  it.each(files.map((f) => [f.name, EXPECTED[f.name], f.data] as const))('%s -> %s', (_name, expected, data) => {
    const r = parseSip(data);
    if (typeof expected === 'number') {
      expect(r.kind).toBe('reject');
      if (r.kind !== 'reject') return;
      expect(r.status).toBe(expected);
      // The stateless answer is itself a response sip.js reads, with the request's Call-ID.
      const resp = sipJsParse(r.response) ?? parseText(r.response);
      expect(resp).toBeInstanceOf(Core.IncomingResponseMessage);
      expect(resp?.callId).toBe(callIdOf(data));
      expect(r.response.startsWith(`SIP/2.0 ${expected} `)).toBe(true);
    } else {
      expect(r.kind).toBe(expected);
    }
  });

  it('bext01 is answered 420 with Unsupported listing the Require tags (RFC 3261 8.2.2.3)', () => {
    const r = parseSip(files.find((f) => f.name === 'bext01')?.data ?? Buffer.alloc(0));
    expect(r.kind === 'reject' && r.response).toContain('\r\nUnsupported: nothingSupportsThis, nothingSupportsThisEither\r\n');
    // Proxy-Require is for proxies; a UAS does not list it.
    expect(r.kind === 'reject' && r.response).not.toContain('noProxiesSupportThis');
  });

  it('invut is answered 415 with Accept: application/sdp (RFC 3261 8.2.3)', () => {
    const r = parseSip(files.find((f) => f.name === 'invut')?.data ?? Buffer.alloc(0));
    expect(r.kind === 'reject' && r.response).toContain('\r\nAccept: application/sdp\r\n');
  });

  it('badvers is answered 505 Version Not Supported, copying its SIP/7.0 Via', () => {
    const r = parseSip(files.find((f) => f.name === 'badvers')?.data ?? Buffer.alloc(0));
    expect(r.kind === 'reject' && r.response.split('\r\n').slice(0, 2)).toEqual([
      'SIP/2.0 505 Version Not Supported',
      'Via: SIP/7.0/UDP c.example.com;branch=z9hG4bKkdjuw',
    ]);
  });

  it('mismatch01 copies CSeq as received (8.2.6.2), not the Request-Line method', () => {
    const r = parseSip(files.find((f) => f.name === 'mismatch01')?.data ?? Buffer.alloc(0));
    expect(r.kind === 'reject' && r.response).toContain('\r\nCSeq: 8 INVITE\r\n');
  });

  it('insuf: 400 naming the missing field, with only the fields the request had', () => {
    const r = parseSip(files.find((f) => f.name === 'insuf')?.data ?? Buffer.alloc(0));
    expect(r.kind === 'reject' && r.response).toBe(
      'SIP/2.0 400 Missing From header field\r\nVia: SIP/2.0/UDP 192.0.2.95;branch=z9hG4bKkdj.insuf\r\n' +
        'CSeq: 193942 INVITE\r\nContent-Length: 0\r\n\r\n',
    );
  });

  it('unksm2 is processed; parsed URIs are placeholders, raw values are what was sent', () => {
    const r = parseSip(files.find((f) => f.name === 'unksm2')?.data ?? Buffer.alloc(0));
    expect(r.kind).toBe('request');
    if (r.kind !== 'request') return;
    expect(r.neutralised.sort()).toEqual(['Contact', 'From', 'To']);
    expect(r.msg.getHeader('to')).toBe('isbn:2983792873');
    expect(r.msg.getHeader('from')).toBe('<http://www.example.com>;tag=3234233');
    expect(r.msg.getHeader('contact')).toBe('<name:John_Smith>');
    expect(r.msg.from.uri.host).toBe(UNKNOWN_SCHEME_HOST);
    expect(r.msg.fromTag).toBe('3234233');
  });

  it('dblreq: the REGISTER is processed and the bytes after its Content-Length are discarded (18.3)', () => {
    const r = parseSip(files.find((f) => f.name === 'dblreq')?.data ?? Buffer.alloc(0));
    expect(r.kind === 'request' && [r.msg.method, r.body.length]).toEqual(['REGISTER', 0]);
  });

  it('exposes Max-Forwards: 0 for zeromf, 68 for wsinv ("0068"), none for inv2543', () => {
    const mf = (name: string): unknown => {
      const r = parseSip(files.find((f) => f.name === name)?.data ?? Buffer.alloc(0));
      return r.kind === 'request' ? r.maxForwards : r.kind;
    };
    expect([mf('zeromf'), mf('wsinv'), mf('inv2543')]).toEqual([0, 68, undefined]);
  });

  it('wsinv body is exactly its 150 Content-Length bytes', () => {
    const r = parseSip(files.find((f) => f.name === 'wsinv')?.data ?? Buffer.alloc(0));
    expect(r.kind === 'request' && r.body.length).toBe(150);
    expect(r.kind === 'request' && r.msg.body.startsWith('v=0\r\n')).toBe(true);
  });
});

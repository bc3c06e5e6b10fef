import { describe, expect, it } from 'vitest';
import { parseSip } from '../../../../src/sip/message/index.js';
import { sip } from './messages.js';

/**
 * A header field the grammar refuses is answered 400 with a Reason-Phrase naming the field (RFC
 * 3261 21.4.1), and the edge's result says where the parser stopped and what it expected; both come
 * from the parser's own result (reader.ts), not from anything it logs.
 */
const lines = (over: Record<string, string>): string[] => {
  const base: Record<string, string> = {
    start: 'INVITE sip:pay@192.0.2.10:5060 SIP/2.0',
    Via: 'SIP/2.0/UDP 10.0.0.5:5061;branch=z9hG4bK-1;rport',
    From: '<sip:caller@10.0.0.5>;tag=a1',
    To: '<sip:pay@192.0.2.10>',
    'Call-ID': 'err-1@10.0.0.5',
    CSeq: '1 INVITE',
    Contact: '<sip:caller@10.0.0.5:5061>',
    'Max-Forwards': '70',
    ...over,
  };
  return [base.start!, ...Object.entries(base).filter(([k]) => k !== 'start').map(([k, v]) => `${k}: ${v}`)];
};

describe('parse errors name the header field', () => {
  it.each([
    // Hot fields (hand-written reader, then sip.js's grammar for the verdict) and others (grammar
    // only). Columns are 1-based in the value: `<sip:caller@10.0.0.5;tag=a1` ends at 27 without ">".
    ['From', { From: '<sip:caller@10.0.0.5;tag=a1' }, 'column 28, found the end'],
    ['To', { To: 'pay@192.0.2.10' }, 'column 4, found "@"'],
    ['Contact', { Contact: '<sip:caller@10.0.0.5:5061>;expires=1x' }, 'column 37, found "x"'],
    ['Content-Type', { 'Content-Type': 'application/sdp;x' }, 'column 18, found the end'],
    ['Record-Route', { 'Record-Route': '<sip:proxy.example.com;lr' }, 'column 26, found the end'],
  ])('a malformed %s gets 400 naming it, and the parser\'s column', (name, over, where) => {
    const r = parseSip(sip(lines(over)));
    if (r.kind !== 'reject') throw new Error(`expected a reject, got ${r.kind}`);
    expect(r.status).toBe(400);
    expect(r.reason).toBe(`Malformed ${name}`);
    expect(r.response.split('\r\n')[0]).toBe(`SIP/2.0 400 Malformed ${name}`);
    expect(r.detail).toMatch(new RegExp(`^${name}: expected .+ at ${where}$`));
  });

  it('names a malformed Request-Line', () => {
    const r = parseSip(sip(lines({ start: 'INVITE sip:pay@192.0.2.10:5060;x=<y> SIP/2.0' })));
    if (r.kind !== 'reject') throw new Error(`expected a reject, got ${r.kind}`);
    expect(r.reason).toBe('Malformed Request-Line');
    expect(r.detail).toMatch(/^Request-Line: expected .* at column 34, found "<"$/);
  });

  it('drops a response with a malformed header and says which and where', () => {
    const resp = sip(['SIP/2.0 200 OK', 'Via: SIP/2.0/UDP 10.0.0.5:5061;branch=z9hG4bK-1', 'From: <sip:a@b>;tag=1',
      'To: <sip:c@d>;tag=2', 'Call-ID: r-1', 'CSeq: 1 INVITE', 'Contact: <sip:c@d:5060;transport=udp']);
    const r = parseSip(resp);
    if (r.kind !== 'drop') throw new Error(`expected a drop, got ${r.kind}`);
    expect(r.reason).toBe('response: malformed Contact');
    expect(r.detail).toBe('Contact: expected ";" or "?" or ">" at column 28, found the end');
  });
});

import { describe, expect, it } from 'vitest';
import { parseRefer } from '../../../../src/calls/b2bua/refer.js';
import { parseSip } from '../../../../src/sip/message/index.js';
import type { IncomingRequestMessage } from '../../../../src/sip/transaction/index.js';

function refer(...extra: string[]): IncomingRequestMessage {
  const text = [
    'REFER sip:tonegate@127.0.0.1:5060 SIP/2.0',
    'Via: SIP/2.0/WS abc.invalid;branch=z9hG4bK1',
    'From: <sip:agent-1@127.0.0.1>;tag=a1',
    'To: <sip:caller@127.0.0.1>;tag=b2',
    'Call-ID: refer-unit',
    'CSeq: 7 REFER',
    'Max-Forwards: 70',
    ...extra,
    'Content-Length: 0',
    '',
    '',
  ].join('\r\n');
  const r = parseSip(Buffer.from(text));
  if (r.kind !== 'request') throw new Error(`not parsed: ${r.kind}`);
  return r.msg;
}

describe('parseRefer (RFC 3515 2.1, RFC 3261 19.1.1 URI headers)', () => {
  it('reads Refer-To URI headers %-decoded and the X-headers of the request', () => {
    const r = parseRefer(refer('Refer-To: <sip:pay@gw?X-Pay-Amount=1499.00&X-Pay-Merchant-Id=M%2042>', 'X-Pay-Order-Ref: ORD-1'));
    expect(r).toEqual({
      referTo: '<sip:pay@gw?X-Pay-Amount=1499.00&X-Pay-Merchant-Id=M%2042>',
      referToHeaders: { 'X-Pay-Amount': '1499.00', 'X-Pay-Merchant-Id': 'M 42' },
      xHeaders: { 'x-pay-order-ref': 'ORD-1' },
    });
  });

  it('keeps a literal + in a URI header value (hnv-unreserved, RFC 3261 25.1): it is not a space', () => {
    const r = parseRefer(refer('Refer-To: <sip:pay@gw?X-Pay-Customer-Mobile=+919876543210&X-Pay-Note=a%2Bb>'));
    expect(r).toMatchObject({ referToHeaders: { 'X-Pay-Customer-Mobile': '+919876543210', 'X-Pay-Note': 'a+b' } });
  });

  it('answers an escape that is not UTF-8, in a header name or value, with an error instead of throwing', () => {
    expect(parseRefer(refer('Refer-To: <sip:pay@gw?X-%C3%28=1>'))).toEqual({ error: expect.stringContaining('not valid %-encoding') });
    expect(parseRefer(refer('Refer-To: <sip:pay@gw?X-Pay-Amount=%C3%28>'))).toEqual({ error: expect.stringContaining('not valid %-encoding') });
  });

  it('refuses control characters in a decoded header name or value', () => {
    expect(parseRefer(refer('Refer-To: <sip:pay@gw?X-Pay-Amount=1%0D%0AX-Evil:1>'))).toEqual({ error: expect.stringContaining('control characters') });
    expect(parseRefer(refer('Refer-To: <sip:pay@gw?X-A%0Ab=1>'))).toEqual({ error: expect.stringContaining('control characters') });
  });

  it('needs exactly one Refer-To', () => {
    expect(parseRefer(refer())).toEqual({ error: 'Refer-To missing' });
    expect(parseRefer(refer('Refer-To: <sip:a@gw>', 'Refer-To: <sip:b@gw>'))).toEqual({ error: 'more than one Refer-To' });
    expect(parseRefer(refer('Refer-To: <sip:a@gw>', 'r: <sip:b@gw>'))).toEqual({ error: 'more than one Refer-To' });
    expect(parseRefer(refer('r: <sip:a@gw?X-Pay-Amount=1.00>'))).toMatchObject({ referToHeaders: { 'X-Pay-Amount': '1.00' } });
  });
});

import { describe, expect, it } from 'vitest';
import { cancelOf, newInvite } from '../../../../src/sip/ua/invite.js';
import { ALLOW_HEADER, ALLOWED_METHODS, warningHeader } from '../../../../src/sip/ua/headers.js';
import { parseRequest } from '../transaction/helpers.js';

const via = { protocol: 'UDP', sentBy: '127.0.0.1:5060', contact: '<sip:tonegate@127.0.0.1:5060>' };
const body = { contentType: 'application/sdp', content: 'v=0\r\n' };

describe('request factory: the B2BUA INVITE (RFC 3261 8.1.1)', () => {
  const inv = newInvite({ ruri: 'sip:agent-1@10.0.0.5:5072', via, from: { user: '+919800000001', displayName: 'A "quoted" name' }, toUser: 'agent-1', maxForwards: 69, body });
  const msg = parseRequest(inv.text);

  it('parses, and carries a new Call-ID, From tag, CSeq and z9hG4bK branch', () => {
    expect(msg.method).toBe('INVITE');
    expect(msg.callId).toBe(inv.callId);
    expect(msg.fromTag).toBe(inv.fromTag);
    expect(msg.cseq).toBe(inv.cseq);
    expect(inv.branch).toMatch(/^z9hG4bK/);
    expect(msg.getHeader('via')).toBe(`SIP/2.0/UDP 127.0.0.1:5060;branch=${inv.branch};rport`);
  });

  it('keeps the caller as From (display name made safe) and the agent as To, at the gateway', () => {
    expect(msg.from.uri.user).toBe('+919800000001');
    expect(msg.from.displayName).toBe('A quoted name');
    expect(msg.to.uri.user).toBe('agent-1');
    expect(msg.to.uri.host).toBe('127.0.0.1');
  });

  it('decrements Max-Forwards as given, never below 0, and lists the one Allow', () => {
    expect(msg.getHeader('max-forwards')).toBe('69');
    expect(parseRequest(newInvite({ ruri: 'sip:a@10.0.0.5', via, from: { user: undefined }, toUser: 'a', maxForwards: -1, body }).text).getHeader('max-forwards')).toBe('0');
    expect(`Allow: ${msg.getHeader('allow')}`).toBe(ALLOW_HEADER);
  });

  it('its CANCEL has the same Request-URI, Call-ID, From, To, CSeq number and top Via (RFC 3261 9.1)', () => {
    const c = parseRequest(cancelOf(inv));
    expect(c.method).toBe('CANCEL');
    expect(c.ruri?.toString()).toBe(msg.ruri?.toString());
    for (const h of ['call-id', 'from', 'to', 'via']) expect(c.getHeader(h)).toBe(msg.getHeader(h));
    expect(c.getHeader('cseq')).toBe(`${inv.cseq} CANCEL`);
  });
});

describe('headers the gateway writes', () => {
  it('one Allow for every message, REGISTER and REFER included', () => {
    expect(ALLOW_HEADER).toBe(`Allow: ${ALLOWED_METHODS.join(', ')}`);
    expect(ALLOWED_METHODS).toEqual(expect.arrayContaining(['INVITE', 'ACK', 'CANCEL', 'BYE', 'OPTIONS', 'INFO', 'REFER', 'NOTIFY', 'REGISTER']));
  });

  it('Warning text is a quoted-string: quotes and backslashes escaped, line breaks flattened (RFC 3261 25.1)', () => {
    expect(warningHeader('X-Pay-Amount: missing')).toBe('Warning: 399 tonegate "X-Pay-Amount: missing"');
    expect(warningHeader('a "b" \\ c\r\nd')).toBe('Warning: 399 tonegate "a \\"b\\" \\\\ c d"');
  });
});

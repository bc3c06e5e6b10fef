/** Top Via parsing and the matching keys (RFC 3261 17.1.3, 17.2.3). */
import { describe, expect, it } from 'vitest';
import { MAGIC_COOKIE, parseTopVia } from '../../../../src/sip/transaction/index.js';
import { clientKey, hasMagicCookie, legacyKey, serverKey, toTagOf } from '../../../../src/sip/transaction/matching.js';
import { parseRequest, request, requestText, tuResponse } from './helpers.js';

describe('parseTopVia', () => {
  it.each([
    ['SIP/2.0/UDP pc33.atlanta.com;branch=z9hG4bK776', 'UDP', 'pc33.atlanta.com', 'z9hG4bK776'],
    ['SIP/2.0/TCP Host.Example:5070;rport;branch=z9hG4bKa, SIP/2.0/UDP b:5090;branch=z9hG4bKb', 'TCP', 'host.example:5070', 'z9hG4bKa'],
    ['SIP / 2.0 / ws  df7jal23ls0d.invalid ;branch = z9hG4bKws', 'WS', 'df7jal23ls0d.invalid', 'z9hG4bKws'],
    ['SIP/2.0/UDP [2001:db8::9]:5060;branch=z9hG4bKv6;received=2001:db8::9', 'UDP', '[2001:db8::9]:5060', 'z9hG4bKv6'],
    ['SIP/2.0/UDP 192.0.2.1;x="a, b";branch=z9hG4bKq', 'UDP', '192.0.2.1', 'z9hG4bKq'],
    ['SIP/2.0/UDP 192.0.2.1:5060', 'UDP', '192.0.2.1:5060', undefined],
  ])('%s', (via, transport, sentBy, branch) => {
    const top = parseTopVia(request({ via }));
    expect(top).toMatchObject({ transport, sentBy, branch });
  });

  it('reads the compact form and the first of several Via header lines', () => {
    const text = requestText().replace(/^Via: (.*)$/m, 'v: SIP/2.0/UDP first.example;branch=z9hG4bK1\r\nVia: SIP/2.0/UDP second.example;branch=z9hG4bK2');
    expect(parseTopVia(parseRequest(text))?.sentBy).toBe('first.example');
  });
});

describe('keys', () => {
  const via = parseTopVia(request())!;

  it('17.2.3: an ACK shares the INVITE key, a CANCEL does not', () => {
    expect(serverKey('ACK', via)).toBe(serverKey('INVITE', via));
    expect(serverKey('CANCEL', via)).not.toBe(serverKey('INVITE', via));
  });

  it('needs the magic cookie and something after it for the 3261 key', () => {
    expect(MAGIC_COOKIE).toBe('z9hG4bK');
    expect(hasMagicCookie('z9hG4bK')).toBe(false);
    expect(hasMagicCookie('z9hg4bk123')).toBe(false);
    expect(hasMagicCookie('z9hG4bK123')).toBe(true);
    expect(serverKey('INVITE', parseTopVia(request({ branch: 'abc' }))!)).toBeUndefined();
  });

  it('RFC 2543: an ACK and the INVITE it acknowledges share the legacy key', () => {
    const o = { branch: null };
    const inv = request(o);
    const ackReq = request({ ...o, method: 'ACK', toTag: 'x' });
    expect(legacyKey(ackReq, parseTopVia(ackReq)!)).toBe(legacyKey(inv, parseTopVia(inv)!));
  });

  it('17.1.3: client key is branch + CSeq method', () => {
    expect(clientKey('z9hG4bKa', 'invite')).toBe('z9hG4bKa|INVITE');
  });
});

describe('toTagOf', () => {
  it.each([
    [tuResponse(486, 'abc'), 'abc'],
    ['SIP/2.0 200 OK\r\nt: <sip:a@b;tag=uri-param>;tag=real\r\n\r\n', 'real'],
    ['SIP/2.0 200 OK\r\nTo: sip:a@b ; tag = spaced\r\n\r\n', 'spaced'],
    ['SIP/2.0 100 Trying\r\nTo: <sip:a@b>\r\n\r\nTo: ;tag=body', undefined],
  ])('%#', (text, tag) => {
    expect(toTagOf(text)).toBe(tag);
  });
});

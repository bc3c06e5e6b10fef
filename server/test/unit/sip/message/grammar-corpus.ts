/**
 * Header values to hold the hand-written reader against sip.js's grammar: every grammar-parsed
 * field of the RFC 4475 set and of the realistic messages, plus values the common stacks send
 * (SIPp, sip.js, JsSIP, baresip, Kamailio) and the grammar's known quirks.
 */
import { NameAddrHeader, URI } from 'sip.js';
import { REALISTIC, tortureFiles } from './messages.js';

export const RULES: Record<string, string> = {
  via: 'Via', v: 'Via', from: 'From', f: 'From', to: 'To', t: 'To', 'call-id': 'Call_ID', i: 'Call_ID', cseq: 'CSeq',
  contact: 'Contact', m: 'Contact', 'max-forwards': 'Max_Forwards', 'content-type': 'Content_Type', c: 'Content_Type',
  'content-length': 'Content_Length', l: 'Content_Length', 'record-route': 'Record_Route', 'refer-to': 'Refer_To', r: 'Refer_To',
};

const EXTRA: [string, string][] = [
  ['SIP/2.0/UDP 127.0.0.1:5093;branch=z9hG4bK-1;rport', 'Via'],
  ['SIP/2.0/UDP 127.0.0.1:5093;branch=z9hG4bK-1;rport=5093;received=10.0.0.7', 'Via'],
  ['SIP/2.0/WS df7jal23ls0d.invalid;branch=z9hG4bK123;received=127.0.0.1;rport=50000', 'Via'],
  ['SIP/2.0/TCP gw.example.com;branch=z9hG4bKx;alias;x-foo=bar', 'Via'],
  ['sip/2.0/udp host_a.example.com:5060;branch=z9hG4bK.1;rport=', 'Via'],
  ['SIP/2.0/UDPX 1.2.3.4;branch=z9', 'Via'],
  ['SIP/2.0/UDP 1.2.3.4;branch', 'Via'],
  ['SIP/2.0/UDP 1.2.3.4;rport;branch=z9hG4bK;rport', 'Via'],
  ['SIP/2.0/UDP 1.2.3.4;received=example.com', 'Via'],
  ['SIP/2.0/UDP 256.2.3.4;branch=z9', 'Via'],
  ['SIP/2.0/UDP 1.2.3.4:123456;branch=z9', 'Via'],
  ['SIP/2.0/UDP example.com.;branch=z9', 'Via'],
  ['SIP/2.0/UDP 1.2.3.4;branchx=1;rportx;receivedx=2', 'Via'],
  ['"Alice" <sip:alice@example.com;transport=ws>;tag=abc', 'From'],
  ['<sip:bench@127.0.0.1>;tag=4242SIPpTag001', 'From'],
  ['Bob  Smith <sip:bob@example.com:5070>;tag=1;foo;bar=baz', 'From'],
  ['<sip:+919800000001@10.0.0.1;user=phone>;tag=a', 'From'],
  ['sip:alice@example.com;tag=xyz', 'From'],
  ['sip:example.com;tag=xyz', 'From'],
  ['<sip:127.0.0.1:5060;lr;transport=TLS;x-y=z>', 'To'],
  ['<sip:127.0.0.1:5060;lr=on>', 'To'],
  ['<sip:a@b;transport=udpx>', 'To'],
  ['<sip:a@b;transport=WSS>', 'To'],
  ['<sip:a@b;user=phonex>', 'To'],
  ['<sip:a@b;lrx>', 'To'],
  ['<sip:a@b;method=BYE>', 'To'],
  ['<sip:a:secret@b>', 'To'],
  ['<sip:a%40b@c>', 'To'],
  ['<sip:a@b?subject=x>', 'To'],
  ['<sips:alice@example.com>', 'To'],
  ['"" <sip:a@b>;tag=', 'To'],
  ['"A \\"q\\"" <sip:a@b>', 'To'],
  ['<sip:a@b>;TAG=Up;tag=second', 'To'],
  ['<sip:a@b>;tagx=1;tag', 'To'],
  ['<sip:a@b> ;tag=1', 'To'],
  ['<sip:a@b>;tag = 1', 'To'],
  ['sip <sip:a@b>', 'To'],
  ['sip:a@b <sip:a@b>', 'To'],
  ['<sip:agent-1@127.0.0.1:5072;transport=UDP>;expires=300;+sip.instance="<urn:uuid:1>"', 'Contact'],
  ['<sip:bench@127.0.0.1:5061;transport=UDP>', 'Contact'],
  ['<sip:a@b>;expires=0300, "B" <sip:c@d:5>;reg-id=1', 'Contact'],
  ['<sip:a@b> , <sip:c@d>', 'Contact'],
  ['sip:a@b;expires=60,sip:c@d', 'Contact'],
  ['<sip:a@b>;q=0.5', 'Contact'],
  ['<sip:a@b>;qux=1;expires=abc', 'Contact'],
  ['<sip:a@b>;expires=3a', 'Contact'],
  ['*', 'Contact'],
  ['1-4242@127.0.0.1', 'Call_ID'],
  ['a84b4c76e66710@pc33.atlanta.com', 'Call_ID'],
  ['a@b@c', 'Call_ID'],
  ['1 INVITE', 'CSeq'],
  ['4711 PRACK', 'CSeq'],
  ['2 INVITEX', 'CSeq'],
  ['3\tBYE', 'CSeq'],
  ['0', 'Content_Length'],
  ['0130', 'Content_Length'],
  ['70', 'Max_Forwards'],
  ['application/sdp', 'Content_Type'],
  ['Application/SDP;charset=utf-8', 'Content_Type'],
  ['applications/sdp', 'Content_Type'],
  ['multipart/mixed;boundary="x"', 'Content_Type'],
  ['INVITE sip:support@127.0.0.1:5060 SIP/2.0', 'Request_Response'],
  ['REGISTER sip:127.0.0.1:5060;transport=udp SIP/2.0', 'Request_Response'],
  ['OPTIONS sips:host.example.com sip/2.0', 'Request_Response'],
  ['INVITE tel:+919800000001 SIP/2.0', 'Request_Response'],
  ['INVITE sip:a@b;method=BYE SIP/2.0', 'Request_Response'],
  ['INVITEX sip:a@b SIP/2.0', 'Request_Response'],
  ['SIP/2.0 200 OK', 'Request_Response'],
  ['SIP/2.0 180 Ringing (early) ; fine', 'Request_Response'],
  ['SIP/2.0 000 Zero', 'Request_Response'],
  ['SIP/2.0 486 Busy "here"', 'Request_Response'],
  ['SIP/2.0 200', 'Request_Response'],
];

/** [value, rule] pairs; folded values are kept as sip.js sees them (CRLF inside). */
export function corpus(): [string, string][] {
  const out: [string, string][] = [];
  const messages = [...tortureFiles().map((f) => f.data), ...Object.values(REALISTIC)];
  for (const data of messages) {
    const text = data.toString('latin1');
    const head = text.slice(0, Math.max(0, text.indexOf('\r\n\r\n')));
    const lines = head.split(/\r\n(?![ \t])/);
    out.push([lines[0]!, 'Request_Response']);
    for (const l of lines.slice(1)) {
      const i = l.indexOf(':');
      const rule = RULES[l.slice(0, i).trim().toLowerCase()];
      if (i > 0 && rule) out.push([l.slice(i + 1).trim(), rule]);
    }
  }
  return [...out, ...EXTRA];
}

/**
 * A faithful text form of a parse result: class names, own keys in insertion order (parameter order
 * shows in toString), undefined and NaN spelled out.
 */
export function canon(v: unknown): string {
  const walk = (x: unknown): unknown => {
    if (x === undefined) return '<undefined>';
    if (typeof x === 'number' && Number.isNaN(x)) return '<NaN>';
    if (x === null || typeof x !== 'object') return x;
    if (Array.isArray(x)) return x.map(walk);
    const cls = x instanceof NameAddrHeader ? 'NameAddrHeader' : x instanceof URI ? 'URI' : (x.constructor?.name ?? 'null');
    return [cls, ...Object.keys(x).map((k) => [k, walk((x as Record<string, unknown>)[k])])];
  };
  return JSON.stringify(walk(v));
}

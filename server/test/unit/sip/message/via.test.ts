import { describe, expect, it } from 'vitest';
import {
  addReceived,
  buildResponse,
  parseSip,
  parseVia,
  responseDestination,
  topVia,
  type ViaInfo,
} from '../../../../src/sip/message/index.js';
import { sip } from './messages.js';

function options(via: string[], extra: string[] = [], body = ''): Buffer {
  return sip(
    [
      'OPTIONS sip:pay@192.0.2.10 SIP/2.0',
      ...via,
      'From: <sip:a@example.com>;tag=1',
      'To: <sip:pay@192.0.2.10>',
      'Call-ID: via-test@example.com',
      'CSeq: 1 OPTIONS',
      'Max-Forwards: 70',
      ...extra,
    ],
    body,
  );
}

const firstVia = (b: Buffer): string => b.toString('utf8').split('\r\n')[1] ?? '';
const src = { address: '203.0.113.9', port: 40123 };

describe('addReceived (RFC 3261 18.2.1, RFC 3581 4)', () => {
  it('leaves the request alone when sent-by is the source address and there is no rport', () => {
    const data = options(['Via: SIP/2.0/UDP 203.0.113.9:5060;branch=z9hG4bK1']);
    expect(addReceived(data, src)).toBe(data);
  });

  it('adds received when the sent-by address differs from the source', () => {
    const out = addReceived(options(['Via: SIP/2.0/UDP 10.0.0.5:5060;branch=z9hG4bK1']), src);
    expect(firstVia(out)).toBe('Via: SIP/2.0/UDP 10.0.0.5:5060;branch=z9hG4bK1;received=203.0.113.9');
  });

  it('adds received when sent-by is a host name', () => {
    const out = addReceived(options(['Via: SIP/2.0/TCP phone.example.com;branch=z9hG4bK1']), src);
    expect(firstVia(out)).toBe('Via: SIP/2.0/TCP phone.example.com;branch=z9hG4bK1;received=203.0.113.9');
  });

  it('fills an empty rport with the source port, and adds received even when the address matches', () => {
    const out = addReceived(options(['Via: SIP/2.0/UDP 203.0.113.9:5060;rport;branch=z9hG4bK1']), src);
    expect(firstVia(out)).toBe('Via: SIP/2.0/UDP 203.0.113.9:5060;branch=z9hG4bK1;received=203.0.113.9;rport=40123');
  });

  it('replaces received and rport values a client put there itself, without duplicating them', () => {
    const out = addReceived(options(['Via: SIP/2.0/UDP 10.0.0.5;received=1.2.3.4;rport=1;branch=z9hG4bK1']), src);
    expect(firstVia(out)).toBe('Via: SIP/2.0/UDP 10.0.0.5;branch=z9hG4bK1;received=203.0.113.9;rport=40123');
  });

  it('overwrites a received the client put there itself even when sent-by is the source (no reflection)', () => {
    const out = addReceived(options(['Via: SIP/2.0/UDP 203.0.113.9:5060;branch=z9hG4bK1;received=198.51.100.7']), src);
    expect(firstVia(out)).toBe('Via: SIP/2.0/UDP 203.0.113.9:5060;branch=z9hG4bK1;received=203.0.113.9');
  });

  it('handles the compact form v:', () => {
    const out = addReceived(options(['v: SIP/2.0/UDP 10.0.0.5;branch=z9hG4bK1']), src);
    expect(firstVia(out)).toBe('v: SIP/2.0/UDP 10.0.0.5;branch=z9hG4bK1;received=203.0.113.9');
  });

  it('changes only the first value of a top Via field that holds several', () => {
    const out = addReceived(
      options(['Via: SIP/2.0/UDP 10.0.0.5;branch=z9hG4bK1;rport , SIP/2.0/UDP 10.0.0.1;branch=z9hG4bKp', 'Via: SIP/2.0/UDP 10.0.0.2']),
      src,
    );
    expect(firstVia(out)).toBe(
      'Via: SIP/2.0/UDP 10.0.0.5;branch=z9hG4bK1;received=203.0.113.9;rport=40123 , SIP/2.0/UDP 10.0.0.1;branch=z9hG4bKp',
    );
    expect(out.toString()).toContain('\r\nVia: SIP/2.0/UDP 10.0.0.2\r\n');
  });

  it('rewrites a folded top Via (RFC 4475 wsinv style) into one line that still parses', () => {
    const out = addReceived(options(['Via  : SIP  /   2.0\r\n /UDP\r\n    192.0.2.2;branch=390skdjuw', 'v: SIP/2.0/TCP x.example.com']), src);
    expect(firstVia(out)).toBe('Via  : SIP/2.0/UDP 192.0.2.2;branch=390skdjuw;received=203.0.113.9');
    const r = parseSip(out);
    expect(r.kind === 'request' && topVia(r.msg)?.received).toBe('203.0.113.9');
  });

  it('compares IPv6 and IPv4-mapped addresses in canonical form, and writes IPv6 received bare', () => {
    const v6 = options(['Via: SIP/2.0/UDP [2001:db8::1]:5060;branch=z9hG4bK1']);
    expect(addReceived(v6, { address: '2001:DB8:0:0::1', port: 5060 })).toBe(v6);
    const v4 = options(['Via: SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bK1']);
    expect(addReceived(v4, { address: '::ffff:192.0.2.1', port: 5060 })).toBe(v4);
    const out = addReceived(v6, { address: '2001:db8::7', port: 5070 });
    expect(firstVia(out)).toBe('Via: SIP/2.0/UDP [2001:db8::1]:5060;branch=z9hG4bK1;received=2001:db8::7');
    const r = parseSip(out);
    expect(r.kind === 'request' && topVia(r.msg)?.received).toBe('2001:db8::7');
  });

  it('keeps the body bytes and Content-Length intact, and skips leading CRLFs (RFC 3261 7.5)', () => {
    const data = Buffer.concat([Buffer.from('\r\n\r\n'), options(['Via: SIP/2.0/UDP 10.0.0.5;branch=z9hG4bK1'], ['Content-Type: text/plain'], 'héllo ✓')]);
    const r = parseSip(addReceived(data, src));
    expect(r.kind === 'request' && [r.msg.body, topVia(r.msg)?.received]).toEqual(['héllo ✓', '203.0.113.9']);
  });

  it('leaves responses, a broken top Via and garbage alone, and never throws', () => {
    const resp = Buffer.from('SIP/2.0 200 OK\r\nVia: SIP/2.0/UDP 10.0.0.5;branch=z9hG4bK1\r\n\r\n');
    expect(addReceived(resp, src)).toBe(resp);
    const broken = options(['Via: SIP/2.0/UDP 192.0.2.15;;,;,,']);
    expect(addReceived(broken, src)).toBe(broken);
    for (const junk of ['', '\r\n', 'INVITE', 'INVITE sip:a SIP/2.0\r\nVia', '\u0000\u00ff']) {
      expect(() => addReceived(Buffer.from(junk, 'latin1'), src)).not.toThrow();
    }
  });

  it('carries received/rport into every response built from the stored request (8.2.6.2)', () => {
    const r = parseSip(addReceived(options(['Via: SIP/2.0/UDP 10.0.0.5:5060;rport;branch=z9hG4bK1']), src));
    if (r.kind !== 'request') throw new Error(r.kind);
    expect(buildResponse(r.msg, 200)).toContain('\r\nVia: SIP/2.0/UDP 10.0.0.5:5060;branch=z9hG4bK1;received=203.0.113.9;rport=40123\r\n');
  });
});

describe('parseVia / topVia', () => {
  it('reads one via-parm, with a bare rport as true', () => {
    expect(parseVia('SIP/2.0/udp host.example.com:5062;branch=z9hG4bKx;rport;maddr=239.1.1.1')).toEqual({
      version: 'SIP/2.0', transport: 'UDP', host: 'host.example.com', port: 5062, branch: 'z9hG4bKx',
      received: undefined, rport: true, maddr: '239.1.1.1', alias: false,
    });
    expect(parseVia('SIP/2.0/UDP 192.0.2.15;;')).toBeUndefined();
    // RFC 5923 4: `alias` offers the connection for requests to the sent-by.
    expect(parseVia('SIP/2.0/TLS 192.0.2.15:5061;branch=z9hG4bKy;alias')?.alias).toBe(true);
  });

  it('takes the first value of the first Via field of a parsed message', () => {
    const r = parseSip(options(['Via: SIP/2.0/UDP a.example.com;branch=z9hG4bKa, SIP/2.0/UDP b.example.com;branch=z9hG4bKb']));
    expect(r.kind === 'request' && [topVia(r.msg)?.host, topVia(r.msg)?.branch]).toEqual(['a.example.com', 'z9hG4bKa']);
  });
});

describe('responseDestination (RFC 3261 18.2.2, RFC 3581 4, RFC 7118 5)', () => {
  const via = (v: Partial<ViaInfo>): ViaInfo => ({
    version: 'SIP/2.0', transport: 'UDP', host: 'phone.example.com', port: undefined, branch: 'z9hG4bK1',
    received: undefined, rport: undefined, maddr: undefined, alias: false, ...v,
  });
  const udp = { id: 'udp:203.0.113.9:40123', protocol: 'UDP' as const, reliable: false, remote: src };
  const tcp = { id: 'tcp:7', protocol: 'TCP' as const, reliable: true, remote: src };
  const ws = { id: 'ws:3', protocol: 'WS' as const, reliable: true, remote: src };

  it('UDP: received + rport', () => {
    expect(responseDestination(via({ received: '203.0.113.9', rport: 40123, port: 5060 }), udp)).toEqual({
      kind: 'address', address: '203.0.113.9', port: 40123, resolve: false,
    });
  });

  it('UDP: received + sent-by port, or 5060 without one', () => {
    expect(responseDestination(via({ received: '203.0.113.9', port: 5070 }), udp)).toMatchObject({ address: '203.0.113.9', port: 5070 });
    expect(responseDestination(via({ received: '203.0.113.9' }), udp)).toMatchObject({ address: '203.0.113.9', port: 5060 });
  });

  it('UDP: sent-by without received; a name needs RFC 3263 resolution, an address does not', () => {
    expect(responseDestination(via({ port: 5080 }), udp)).toEqual({ kind: 'address', address: 'phone.example.com', port: 5080, resolve: true });
    expect(responseDestination(via({ host: '[2001:db8::1]' }), udp)).toEqual({ kind: 'address', address: '2001:db8::1', port: 5060, resolve: false });
  });

  it('UDP: a bare rport that was never filled in means the packet source', () => {
    expect(responseDestination(via({ rport: true }), udp)).toEqual({ kind: 'address', address: '203.0.113.9', port: 40123, resolve: false });
  });

  it('ignores maddr (no multicast responses)', () => {
    expect(responseDestination(via({ received: '203.0.113.9', maddr: '239.1.1.1' }), udp)).toMatchObject({ address: '203.0.113.9' });
  });

  it('TCP: the same connection, else a new one to received and the sent-by port', () => {
    expect(responseDestination(via({ transport: 'TCP', received: '203.0.113.9', port: 5062 }), tcp)).toEqual({
      kind: 'flow', flowId: 'tcp:7', fallback: { address: '203.0.113.9', port: 5062 },
    });
    expect(responseDestination(via({ transport: 'TCP' }), tcp)).toMatchObject({ fallback: { address: 'phone.example.com', port: 5060 } });
  });

  it('WS: the same connection only; a browser cannot be dialled', () => {
    expect(responseDestination(via({ transport: 'WS', host: 'df7jal23ls0d.invalid' }), ws)).toEqual({
      kind: 'flow', flowId: 'ws:3', fallback: undefined,
    });
  });
});

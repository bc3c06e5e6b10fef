import { describe, expect, it } from 'vitest';
import { normalizeAddress, parseUdpFlowId, sameEndpoint, udpFlowId } from '../../../../src/sip/transport/endpoint.js';

describe('transport endpoints', () => {
  it('treats an IPv4-mapped IPv6 address as the IPv4 address', () => {
    expect(normalizeAddress('::ffff:127.0.0.1')).toBe('127.0.0.1');
    expect(normalizeAddress('::FFFF:10.0.0.2')).toBe('10.0.0.2');
    expect(normalizeAddress('2001:DB8::1')).toBe('2001:db8::1');
    expect(sameEndpoint({ address: '::ffff:10.1.2.3', port: 5060 }, { address: '10.1.2.3', port: 5060 })).toBe(true);
    expect(sameEndpoint({ address: '10.1.2.3', port: 5060 }, { address: '10.1.2.3', port: 5061 })).toBe(false);
  });

  it('round-trips UDP flow ids, IPv6 included', () => {
    for (const e of [{ address: '1.2.3.4', port: 5060 }, { address: '::1', port: 65535 }, { address: 'fe80::1:2', port: 1 }]) {
      expect(parseUdpFlowId(udpFlowId(e))).toEqual(e);
    }
    expect(udpFlowId({ address: '1.2.3.4', port: 5060 })).toBe('udp:1.2.3.4:5060');
  });

  it.each(['tcp:1', 'ws:2', 'udp:', 'udp:1.2.3.4', 'udp:1.2.3.4:0', 'udp:1.2.3.4:70000', 'udp:1.2.3.4:x', 'udp::5060'])(
    'rejects %j as a UDP flow id',
    (id) => expect(parseUdpFlowId(id)).toBeUndefined(),
  );
});

import { describe, expect, it } from 'vitest';
import { mayStartPayment, parseTrustedPeers, plainAddress, TrustedPeersError } from '../../../src/security/peers.js';

const FP = 'AB:CD:EF:01:23:45:67:89:AB:CD:EF:01:23:45:67:89:AB:CD:EF:01:23:45:67:89:AB:CD:EF:01:23:45:67:89';
const src = (address: string, tlsFingerprint?: string) => ({ remote: { address }, protocol: tlsFingerprint ? 'TLS' : 'UDP', ...(tlsFingerprint ? { tlsFingerprint } : {}) });

describe('mayStartPayment (TRUSTED_PEERS)', () => {
  const peers = parseTrustedPeers(`10.1.0.0/16, 192.0.2.7, 2001:db8:a::/48, sha256:${FP}`);

  it.each([
    ['an address inside an IPv4 CIDR', src('10.1.200.3'), true],
    ['a single listed IPv4 host', src('192.0.2.7'), true],
    ['the neighbour of a single listed host', src('192.0.2.8'), false],
    ['an address just outside the CIDR', src('10.2.0.1'), false],
    ['an IPv4-mapped IPv6 form of a trusted address', src('::ffff:10.1.0.9'), true],
    ['an address inside an IPv6 CIDR', src('2001:db8:a:ffff::1'), true],
    ['an IPv6 address outside it', src('2001:db8:b::1'), false],
    ['a TLS peer whose certificate fingerprint is listed (any case, no colons)', src('203.0.113.1', FP.replace(/:/g, '').toLowerCase()), true],
    ['a TLS peer with another certificate', src('203.0.113.1', 'sha256:' + '00'.repeat(32)), false],
    ['loopback when only other networks are listed', src('127.0.0.1'), false],
  ])('%s -> %s', (_n, source, ok) => {
    expect(mayStartPayment(source, peers).ok).toBe(ok);
  });

  it('with no list (TRUSTED_PEERS unset) anyone may; an empty list trusts nobody', () => {
    expect(mayStartPayment(src('198.51.100.1'), undefined)).toEqual({ ok: true, why: 'no-list' });
    expect(mayStartPayment(src('127.0.0.1'), parseTrustedPeers(''))).toEqual({ ok: false, reason: 'untrusted-peer' });
  });

  it.each(['10.0.0.0/33', '10.0.0.1/x', 'example.com', '::1/129', 'sha256:abcd', '10.0.0.0/8/1'])('refuses the entry %s, naming it', (entry) => {
    expect(() => parseTrustedPeers(`127.0.0.1/32,${entry}`)).toThrow(TrustedPeersError);
    expect(() => parseTrustedPeers(entry)).toThrow(entry.slice(0, 20));
  });

  it('plainAddress unwraps IPv4-mapped IPv6 only', () => {
    expect(plainAddress('::ffff:127.0.0.2')).toBe('127.0.0.2');
    expect(plainAddress('::1')).toBe('::1');
  });
});

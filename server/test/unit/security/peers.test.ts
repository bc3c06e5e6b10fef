import { describe, expect, it } from 'vitest';
import { mayStartPayment, parseFingerprint, parseTrustedPeers, plainAddress, TrustedPeersError } from '../../../src/security/peers.js';

const FP = 'AB:CD:EF:01:23:45:67:89:AB:CD:EF:01:23:45:67:89:AB:CD:EF:01:23:45:67:89:AB:CD:EF:01:23:45:67:89';
/** A flow as the SIP transport gives it: TLS flows carry `tlsPeer` (sip/transport/types.ts). */
const src = (address: string, fingerprint?: string) => ({ remote: { address }, protocol: fingerprint ? 'TLS' : 'UDP', ...(fingerprint ? { tlsPeer: { fingerprint, trusted: false } } : {}) });

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

  it('a TLS flow that presented no certificate is judged by its address alone', () => {
    const noCert = { remote: { address: '203.0.113.1' }, protocol: 'TLS', tlsPeer: { fingerprint: undefined, trusted: false } };
    expect(mayStartPayment(noCert, peers)).toEqual({ ok: false, reason: 'untrusted-peer' });
    expect(mayStartPayment({ ...noCert, remote: { address: '10.1.0.1' } }, peers)).toEqual({ ok: true, why: 'cidr' });
  });

  it('plainAddress unwraps IPv4-mapped IPv6 only', () => {
    expect(plainAddress('::ffff:127.0.0.2')).toBe('127.0.0.2');
    expect(plainAddress('::1')).toBe('::1');
  });
});

describe('parseFingerprint: the forms a SHA-256 certificate fingerprint is written in', () => {
  const CANON = `sha256:${FP}`;
  it.each([
    ['sha256: with colon-separated upper-case octets (openssl x509 -fingerprint -sha256)', `sha256:${FP}`, CANON],
    ['sha256: lower case', `sha256:${FP.toLowerCase()}`, CANON],
    ['SHA256: prefix in upper case', `SHA256:${FP}`, CANON],
    ['sha256: with 64 plain hex digits', `sha256:${FP.replace(/:/g, '')}`, CANON],
    ['plain hex, no prefix, lower case', FP.replace(/:/g, '').toLowerCase(), CANON],
    ['colon-separated octets, no prefix (Node fingerprint256)', FP, CANON],
    ['mixed case', `sha256:${FP.replace(/:/g, '').slice(0, 32).toLowerCase()}${FP.replace(/:/g, '').slice(32)}`, CANON],
    ['surrounding spaces', `  sha256:${FP}  `, CANON],
    ['31 octets', `sha256:${FP.slice(3)}`, undefined],
    ['33 octets', `sha256:AB:${FP}`, undefined],
    ['a trailing colon', `sha256:${FP}:`, undefined],
    ['colons in some places only', `sha256:${FP.slice(0, 6)}${FP.slice(6).replace(/:/g, '')}`, undefined],
    ['a non-hex digit', `sha256:${FP.slice(0, -1)}G`, undefined],
    ['another hash name', `sha1:${FP}`, undefined],
    ['an IPv6 address', 'fd00::1', undefined],
    ['an IPv4 CIDR', '10.0.0.0/8', undefined],
  ])('%s', (_name, text, want) => {
    expect(parseFingerprint(text)).toBe(want);
  });

  it.each([
    ['sha256:AB:CD:...', `sha256:${FP}`],
    ['plain hex', FP.replace(/:/g, '')],
    ['lower-case octets without prefix', FP.toLowerCase()],
  ])('TRUSTED_PEERS entry in the form %s admits the TLS flow with that certificate, whatever form the transport reports', (_n, entry) => {
    const list = parseTrustedPeers(`192.0.2.0/24,${entry}`);
    expect(list.fingerprints.size).toBe(1);
    expect(mayStartPayment(src('198.51.100.9', `sha256:${FP}`), list)).toEqual({ ok: true, why: 'fingerprint' });
    expect(mayStartPayment(src('198.51.100.9', FP.replace(/:/g, '').toLowerCase()), list)).toEqual({ ok: true, why: 'fingerprint' });
    expect(mayStartPayment(src('198.51.100.9', `sha256:${'00'.repeat(32)}`), list)).toEqual({ ok: false, reason: 'untrusted-peer' });
  });

  it.each([`sha256:${FP}:`, `sha256:${FP.slice(3)}`, `${FP.slice(3)}`, 'ab'.repeat(31)])('TRUSTED_PEERS refuses the malformed fingerprint %s as a fingerprint', (entry) => {
    expect(() => parseTrustedPeers(entry)).toThrow(/SHA-256 fingerprint/);
  });
});

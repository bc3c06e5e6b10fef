import { describe, expect, it } from 'vitest';
import { failoverDecision, providerChain, type FailoverInput } from '../../../src/providers/failover.js';
import type { ProviderErrorCode } from '../../../src/providers/errors.js';

const free: FailoverInput = { pinned: false, chargeSent: false, hasNext: true, code: 'unreachable' };

describe('failoverDecision: another provider only before the order is bound and before any charge was sent', () => {
  const cases: [string, Partial<FailoverInput>, 'next' | 'stay'][] = [
    ['connection refused, nothing sent', { code: 'unreachable' }, 'next'],
    ['breaker open', { code: 'breaker-open' }, 'next'],
    ['timeout of a call before the charge', { code: 'timeout' }, 'next'],
    ['broken connection before the charge', { code: 'network' }, 'next'],
    ['5xx before the charge', { code: 'server-error' }, 'next'],
    ['a charge request was sent (answer lost)', { code: 'timeout', chargeSent: true }, 'stay'],
    ['a charge was sent, then the breaker opened', { code: 'breaker-open', chargeSent: true }, 'stay'],
    ['the OTP came from this provider', { code: 'unreachable', pinned: true }, 'stay'],
    ['no provider left', { code: 'unreachable', hasNext: false }, 'stay'],
    ['4xx: the provider is up and said no', { code: 'rejected' }, 'stay'],
    ['429: the provider is up', { code: 'rate-limited' }, 'stay'],
    ['malformed 2xx: it may have acted', { code: 'bad-response' }, 'stay'],
    ['card key mismatch: configuration, not an outage', { code: 'card-key-mismatch' }, 'stay'],
    ['not a provider error', { code: undefined }, 'stay'],
  ];
  it.each(cases)('%s', (_name, over, expected) => {
    expect(failoverDecision({ ...free, ...over })).toBe(expected);
  });

  it('never moves once a charge may have been sent, whatever the code', () => {
    const codes: ProviderErrorCode[] = ['timeout', 'network', 'unreachable', 'server-error', 'rate-limited', 'bad-response', 'rejected', 'conflict', 'breaker-open', 'not-found'];
    for (const code of codes) expect(failoverDecision({ ...free, code, chargeSent: true }), code).toBe('stay');
  });
});

describe('providerChain: the merchant\'s provider, then the failover list without it', () => {
  const o = { merchants: new Map([['M-A', 'one'], ['M-B', 'two']]), defaultName: 'one', failover: ['two', 'three'] };
  it.each([
    ['M-A', ['one', 'two', 'three']],
    ['M-B', ['two', 'three']],
    ['M-OTHER', ['one', 'two', 'three']],
  ])('%s -> %j', (merchant, chain) => {
    expect(providerChain(merchant, o)).toEqual(chain);
  });
  it('no failover list: the merchant\'s provider alone', () => {
    expect(providerChain('M-B', { ...o, failover: [] })).toEqual(['two']);
  });
});

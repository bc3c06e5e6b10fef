import { describe, expect, it } from 'vitest';
import { ProviderChain, type NamedProvider } from '../../../../src/calls/payment/provider-chain.js';
import { silentLogger } from '../../../../src/observability/logger.js';
import { ProviderError, type PaymentDecision, type PaymentProviderClient, type PaymentRequest } from '../../../../src/providers/index.js';
import { SensitiveDigits } from '../../../../src/security/sensitive-digits.js';

/** A stand-in provider client: what each call does, and what was called. */
function stub(name: string, o: { refusing?: boolean; otp?: () => Promise<unknown>; validate?: () => Promise<unknown>; pay?: () => PaymentDecision } = {}) {
  const calls: string[] = [];
  const client = {
    breaker: { state: o.refusing ? 'open' : 'closed', refusing: o.refusing ?? false },
    generateOtp: () => (calls.push('otp'), o.otp ? o.otp() : Promise.resolve({ otpId: `${name}-otp` })),
    validateOtp: () => (calls.push('validate'), o.validate ? o.validate() : Promise.resolve({ valid: true })),
    confirm: () => (calls.push('confirm'), Promise.resolve({ confirmed: true })),
    pay: () => (calls.push('pay'), Promise.resolve(o.pay ? o.pay() : ({ outcome: 'approved', paymentId: `${name}-pay`, idempotencyKey: 'k', attempts: 1, chargeSent: true } as PaymentDecision))),
    otpModeFor: () => 'gateway-sms',
  };
  // A unit test of the chain alone: only the calls it makes are stubbed.
  return { p: { name, client: client as unknown as PaymentProviderClient } satisfies NamedProvider, calls };
}

const down = (code: 'unreachable' | 'timeout' | 'server-error' | 'rejected') => () => Promise.reject(new ProviderError(code, code !== 'rejected'));
const req = {} as PaymentRequest; // the stubs never read it
const failed = (reason: 'breaker-open' | 'unreachable' | 'timeout', chargeSent: boolean, needsReconciliation = false): PaymentDecision => ({ outcome: 'failed', reason, needsReconciliation, idempotencyKey: 'k', attempts: chargeSent ? 1 : 0, chargeSent });

describe('ProviderChain', () => {
  it('OTP request refused by the first provider: the second issues it and serves the payment', async () => {
    const one = stub('one', { otp: down('unreachable') });
    const two = stub('two');
    const served: string[] = [];
    const chain = new ProviderChain([one.p, two.p], silentLogger, (n) => served.push(n));
    expect(chain.servedBy()).toBeUndefined();
    await expect(chain.generateOtp({ orderRef: 'O', customerMobile: '+91' })).resolves.toMatchObject({ otpId: 'two-otp' });
    await chain.validateOtp('two-otp', SensitiveDigits.fromString('123456'));
    await expect(chain.pay(req)).resolves.toMatchObject({ outcome: 'approved', paymentId: 'two-pay' });
    expect(one.calls).toEqual(['otp']);
    expect(two.calls).toEqual(['otp', 'validate', 'pay']);
    expect(chain.servedBy()).toBe('two');
    expect(served).toEqual(['one', 'two']); // each named before its call went out, once
  });

  it('a 4xx is an answer, not an outage: no failover', async () => {
    const one = stub('one', { otp: down('rejected') });
    const two = stub('two');
    await expect(new ProviderChain([one.p, two.p], silentLogger).generateOtp({ orderRef: 'O', customerMobile: '+91' })).rejects.toMatchObject({ code: 'rejected' });
    expect(two.calls).toEqual([]);
  });

  it('after the first provider issued the OTP, a failure stays there (the OTP is its own)', async () => {
    const one = stub('one', { validate: down('timeout') });
    const two = stub('two');
    const chain = new ProviderChain([one.p, two.p], silentLogger);
    await chain.generateOtp({ orderRef: 'O', customerMobile: '+91' });
    await expect(chain.validateOtp('one-otp', SensitiveDigits.fromString('1'))).rejects.toMatchObject({ code: 'timeout' });
    expect(two.calls).toEqual([]);
    expect(chain.servedBy()).toBe('one');
  });

  it('a charge refused before leaving (no OTP mode) moves to the next provider', async () => {
    const one = stub('one', { pay: () => failed('unreachable', false) });
    const two = stub('two');
    const chain = new ProviderChain([one.p, two.p], silentLogger);
    await expect(chain.pay(req)).resolves.toMatchObject({ outcome: 'approved', paymentId: 'two-pay' });
    expect(one.calls).toEqual(['pay']);
    expect(two.calls).toEqual(['pay']);
  });

  it.each([
    ['timeout after the charge was sent', failed('timeout', true, true)],
    ['a decision that does not say whether it was sent', { outcome: 'failed', reason: 'timeout', needsReconciliation: true, idempotencyKey: 'k', attempts: 1 } as PaymentDecision],
  ])('%s: never another provider', async (_n, d) => {
    const one = stub('one', { pay: () => d });
    const two = stub('two');
    const chain = new ProviderChain([one.p, two.p], silentLogger);
    await expect(chain.pay(req)).resolves.toEqual(d);
    expect(two.calls).toEqual([]);
    expect(chain.servedBy()).toBe('one');
  });

  it('the first provider\'s breaker open: not refusing while the next one is up, which then serves', async () => {
    const one = stub('one', { refusing: true });
    const two = stub('two');
    const chain = new ProviderChain([one.p, two.p], silentLogger);
    expect(chain.breaker.refusing).toBe(false);
    await chain.generateOtp({ orderRef: 'O', customerMobile: '+91' });
    expect(one.calls).toEqual([]);
    expect(two.calls).toEqual(['otp']);
  });

  it('every provider refusing: the payment is refused up front', () => {
    const chain = new ProviderChain([stub('one', { refusing: true }).p, stub('two', { refusing: true }).p], silentLogger);
    expect(chain.breaker.refusing).toBe(true);
    expect(new ProviderChain([stub('solo', { refusing: true }).p], silentLogger).breaker.refusing).toBe(true);
  });
});

import type { ProviderErrorCode } from './errors.js';

/**
 * When a payment may move to the next provider of its failover list (docs/operations.md,
 * "Several payment providers"): only while nothing binds the order to the provider it is on, and
 * only for failures that say the provider is down or did not answer. Once a charge request may
 * have reached a provider (even one whose answer was lost), the order stays there for good: it is
 * settled by status query and reconciliation, so a card is never charged twice.
 *
 * | pinned | chargeSent | next provider | code                                                | decision |
 * | ------ | ---------- | ------------- | --------------------------------------------------- | -------- |
 * | yes    | any        | any           | any                                                 | stay     |
 * | no     | yes        | any           | any                                                 | stay     |
 * | no     | no         | none          | any                                                 | stay     |
 * | no     | no         | yes           | breaker-open, unreachable, timeout, network, 5xx    | next     |
 * | no     | no         | yes           | anything else (4xx, decline, bad answer, key error) | stay     |
 *
 * `pinned`: the provider holds state of this order that another one cannot use (the OTP it issued,
 * the issuer authentication it started).
 */
export interface FailoverInput {
  readonly pinned: boolean;
  readonly chargeSent: boolean;
  readonly hasNext: boolean;
  /** The failure's code; undefined for a failure that is not a provider error. */
  readonly code: ProviderErrorCode | undefined;
}

export const FAILOVER_CODES: readonly ProviderErrorCode[] = ['breaker-open', 'unreachable', 'timeout', 'network', 'server-error'];

export function failoverDecision(i: FailoverInput): 'next' | 'stay' {
  if (i.pinned || i.chargeSent || !i.hasNext || i.code === undefined) return 'stay';
  return FAILOVER_CODES.includes(i.code) ? 'next' : 'stay';
}

/** The providers a merchant's payment may use, in order: its own, then the failover list without it. */
export function providerChain(merchantId: string, o: { readonly merchants: ReadonlyMap<string, string>; readonly defaultName: string; readonly failover: readonly string[] }): string[] {
  const first = o.merchants.get(merchantId) ?? o.defaultName;
  return [first, ...o.failover.filter((n) => n !== first)];
}

import type { CaptureConfig } from '../../capture/config.js';

/** How the customer leaves a payment run: which way it started, and whether anyone takes them back. */
export interface ClosingContext {
  /** `inline`: the agent's REFER, the agent stays on the call; `transfer`: a PBX sent the call to sip:pay@. */
  readonly entry: 'inline' | 'transfer';
  /** Transfer mode: X-Pay-Return-To was given (the customer is sent back with a REFER). */
  readonly returnTo: boolean;
}

export type ClosingPrompts = Pick<CaptureConfig, 'closingPrompt' | 'announceRefusal'>;

/**
 * What the customer hears last (docs/operations.md, after the payment). Pure; tested from a table.
 *
 * | entry    | return target | after the outcome | provider refused before capture          |
 * |----------|---------------|-------------------|------------------------------------------|
 * | inline   | (the agent)   | handback          | nothing: the customer is with the agent  |
 * | transfer | yes           | handback          | payments.unavailable, handback, REFER    |
 * | transfer | no            | goodbye           | payments.unavailable, goodbye, BYE       |
 *
 * Inline, a refusal leaves the call untouched (the agent sees `provider.issue` and tells the
 * customer); in transfer mode nobody else can, so the gateway says it before the call moves on.
 */
export function closingPrompts(c: ClosingContext): ClosingPrompts {
  if (c.entry === 'inline') return { closingPrompt: 'handback', announceRefusal: false };
  return { closingPrompt: c.returnTo ? 'handback' : 'goodbye', announceRefusal: true };
}

import { describe, expect, it } from 'vitest';
import { closingPrompts, type ClosingContext, type ClosingPrompts } from '../../../../src/calls/payment/closing.js';

const table: [string, ClosingContext, ClosingPrompts][] = [
  ['inline (REFER): handback after the outcome, a refusal leaves the customer with the agent in silence', { entry: 'inline', returnTo: false }, { closingPrompt: 'handback', announceRefusal: false }],
  ['inline even if a return target came along: the agent is still there', { entry: 'inline', returnTo: true }, { closingPrompt: 'handback', announceRefusal: false }],
  ['transfer with X-Pay-Return-To: handback, a refusal is announced before the REFER back', { entry: 'transfer', returnTo: true }, { closingPrompt: 'handback', announceRefusal: true }],
  ['transfer without a return target: goodbye, a refusal is announced before the BYE', { entry: 'transfer', returnTo: false }, { closingPrompt: 'goodbye', announceRefusal: true }],
];

describe('closingPrompts: what the customer hears last', () => {
  it.each(table)('%s', (_name, ctx, expected) => {
    expect(closingPrompts(ctx)).toEqual(expected);
  });
});

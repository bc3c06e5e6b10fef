import { describe, expect, it } from 'vitest';
import { parseSessionEvent } from '../../../src/capture/event-schema.js';

const b = { sessionId: 's-1', seq: 1, at: '2025-01-01T10:00:00.000Z' };

describe('sessionEventSchema: what may come back from Redis', () => {
  it.each([
    { type: 'session.started', ...b, orderRef: 'ORD-1', amount: '1499.00', currency: 'INR', merchantId: 'M-1', agentId: null, language: 'en' },
    { type: 'field.started', ...b, field: 'pan', attempt: 1, length: { min: 13, max: 19 }, why: 'first' },
    { type: 'card.identified', ...b, brand: 'diners', complete: true, last4: '1667' },
    { type: 'card.identified', ...b, brand: 'visa', complete: true, first6: '411111', last4: '1111' },
    { type: 'field.failed', ...b, field: 'pan', reason: 'card-refused', attemptsLeft: 2 },
    { type: 'otp.sent', ...b, mobile: '+91•••••0001', route: 'primary', resend: 0, failedRoutes: [] },
    { type: 'prompt.playing', ...b, prompts: ['enter.pan', 'star.clears'] },
    { type: 'session.ended', ...b, outcome: 'paid', reason: 'approved', paymentId: 'pay_1' },
  ])('accepts $type', (e) => {
    expect(parseSessionEvent(e)).toEqual(e);
  });

  it.each([
    ['a stray key', { type: 'digit.entered', ...b, field: 'pan', count: 1, pan: '4111111111111111' }],
    ['a PAN in last4', { type: 'card.identified', ...b, brand: 'visa', complete: true, last4: '4111111111111111' }],
    ['an unmasked mobile', { type: 'otp.sent', ...b, mobile: '+919800000001', route: 'primary', resend: 0, failedRoutes: [] }],
    ['an unknown type', { type: 'ui.render', ...b }],
    ['seq 0', { type: 'field.completed', ...b, seq: 0, field: 'pan' }],
    ['a control character', { type: 'session.ended', ...b, outcome: 'failed', reason: 'x\u0007' }],
  ])('refuses %s', (_n, e) => {
    expect(parseSessionEvent(e)).toBeUndefined();
  });
});

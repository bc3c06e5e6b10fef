import { describe, expect, it } from 'vitest';
import { finalNotify, OUTCOME_SIPFRAG } from '../../../../src/calls/payment/endings.js';
import type { Outcome } from '../../../../src/store/index.js';

const OUTCOMES: Outcome[] = ['paid', 'declined', 'failed', 'abandoned', 'cancelled'];

describe('the NOTIFY that ends the agent REFER subscription (RFC 3515 2.4.5, RFC 6665 4.2.2)', () => {
  it.each(OUTCOMES)('a browser agent gets the outcome as a final status: %s', (outcome) => {
    expect(finalNotify(outcome, 'browser')).toEqual(OUTCOME_SIPFRAG[outcome]);
  });

  it('only paid is a 2xx for a browser agent', () => {
    expect(OUTCOMES.filter((o) => finalNotify(o, 'browser').status < 300)).toEqual(['paid']);
  });

  it.each(OUTCOMES)('a SIP phone gets a provisional status that names the outcome, never a final one: %s', (outcome) => {
    const n = finalNotify(outcome, 'phone');
    expect(n.status).toBe(100);
    expect(n.reason).toContain(outcome);
    // A sipfrag status line is one line of text (RFC 3420, RFC 3261 7.2 Reason-Phrase).
    expect(n.reason).not.toMatch(/[\r\n]/);
  });
});

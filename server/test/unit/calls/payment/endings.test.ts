import { describe, expect, it } from 'vitest';
import { hangUpCustomer, notifyReferrer, OUTCOME_SIPFRAG, referBack, REFER_BACK_WAIT_MS, type CustomerDialog } from '../../../../src/calls/payment/endings.js';
import { silentLogger } from '../../../../src/observability/logger.js';
import { FakeClock } from '../../../support/fake-clock.js';

class FakeDialog implements CustomerDialog {
  hangups: string[] = [];
  refers: { referTo: string; onFinal: (status: number) => void }[] = [];
  transferred: (() => void) | undefined;
  hangup(why: string): void {
    this.hangups.push(why);
  }
  refer(referTo: string, onFinal: (status: number) => void): void {
    this.refers.push({ referTo, onFinal });
  }
  onTransferred(fn: () => void): void {
    this.transferred = fn;
  }
}

describe('end-of-run strategy: NOTIFY the referrer (inline)', () => {
  function setup(agent: 'browser' | 'phone' = 'browser') {
    const got = { notifies: [] as [number, string][], released: 0, hangups: [] as string[], terminated: [] as boolean[] };
    const ending = notifyReferrer({
      notify: (s, r, o) => {
        got.notifies.push([s, r]);
        got.terminated.push(o.terminate);
      },
      agent,
      released: () => got.released++,
      hangupCall: (w) => got.hangups.push(w),
    });
    return { ending, got };
  }

  it.each(Object.entries(OUTCOME_SIPFRAG))('%s: the final NOTIFY carries its sipfrag status, then the call is released', (outcome, frag) => {
    const { ending, got } = setup();
    ending.end(outcome as keyof typeof OUTCOME_SIPFRAG);
    expect(got).toEqual({ notifies: [[frag.status, frag.reason]], released: 1, hangups: [], terminated: [true] });
  });

  it.each(Object.keys(OUTCOME_SIPFRAG))('%s for a desk-phone agent: a provisional sipfrag naming the outcome ends the subscription, the call is released', (outcome) => {
    const { ending, got } = setup('phone');
    ending.end(outcome as keyof typeof OUTCOME_SIPFRAG);
    expect(got).toEqual({ notifies: [[100, `Payment ${outcome}, the customer is back on the call`]], released: 1, hangups: [], terminated: [true] });
  });

  it('a capture that could not start: NOTIFY 500, the call goes on', () => {
    const { ending, got } = setup();
    ending.abort('start-failed');
    expect(got).toEqual({ notifies: [[500, 'Payment Failed']], released: 1, hangups: [], terminated: [true] });
  });

  it('a bridge that could not mute the agent ends the whole call', () => {
    const { ending, got } = setup();
    ending.abort('mute-failed');
    expect(got).toEqual({ notifies: [], released: 0, hangups: ['mute failed'], terminated: [] });
  });
});

describe('end-of-run strategy: hang up (transfer without X-Pay-Return-To)', () => {
  it('hangs up after the outcome and on an abort', () => {
    const d = new FakeDialog();
    const e = hangUpCustomer(d);
    e.end('paid');
    e.abort('start-failed');
    expect(d.hangups).toEqual(['payment over', 'start-failed']);
  });
});

describe('end-of-run strategy: REFER back to X-Pay-Return-To (RFC 3515)', () => {
  it('REFERs to the return target and hangs up once a NOTIFY says the transfer succeeded', () => {
    const d = new FakeDialog();
    const clock = new FakeClock();
    referBack(d, 'sip:queue-7@pbx.example', clock, silentLogger).end('paid');
    expect(d.refers.map((r) => r.referTo)).toEqual(['<sip:queue-7@pbx.example>']);
    d.refers[0]!.onFinal(202);
    expect(d.hangups).toEqual([]);
    d.transferred!();
    expect(d.hangups).toEqual(['customer transferred back']);
    clock.advance(REFER_BACK_WAIT_MS);
    expect(d.hangups).toHaveLength(1);
  });

  it('hangs up after the wait when no NOTIFY comes', () => {
    const d = new FakeDialog();
    const clock = new FakeClock();
    referBack(d, 'sip:queue-7@pbx.example', clock, silentLogger).end('declined');
    d.refers[0]!.onFinal(202);
    clock.advance(REFER_BACK_WAIT_MS - 1);
    expect(d.hangups).toEqual([]);
    clock.advance(1);
    expect(d.hangups).toEqual(['no NOTIFY for the transfer back']);
  });

  it('hangs up at once when the REFER is refused or times out', () => {
    for (const status of [403, 408]) {
      const d = new FakeDialog();
      referBack(d, 'sip:queue-7@pbx.example', new FakeClock(), silentLogger).end('paid');
      d.refers[0]!.onFinal(status);
      expect(d.hangups).toEqual(['transfer back refused']);
    }
  });
});

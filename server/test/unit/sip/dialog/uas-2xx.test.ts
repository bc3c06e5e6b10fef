import { describe, expect, it } from 'vitest';
import { retransmit2xxUntilAck } from '../../../../src/sip/dialog/uas-2xx.js';
import type { ServerTransaction } from '../../../../src/sip/transaction/index.js';
import { FakeClock } from '../../../support/fake-clock.js';

function fakeTxn(reliable: boolean, clock: FakeClock) {
  const sentAt: number[] = [];
  const txn = { flow: { reliable }, terminated: false, respond: () => sentAt.push(clock.now()) } as unknown as ServerTransaction;
  return { txn, sentAt };
}

describe('2xx retransmission until ACK (RFC 3261 13.3.1.4)', () => {
  it('over UDP resends at T1 doubling to T2, then gives up at 64*T1', () => {
    const clock = new FakeClock();
    const { txn, sentAt } = fakeTxn(false, clock);
    let gaveUpAt = -1;
    retransmit2xxUntilAck(clock, txn, '200', () => true, () => (gaveUpAt = clock.now()));
    clock.advance(40_000);
    expect(sentAt.slice(0, 6)).toEqual([500, 1500, 3500, 7500, 11500, 15500]);
    expect(sentAt.every((t, i) => i === 0 || t - sentAt[i - 1]! <= 4000)).toBe(true);
    expect(gaveUpAt).toBeGreaterThanOrEqual(32_000);
    expect(gaveUpAt).toBeLessThan(36_000);
  });

  it('stops as soon as the ACK has arrived', () => {
    const clock = new FakeClock();
    const { txn, sentAt } = fakeTxn(false, clock);
    let acked = false;
    let gaveUp = false;
    retransmit2xxUntilAck(clock, txn, '200', () => !acked, () => (gaveUp = true));
    clock.advance(2000);
    acked = true;
    clock.advance(60_000);
    expect(sentAt).toEqual([500, 1500]);
    expect(gaveUp).toBe(false);
    expect(clock.pending()).toBe(0);
  });

  it('over a reliable transport never resends but still gives up without an ACK', () => {
    const clock = new FakeClock();
    const { txn, sentAt } = fakeTxn(true, clock);
    let gaveUpAt = -1;
    retransmit2xxUntilAck(clock, txn, '200', () => true, () => (gaveUpAt = clock.now()));
    clock.advance(40_000);
    expect(sentAt).toEqual([]);
    expect(gaveUpAt).toBe(32_000);
  });

  it('cancel() stops everything', () => {
    const clock = new FakeClock();
    const { txn, sentAt } = fakeTxn(false, clock);
    const h = retransmit2xxUntilAck(clock, txn, '200', () => true, () => {});
    h.cancel();
    clock.advance(60_000);
    expect(sentAt).toEqual([]);
  });
});

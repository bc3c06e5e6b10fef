import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { initialView, reduce, type PaymentAction, type PaymentView } from '../src/progress/reducer.js';
import type { CaptureEvent, SessionRecord } from '../src/progress/types.js';

const recorded = (name: string): CaptureEvent[] =>
  JSON.parse(readFileSync(new URL(`./fixtures/${name}.json`, import.meta.url), 'utf8')) as CaptureEvent[];

/** Runs actions through the reducer and returns every intermediate view. */
function run(start: PaymentView, actions: PaymentAction[]): PaymentView[] {
  const views: PaymentView[] = [];
  let v = start;
  for (const a of actions) views.push((v = reduce(v, a)));
  return views;
}
const events = (es: CaptureEvent[]): PaymentAction[] => es.map((event) => ({ kind: 'event', event }));
const referred = (orderRef: string): PaymentView => reduce(initialView, { kind: 'refer.sent', orderRef, amount: '1499.00', currency: 'INR' });
const last = <T>(xs: T[]): T => xs[xs.length - 1]!;

describe('progress reducer', () => {
  it('session.reconciled after a timed-out payment shows the settled outcome (paid) in place of "needs reconciliation"', () => {
    const base = { sessionId: 's-rec', at: '2026-01-01T00:00:00Z' };
    const es: CaptureEvent[] = [
      { ...base, seq: 1, type: 'session.started', orderRef: 'ORD-R', amount: '10.00', currency: 'INR', merchantId: 'M-1', agentId: 'agent-1', language: 'en' },
      { ...base, seq: 2, type: 'session.ended', agentId: 'agent-1', outcome: 'failed', reason: 'timeout', needsReconciliation: true },
      { ...base, seq: 3, type: 'session.reconciled', agentId: 'agent-1', outcome: 'paid', previousOutcome: 'failed', providerStatus: 'approved', reason: 'approved', paymentId: 'pay_r' },
    ];
    const views = run(referred('ORD-R'), events(es));
    expect(views[1]!.outcome).toEqual({ outcome: 'failed', reason: 'timeout', paymentId: null, needsReconciliation: true });
    expect(last(views)).toMatchObject({ phase: 'ended', lastSeq: 3, outcome: { outcome: 'paid', reason: 'approved', paymentId: 'pay_r', needsReconciliation: false } });
    expect(last(views).announcement).toMatch(/^Reconciled with the provider\. /);
  });


  it('a paid Visa: fields in order, one dot per digit, brand, Luhn valid, OTP sent, payment id, unmuted at the end', () => {
    const es = recorded('paid');
    const views = run(referred('ORD-1001'), events(es));
    const started = views[0]!;
    expect(started).toMatchObject({ phase: 'capturing', sessionId: 's-paid', muted: true });
    expect(started.announcement).toBe('Secure payment started. You are muted while the customer enters card details.');

    const afterFiveDigits = views[es.findIndex((e) => e.type === 'digit.entered' && e.count === 5)]!;
    expect(afterFiveDigits.field).toBe('pan');
    expect(afterFiveDigits.fields.pan).toMatchObject({ status: 'active', count: 5, length: { min: 13, max: 19 } });
    expect(afterFiveDigits.brand).toBe('visa');
    expect(afterFiveDigits.luhn).toBe('unknown');
    expect(afterFiveDigits.first6).toBeNull();

    const otpView = views[es.findIndex((e) => e.type === 'otp.sent')]!;
    expect(otpView.otpSentTo).toBe('+91•••••0001');
    expect(otpView.announcement).toBe('OTP sent to +91•••••0001.');
    expect(otpView.fields).toMatchObject({ pan: { status: 'done' }, expiry: { status: 'done', count: 4 }, cvv: { status: 'done', count: 3 } });
    expect(otpView).toMatchObject({ luhn: 'valid', first6: '411111', last4: '1111' });

    const processing = views[es.findIndex((e) => e.type === 'payment.processing')]!;
    expect(processing).toMatchObject({ phase: 'processing', stage: 'otp-validate', field: null, muted: true });

    const end = last(views);
    expect(end).toMatchObject({ phase: 'ended', muted: false, lastSeq: es.length });
    expect(end.outcome).toEqual({ outcome: 'paid', reason: 'approved', paymentId: 'pay_x1', needsReconciliation: false });
    expect(end.announcement).toBe('Payment successful, payment ID pay_x1.');
  });

  it('a declined card ends with the reason and no payment id', () => {
    const end = last(run(referred('ORD-1002'), events(recorded('declined'))));
    expect(end.phase).toBe('ended');
    expect(end.outcome).toEqual({ outcome: 'declined', reason: 'do-not-honour', paymentId: null, needsReconciliation: false });
    expect(end.announcement).toBe('Payment declined: do not honour.');
    expect(end.muted).toBe(false);
  });

  it('a Luhn failure shows the number invalid, then the next card is identified and valid', () => {
    const es = recorded('luhn-then-valid');
    const views = run(referred('ORD-1003'), events(es));
    const failedAt = es.findIndex((e) => e.type === 'field.failed');
    const failed = views[failedAt]!;
    expect(failed.luhn).toBe('invalid');
    expect(failed.fields.pan).toMatchObject({ status: 'failed', failure: 'luhn', attemptsLeft: 2, count: 16 });
    expect(failed.first6).toBeNull();
    expect(failed.announcement).toBe('Card number refused: the card number is not valid (check digit).');
    expect(views[failedAt + 1]!.fields.pan.count).toBe(0); // cleared by the gateway

    const retry = views[failedAt + 2]!;
    expect(retry.fields.pan).toMatchObject({ status: 'active', attempt: 2, failure: null });
    expect(retry.luhn).toBe('unknown');
    expect(retry.announcement).toBe('Customer is asked again for the card number.');
    // `*` by the customer empties the dots.
    expect(views[es.findIndex((e) => e.type === 'field.cleared' && e.by === 'customer')]!.fields.pan.count).toBe(0);

    const end = last(views);
    expect(end).toMatchObject({ brand: 'mastercard', luhn: 'valid', first6: '555555', last4: '4444', field: 'expiry', phase: 'capturing' });
    expect(end.fields.pan.status).toBe('done');
    expect(end.fields.expiry).toMatchObject({ status: 'active', count: 2 });
  });

  it('an agent retry restarts the field; a cancel ends the session as cancelled by the agent', () => {
    const es = recorded('cancelled');
    const views = run(referred('ORD-1004'), events(es));
    const retry = views[es.findIndex((e) => e.type === 'field.started' && e.why === 'agent-retry')]!;
    expect(retry.fields.pan.count).toBe(0);
    const end = last(views);
    expect(end.outcome).toMatchObject({ outcome: 'cancelled', reason: 'agent-cancelled' });
    expect(end.announcement).toBe('Payment cancelled: cancelled by you.');
  });

  it('replayed events (resume after reconnect) and events of other sessions change nothing', () => {
    const es = recorded('paid');
    const half = run(referred('ORD-1001'), events(es.slice(0, 20)));
    const at20 = last(half);
    // The socket resumed from seq 15: 15..20 come again.
    const replayed = run(at20, events(es.slice(14, 20)));
    for (const v of replayed) expect(v).toBe(at20);
    const other = recorded('declined')[5]!;
    expect(reduce(at20, { kind: 'event', event: other })).toBe(at20);
    // And the rest applies normally.
    expect(last(run(at20, events(es.slice(20)))).outcome?.outcome).toBe('paid');
  });

  it('links only the session.started of the order it handed off while waiting', () => {
    const waiting = referred('ORD-9');
    const stranger = recorded('paid')[0]!; // ORD-1001
    expect(reduce(waiting, { kind: 'event', event: stranger })).toBe(waiting);
    // Idle (no handoff of its own): a session for this agent is followed (transfer mode).
    expect(reduce(initialView, { kind: 'event', event: stranger }).sessionId).toBe('s-paid');
  });

  it('a refused REFER shows the Warning reason and never mutes', () => {
    const v = reduce(referred('ORD-1'), { kind: 'refer.failed', error: 'X-Pay-Amount: must be greater than 0' });
    expect(v).toMatchObject({ phase: 'failed', muted: false, error: 'X-Pay-Amount: must be greater than 0' });
    expect(v.announcement).toBe('Payment could not start: X-Pay-Amount: must be greater than 0');
  });

  it('session.resync replaces the view with what the record says', () => {
    const es = recorded('paid');
    const mid = last(run(referred('ORD-1001'), events(es.slice(0, 10))));
    const record: SessionRecord = {
      id: 's-paid', state: 'cvv', field: 'cvv', outcome: null, orderRef: 'ORD-1001', amount: '1499.00', currency: 'INR',
      agentId: 'agent-1', dtmfTransport: 'rfc4733', card: { brand: 'visa', first6: '411111', last4: '1111' },
      startedAt: '2025-06-15T10:00:00.000Z', endedAt: null,
    };
    const v = reduce(mid, { kind: 'resync', record });
    expect(v).toMatchObject({ phase: 'capturing', field: 'cvv', brand: 'visa', luhn: 'valid', last4: '1111', muted: true, lastSeq: 10 });
    expect(v.fields).toMatchObject({ pan: { status: 'done' }, expiry: { status: 'done' }, cvv: { status: 'active', count: 0 }, otp: { status: 'pending' } });

    const ended = reduce(v, { kind: 'resync', record: { ...record, state: 'done', field: null, outcome: 'paid', paymentId: 'pay_x1', endedAt: '2025-06-15T10:01:00.000Z' } });
    expect(ended).toMatchObject({ phase: 'ended', muted: false, field: null });
    expect(ended.outcome).toEqual({ outcome: 'paid', reason: 'approved', paymentId: 'pay_x1', needsReconciliation: false });
    expect(ended.announcement).toBe('Payment successful, payment ID pay_x1.');
    // A record of another session is ignored.
    expect(reduce(v, { kind: 'resync', record: { ...record, id: 'other' } })).toBe(v);
  });
});

import { describe, expect, it } from 'vitest';
import { CaptureState } from '../../../src/capture/index.js';
import type { ReceiptSmsTemplate } from '../../../src/capture/port.js';
import { ProviderError } from '../../../src/providers/errors.js';
import type { IssuerChallenge, IssuerStart, IssuerSubmit, OtpMode } from '../../../src/providers/index.js';
import type { SensitiveDigits } from '../../../src/security/sensitive-digits.js';
import { FakePayments, flush, harness, OTP_TEMPLATE, toOtp } from './fakes.js';

const NOW = Date.UTC(2025, 5, 15, 10, 0, 0);

/** A provider in the issuer OTP mode: the bank "sends" `otp`; submissions are checked against it. */
class IssuerPayments extends FakePayments {
  mode: OtpMode = 'issuer';
  bankOtp = '654321';
  resends = 2;
  expiresInMs = 300_000;
  startAnswer: IssuerStart | ProviderError | undefined;
  submitScript: (IssuerSubmit | undefined)[] = [];
  started: { key: string; pan: string; mobile: string }[] = [];
  submitted: string[] = [];
  resent = 0;
  keyed: SensitiveDigits[] = [];

  otpModeFor(): OtpMode {
    return this.mode;
  }
  #challenge(): IssuerChallenge {
    return { paymentId: 'pay_i1', length: this.bankOtp.length, expiresAt: new Date(NOW + this.expiresInMs), resendsLeft: this.resends };
  }
  async startIssuerOtp(req: { idempotencyKey: string; customerMobile: string; card: { pan: SensitiveDigits } }): Promise<IssuerStart> {
    this.started.push({ key: req.idempotencyKey, pan: req.card.pan.revealForProvider(), mobile: req.customerMobile });
    if (this.startAnswer instanceof ProviderError) throw this.startAnswer;
    return this.startAnswer ?? { status: 'otp-required', challenge: this.#challenge() };
  }
  async resendIssuerOtp(): Promise<IssuerChallenge> {
    this.resent++;
    this.resends--;
    return this.#challenge();
  }
  async submitIssuerOtp(paymentId: string, otp: SensitiveDigits): Promise<IssuerSubmit> {
    this.keyed.push(otp);
    const given = otp.revealForProvider();
    this.submitted.push(given);
    const scripted = this.submitScript.shift();
    if (scripted) return scripted;
    return given === this.bankOtp ? { status: 'approved', paymentId } : { status: 'invalid', attemptsLeft: 2 };
  }
}

const RECEIPT: ReceiptSmsTemplate = {
  template: { templateId: '1107161234567890124', peId: '1101159876543210987', senderId: 'TNGATE', text: 'Paid {#var#} {#var#}, order {#var#}, card ending {#var#}. Ref {#var#}.' },
  vars: ['currency', 'amount', 'orderRef', 'last4', 'paymentId'],
};

describe('CaptureSession: OTP modes', () => {
  it('issuer: the card starts authentication, the keyed OTP is submitted (charging the card), no gateway SMS; the receipt follows', async () => {
    const payment = new IssuerPayments();
    const h = harness({ payment, templates: { otp: OTP_TEMPLATE, receipt: RECEIPT } });
    await toOtp(h);
    expect(h.session.state).toBe(CaptureState.OtpEntry);
    expect(payment.started).toEqual([{ key: expect.any(String), pan: '4111111111111111', mobile: '+919800000001' }]);
    expect(h.of('otp.sent')).toMatchObject([{ route: 'issuer', resend: 0, failedRoutes: [] }]);
    expect((await h.store.get(h.session.id))!.idempotencyKey).toBe(payment.started[0]!.key);
    await h.key('654321');
    expect(await h.session.done).toEqual({ outcome: 'paid', reason: 'approved', paymentId: 'pay_i1' });
    expect(payment.submitted).toEqual(['654321']);
    expect(payment.payCalls).toEqual([]); // no separate payment POST in this mode
    expect(payment.keyed.every((d) => d.disposed)).toBe(true); // the OTP is wiped with the card
    await flush();
    expect(h.sms.texts).toEqual(['Paid INR 1499.00, order ORD-1001, card ending 1111. Ref pay_i1.']);
    expect(h.of('payment.processing').map((e) => e.stage)).toEqual(['payment', 'confirm']);
  });

  it('issuer: a wrong OTP is asked again with the provider\'s attempts left; # asks the bank for a new OTP', async () => {
    const payment = new IssuerPayments();
    const h = harness({ payment });
    await toOtp(h);
    await h.key('111111');
    expect(h.of('field.failed')).toMatchObject([{ field: 'otp', reason: 'otp-invalid', attemptsLeft: 2 }]);
    expect(h.session.state).toBe(CaptureState.OtpEntry);
    await h.key('#');
    expect(payment.resent).toBe(1);
    expect(h.of('otp.sent').map((e) => e.resend)).toEqual([0, 1]);
    expect(h.of('field.started').filter((e) => e.field === 'otp').at(-1)).toMatchObject({ why: 'new-otp' });
    await h.key('654321');
    expect(await h.session.done).toMatchObject({ outcome: 'paid' });
  });

  it('issuer: with no resends left (the provider said so) # keeps the same OTP', async () => {
    const payment = new IssuerPayments();
    payment.resends = 0;
    const h = harness({ payment });
    await toOtp(h);
    await h.key('#');
    expect(payment.resent).toBe(0);
    expect(h.port.heard()).toContain('otp.no-more-resends');
  });

  it('issuer: an OTP keyed after the provider\'s expiry is not submitted; a new one is sent', async () => {
    const payment = new IssuerPayments();
    payment.expiresInMs = -1; // already past expiresAt at the harness's wall clock
    const h = harness({ payment });
    await toOtp(h);
    await h.key('654321');
    expect(payment.submitted).toEqual([]);
    expect(payment.resent).toBe(1);
    expect(h.port.heard()).toContain('otp.expired');
  });

  it('issuer: a card refused at authentication ends declined; an unreachable provider ends otp-unavailable', async () => {
    const p1 = new IssuerPayments();
    p1.startAnswer = { status: 'declined', paymentId: 'pay_x', reason: 'expired-card' };
    const h1 = harness({ payment: p1 });
    await toOtp(h1);
    expect(await h1.session.done).toEqual({ outcome: 'declined', reason: 'expired-card', paymentId: 'pay_x' });
    const p2 = new IssuerPayments();
    p2.startAnswer = new ProviderError('timeout', true);
    const h2 = harness({ payment: p2 });
    await toOtp(h2);
    expect(await h2.session.done).toEqual({ outcome: 'failed', reason: 'otp-unavailable' });
    expect(h2.of('provider.issue')).toMatchObject([{ step: 'otp-generate', code: 'timeout', action: 'ended' }]);
  });

  it('issuer: a bank OTP of a length outside capture policy otpLength ends otp-unavailable, nothing keyed or submitted', async () => {
    const payment = new IssuerPayments();
    const h = harness({ payment, config: { otpLength: { min: 8, max: 8 } } });
    await toOtp(h);
    expect(await h.session.done).toEqual({ outcome: 'failed', reason: 'otp-unavailable' });
    expect(h.of('provider.issue')).toMatchObject([{ step: 'otp-generate', code: 'otp-length', action: 'ended' }]);
    expect(payment.submitted).toEqual([]);
    const ok = new IssuerPayments();
    const h2 = harness({ payment: ok, config: { otpLength: { min: 4, max: 6 } } });
    await toOtp(h2);
    await h2.key('654321');
    expect(await h2.session.done).toMatchObject({ outcome: 'paid' });
  });

  it('issuer: a submission whose fate is unknown ends failed with needsReconciliation', async () => {
    const payment = new IssuerPayments();
    payment.submitScript = [{ status: 'failed', reason: 'timeout', needsReconciliation: true }];
    const h = harness({ payment });
    await toOtp(h);
    await h.key('654321');
    expect(await h.session.done).toEqual({ outcome: 'failed', reason: 'timeout', needsReconciliation: true });
    expect(h.of('provider.issue')).toMatchObject([{ step: 'payment', code: 'timeout', action: 'reconcile' }]);
  });

  it('none: the payment follows the CVV without an OTP or otpId, and no receipt without a template', async () => {
    const payment = new IssuerPayments();
    payment.mode = 'none';
    let otpId: string | undefined = 'unset';
    payment.decisions.push((req) => ((otpId = req.otpId), { outcome: 'approved', paymentId: 'pay_n', idempotencyKey: req.idempotencyKey!, attempts: 1 }));
    const h = harness({ payment });
    await toOtp(h);
    expect(await h.session.done).toEqual({ outcome: 'paid', reason: 'approved', paymentId: 'pay_n' });
    expect(otpId).toBeUndefined();
    expect(h.of('field.started').map((e) => e.field)).toEqual(['pan', 'expiry', 'cvv']);
    expect(h.sms.texts).toEqual([]);
  });
});

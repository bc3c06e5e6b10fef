import { createHash, randomInt, timingSafeEqual } from 'node:crypto';
import express, { type Request, type Response, type Router } from 'express';
import { z } from 'zod';
import { cvvLength, detectBrand, luhn, validateExpiry } from '../capture/validate/index.js';
import type { Logger } from '../observability/logger.js';
import type { DecryptedCard } from '../security/card-crypto.js';
import { badRequest, OTP_LENGTH } from './otp.js';
import type { DemoPaymentRecord, DemoPayments, PaymentBody } from './payments.js';
import { DEMO_CARDS } from './seed.js';
import type { SmsSink } from './sms.js';

/**
 * The bank's own OTP SMS (the demo bank's DLT registration: TRAI TCCCPR 2018 header, PE ID and
 * template). It goes straight into the demo SMS sink, as a bank's SMS reaches the phone without
 * the gateway.
 */
export const DEMO_BANK_SMS = { senderId: 'DMBANK', peId: '1101100000000001', templateId: '1107100000000001' } as const;

export interface IssuerOptions {
  readonly payments: DemoPayments;
  readonly sms: SmsSink;
  readonly logger: Logger;
  readonly now: () => number;
  /** DEMO_OTP: the bank sends this OTP instead of a random one. */
  readonly fixedOtp?: string | undefined;
  readonly ttlMs: number;
  readonly maxAttempts: number;
  /** New OTPs the bank sends per payment after the first. Default 2. */
  readonly maxResends?: number;
}

interface Auth {
  readonly payment: DemoPaymentRecord;
  readonly body: PaymentBody;
  readonly card: DecryptedCard;
  readonly mobile: string;
  readonly fingerprint: string;
  otp: Buffer;
  expiresAt: number;
  attempts: number;
  resendsLeft: number;
  /** The answer of a decided payment, replayed to a repeated submission. */
  answer?: object;
}

const id = z.string().min(1).max(128);
const startBody = z
  .object({
    orderRef: id,
    merchantId: id,
    amount: z.string().regex(/^\d{1,12}(\.\d{1,2})?$/),
    currency: z.string().regex(/^[A-Z]{3}$/),
    customerMobile: z.string().regex(/^\+[1-9]\d{6,14}$/),
    card: z.object({ pan: z.string().regex(/^\d{12,19}$/), expiry: z.string().regex(/^\d{4}$/), cvv: z.string().regex(/^\d{3,4}$/) }).strict().optional(),
    encryptedCard: z.string().regex(/^[A-Za-z0-9+/]+=*$/).max(2048).optional(),
  })
  .strict()
  .refine((b) => (b.card === undefined) !== (b.encryptedCard === undefined), { path: ['card'], message: 'exactly one of card, encryptedCard' });
const submitBody = z.object({ otp: z.string().regex(/^\d{1,12}$/) }).strict();
const IDEMPOTENCY_KEY = /^[\x21-\x7e]{1,255}$/;
const MAX_AUTHS = 10_000;
const err = (code: string) => ({ error: { code } });

/**
 * The issuer (native) OTP flow of the demo provider (docs/provider-api.openapi.yaml, "Issuer
 * OTP"): `POST /v1/payments/issuer-otp` authenticates the card and the demo bank texts the OTP to
 * the customer (into the SMS sink); `POST /v1/payments/{id}/otp` checks it and decides the payment
 * (the test cards apply here); `POST /v1/payments/{id}/otp/resend` sends a new one. The payment is
 * an ordinary record: the status query by Idempotency-Key and confirmation work as for `/v1/payments`.
 */
export class DemoIssuer {
  readonly #byPayment = new Map<string, Auth>();
  readonly #byKey = new Map<string, Auth>();

  constructor(private readonly o: IssuerOptions) {}

  router(): Router {
    const r = express.Router();
    r.post('/v1/payments/issuer-otp', (req, res) => this.#start(req, res));
    r.post('/v1/payments/:paymentId/otp', (req, res) => this.#submit(req, res));
    r.post('/v1/payments/:paymentId/otp/resend', (req, res) => {
      const a = this.#byPayment.get(req.params.paymentId);
      if (!a) return void res.status(404).json(err('payment-not-found'));
      if (a.payment.status !== 'pending' || a.answer) return void res.status(409).json(err('payment-decided'));
      if (a.resendsLeft === 0) return void res.status(409).json(err('no-resends-left'));
      a.resendsLeft--;
      a.attempts = 0;
      this.#send(a);
      res.json(this.#challenge(a));
    });
    return r;
  }

  close(): void {
    for (const a of this.#byPayment.values()) a.otp.fill(0);
    this.#byPayment.clear();
    this.#byKey.clear();
  }

  #start(req: Request, res: Response): void {
    const key = req.get('idempotency-key');
    if (!key || !IDEMPOTENCY_KEY.test(key)) return void res.status(400).json(err('idempotency-key-required'));
    const parsed = startBody.safeParse(req.body);
    if (!parsed.success) return void res.status(400).json(badRequest(parsed.error));
    const { customerMobile, ...body } = parsed.data;
    const card = this.o.payments.cardOf(body);
    if (!card) return void res.status(400).json(err('bad-encrypted-card'));
    const fingerprint = createHash('sha256').update(JSON.stringify([body.orderRef, body.merchantId, body.amount, body.currency, customerMobile, card.pan, card.expiry, card.cvv])).digest('hex');
    const seen = this.#byKey.get(key);
    if (seen) {
      // Idempotent: the same payment, and no second SMS.
      if (seen.fingerprint !== fingerprint) return void res.status(409).json(err('idempotency-key-reused'));
      return void res.status(201).json(this.#challenge(seen));
    }
    const refused = cardProblem(card, this.o.now());
    if (refused) {
      const p = this.o.payments.record(key, body, card, 'declined', refused);
      return void res.json({ paymentId: p.paymentId, status: 'declined', declineReason: refused });
    }
    if (this.#byPayment.size >= MAX_AUTHS) {
      // A long-running demo keeps the newest authentications only.
      const [oldestId, oldest] = this.#byPayment.entries().next().value as [string, Auth];
      oldest.otp.fill(0);
      this.#byPayment.delete(oldestId);
      this.#byKey.delete(oldest.payment.idempotencyKey);
    }
    const payment = this.o.payments.record(key, body, card, 'pending');
    const a: Auth = { payment, body, card, mobile: customerMobile, fingerprint, otp: Buffer.alloc(0), expiresAt: 0, attempts: 0, resendsLeft: this.o.maxResends ?? 2 };
    this.#byPayment.set(payment.paymentId, a);
    this.#byKey.set(key, a);
    this.#send(a);
    res.status(201).json(this.#challenge(a));
  }

  #submit(req: Request, res: Response): void {
    const a = this.#byPayment.get(String(req.params.paymentId));
    if (!a) return void res.status(404).json(err('payment-not-found'));
    const parsed = submitBody.safeParse(req.body);
    if (!parsed.success) return void res.status(400).json(badRequest(parsed.error));
    const given = Buffer.from(parsed.data.otp);
    const right = given.length === a.otp.length && timingSafeEqual(given, a.otp);
    if (a.answer) return void res.json(right ? a.answer : { paymentId: a.payment.paymentId, status: 'otp-expired' });
    const { paymentId } = a.payment;
    if (this.o.now() > a.expiresAt || a.attempts >= this.o.maxAttempts) return void res.json({ paymentId, status: 'otp-expired' });
    if (!right) {
      a.attempts++;
      return void res.json({ paymentId, status: 'otp-invalid', attemptsLeft: Math.max(0, this.o.maxAttempts - a.attempts) });
    }
    const pan = a.card.pan;
    if (pan === DEMO_CARDS.serverError) return void res.status(500).json(err('internal-error'));
    const reason = pan === DEMO_CARDS.decline ? 'do-not-honour' : undefined;
    if (pan === DEMO_CARDS.noAnswer) {
      this.o.payments.hold(res, a.payment, () => reason);
      return;
    }
    a.payment.status = reason ? 'declined' : 'approved';
    if (reason) a.payment.declineReason = reason;
    a.answer = {
      paymentId,
      status: a.payment.status,
      ...(reason ? { declineReason: reason } : {}),
      amount: a.payment.amount,
      currency: a.payment.currency,
      orderRef: a.payment.orderRef,
      card: { brand: a.payment.brand, last4: a.payment.last4 },
    };
    this.o.logger.info({ paymentId, status: a.payment.status }, 'demo issuer payment decided');
    res.json(a.answer);
  }

  /** A new OTP, texted by the demo bank into the sink. Its text is never logged. */
  #send(a: Auth): void {
    const otp = this.o.fixedOtp ?? String(randomInt(0, 10 ** OTP_LENGTH)).padStart(OTP_LENGTH, '0');
    a.otp.fill(0);
    a.otp = Buffer.from(otp);
    a.expiresAt = this.o.now() + this.o.ttlMs;
    const { currency, amount, merchantId, orderRef } = a.body;
    this.o.sms.record({
      to: a.mobile,
      ...DEMO_BANK_SMS,
      text: `${otp} is the OTP for your card payment of ${currency} ${amount} to ${merchantId}, order ${orderRef}. Do not share it. - Demo Bank`,
    });
    this.o.logger.info({ paymentId: a.payment.paymentId }, 'demo bank sent an OTP');
  }

  #challenge(a: Auth): object {
    return {
      paymentId: a.payment.paymentId,
      status: 'otp-required',
      otp: { length: a.otp.length, expiresAt: new Date(a.expiresAt).toISOString(), resendsLeft: a.resendsLeft },
    };
  }
}

/** The card checks the bank makes before it authenticates (the same as for `/v1/payments`). */
function cardProblem(card: DecryptedCard, now: number): string | undefined {
  if (!luhn(card.pan)) return 'invalid-card';
  if (validateExpiry(card.expiry, new Date(now)) !== 'ok') return 'expired-card';
  if (card.cvv.length !== cvvLength(detectBrand(card.pan))) return 'invalid-cvv';
  return undefined;
}

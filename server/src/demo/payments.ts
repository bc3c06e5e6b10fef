import { createHash, randomBytes } from 'node:crypto';
import express, { type Request, type Response, type Router } from 'express';
import { z } from 'zod';
import { cvvLength, detectBrand, luhn, validateExpiry, type CardBrand } from '../capture/validate/index.js';
import type { Logger } from '../observability/logger.js';
import { decryptCard, type DecryptedCard } from '../security/card-crypto.js';
import { badRequest, type OtpStore } from './otp.js';
import { DEMO_CARDS } from './seed.js';

export interface DemoPaymentRecord {
  readonly paymentId: string;
  readonly idempotencyKey: string;
  readonly orderRef: string;
  readonly merchantId: string;
  readonly amount: string;
  readonly currency: string;
  /** `pending` settles later only for the no-answer card with `noAnswerSettleMs` (reconciliation demos). */
  status: 'approved' | 'declined' | 'pending';
  declineReason?: string;
  readonly brand: CardBrand;
  readonly first6: string;
  readonly last4: string;
  /** The card arrived as `encryptedCard`. */
  readonly encrypted: boolean;
  confirmed: boolean;
  readonly createdAt: string;
}

type Stored = { readonly fingerprint: string } & ({ readonly state: 'in-flight' } | { readonly state: 'done'; readonly body: object });

export interface PaymentsDeps {
  readonly otp: OtpStore;
  readonly privateKeyPem: string;
  readonly logger: Logger;
  readonly retryAfterSeconds: number;
  readonly now: () => number;
  /**
   * The no-answer card's payment, held open until the client gives up, is decided this long
   * after that (as a bank's late answer would be): the status query then says approved or
   * declined. Undefined: it stays pending forever.
   */
  readonly noAnswerSettleMs?: number | undefined;
}

export const RATE_LIMITED_TIMES = 2;

const id = z.string().min(1).max(128);
const paymentBody = z
  .object({
    orderRef: id,
    merchantId: id,
    amount: z.string().regex(/^\d{1,12}(\.\d{1,2})?$/),
    currency: z.string().regex(/^[A-Z]{3}$/),
    /** Absent: a payment without OTP (the gateway's `none` OTP mode). */
    otpId: id.optional(),
    card: z.object({ pan: z.string().regex(/^\d{12,19}$/), expiry: z.string().regex(/^\d{4}$/), cvv: z.string().regex(/^\d{3,4}$/) }).strict().optional(),
    encryptedCard: z.string().regex(/^[A-Za-z0-9+/]+=*$/).max(2048).optional(),
  })
  .strict()
  .refine((b) => (b.card === undefined) !== (b.encryptedCard === undefined), { path: ['card'], message: 'exactly one of card, encryptedCard' });
export type PaymentBody = Omit<z.infer<typeof paymentBody>, 'otpId'> & { readonly otpId?: string | undefined };

const decryptedShape = z.object({ pan: z.string().regex(/^\d{12,19}$/), expiry: z.string().regex(/^\d{4}$/), cvv: z.string().regex(/^\d{3,4}$/) });

const IDEMPOTENCY_KEY = /^[\x21-\x7e]{1,255}$/;

function isLoopback(addr: string | undefined): boolean {
  return !!addr && (addr === '::1' || addr.startsWith('127.') || addr.startsWith('::ffff:127.'));
}

const err = (code: string) => ({ error: { code } });

/** The payment side of the demo provider: idempotent payments, test cards, status, confirmation. */
export class DemoPayments {
  readonly records: DemoPaymentRecord[] = [];
  readonly #byKey = new Map<string, Stored>();
  readonly #rateLimited = new Map<string, number>();
  readonly #held = new Set<Response>();
  readonly #settleTimers = new Set<NodeJS.Timeout>();

  constructor(private readonly d: PaymentsDeps) {}

  heldCount(): number {
    return this.#held.size;
  }

  /** Drops the requests held open by the no-answer card. */
  close(): void {
    for (const res of this.#held) res.destroy();
    this.#held.clear();
    for (const t of this.#settleTimers) clearTimeout(t);
    this.#settleTimers.clear();
  }

  router(): Router {
    const r = express.Router();
    r.post('/v1/payments', (req, res) => this.#pay(req, res));
    r.get('/v1/payments', (req, res) => {
      const key = req.query.idempotencyKey;
      if (typeof key !== 'string' || !IDEMPOTENCY_KEY.test(key)) return void res.status(400).json(err('idempotency-key-required'));
      const p = this.records.find((x) => x.idempotencyKey === key);
      if (!p) return void res.json({ status: 'not-found' });
      res.json({ status: p.status, paymentId: p.paymentId, ...(p.declineReason ? { declineReason: p.declineReason } : {}) });
    });
    r.post('/v1/payments/:paymentId/confirm', (req, res) => {
      const p = this.records.find((x) => x.paymentId === req.params.paymentId);
      if (!p) return void res.status(404).json(err('payment-not-found'));
      if (p.status !== 'approved') return void res.status(409).json(err('payment-not-approved'));
      p.confirmed = true;
      res.json({ paymentId: p.paymentId, status: 'confirmed' });
    });
    return r;
  }

  #pay(req: Request, res: Response): void {
    const key = req.get('idempotency-key');
    if (!key || !IDEMPOTENCY_KEY.test(key)) return void res.status(400).json(err('idempotency-key-required'));
    const parsed = paymentBody.safeParse(req.body);
    if (!parsed.success) return void res.status(400).json(badRequest(parsed.error));
    const body = parsed.data;
    if (body.card && !isLoopback(req.socket.remoteAddress)) return void res.status(400).json(err('plain-card-refused'));
    const card = this.#card(body);
    if (!card) return void res.status(400).json(err('bad-encrypted-card'));

    // Fingerprint of everything that defines the charge, on the decrypted card: OAEP ciphertexts
    // differ on every encryption, the card inside does not.
    const fingerprint = createHash('sha256')
      .update(JSON.stringify([body.orderRef, body.merchantId, body.amount, body.currency, body.otpId, card.pan, card.expiry, card.cvv]))
      .digest('hex');
    const stored = this.#byKey.get(key);
    if (stored) {
      if (stored.fingerprint !== fingerprint) return void res.status(409).json(err('idempotency-key-reused'));
      if (stored.state === 'in-flight') return void res.status(409).json(err('request-in-progress'));
      this.d.logger.info({ idempotencyKey: key }, 'demo payment replayed from idempotency store');
      return void res.json(stored.body);
    }

    if (card.pan === DEMO_CARDS.serverError) return void res.status(500).json(err('internal-error'));
    if (card.pan === DEMO_CARDS.rateLimited) {
      const n = (this.#rateLimited.get(key) ?? 0) + 1;
      this.#rateLimited.set(key, n);
      if (n <= RATE_LIMITED_TIMES) {
        res.set('Retry-After', String(this.d.retryAfterSeconds));
        return void res.status(429).json(err('rate-limited'));
      }
    }
    if (card.pan === DEMO_CARDS.noAnswer) {
      const p = this.#record(key, body, card, 'pending', undefined, !!body.encryptedCard);
      this.#byKey.set(key, { fingerprint, state: 'in-flight' });
      this.hold(res, p, () => this.#declineReason(body, card));
      this.d.logger.info({ idempotencyKey: key }, 'demo payment held open (no-answer test card)');
      return;
    }

    const declineReason = this.#declineReason(body, card);
    const p = this.#record(key, body, card, declineReason ? 'declined' : 'approved', declineReason, !!body.encryptedCard);
    if (!declineReason && body.otpId !== undefined) this.d.otp.markUsed(body.otpId);
    const answer = {
      paymentId: p.paymentId,
      status: p.status,
      ...(declineReason ? { declineReason } : {}),
      amount: p.amount,
      currency: p.currency,
      orderRef: p.orderRef,
      card: { brand: p.brand, last4: p.last4 },
    };
    this.#byKey.set(key, { fingerprint, state: 'done', body: answer });
    res.json(answer);
  }

  /**
   * Holds a request of the no-answer card open until the client gives up; with
   * `noAnswerSettleMs`, the payment is then decided that much later (`decide` gives the decline
   * reason, undefined to approve).
   */
  hold(res: Response, p: DemoPaymentRecord, decide: () => string | undefined): void {
    this.#held.add(res);
    res.on('close', () => {
      this.#held.delete(res);
      const ms = this.d.noAnswerSettleMs;
      if (ms === undefined) return;
      const t = setTimeout(() => {
        this.#settleTimers.delete(t);
        if (p.status !== 'pending') return;
        const reason = decide();
        p.status = reason ? 'declined' : 'approved';
        if (reason) p.declineReason = reason;
        this.d.logger.info({ paymentId: p.paymentId, status: p.status }, 'demo payment settled late (no-answer test card)');
      }, ms);
      this.#settleTimers.add(t);
    });
  }

  /** A payment record made by another flow (the issuer OTP flow of ./issuer.ts). */
  record(key: string, body: PaymentBody, card: DecryptedCard, status: DemoPaymentRecord['status'], declineReason?: string): DemoPaymentRecord {
    return this.#record(key, body, card, status, declineReason, !!body.encryptedCard);
  }

  /** The card of a body: plain, or decrypted with the demo's private key; undefined when it does not decrypt. */
  cardOf(body: PaymentBody): DecryptedCard | undefined {
    return this.#card(body);
  }

  #card(body: PaymentBody): DecryptedCard | undefined {
    if (body.card) return body.card;
    try {
      const c = decryptCard(this.d.privateKeyPem, body.encryptedCard!);
      return decryptedShape.safeParse(c).success ? c : undefined;
    } catch {
      return undefined;
    }
  }

  #declineReason(body: PaymentBody, card: DecryptedCard): string | undefined {
    if (!luhn(card.pan)) return 'invalid-card';
    if (validateExpiry(card.expiry, new Date(this.d.now())) !== 'ok') return 'expired-card';
    if (card.cvv.length !== cvvLength(detectBrand(card.pan))) return 'invalid-cvv';
    if (body.otpId !== undefined) {
      const otp = this.d.otp.checkForPayment(body.otpId, body.orderRef);
      if (otp !== 'ok') return otp;
    }
    if (card.pan === DEMO_CARDS.decline) return 'do-not-honour';
    return undefined;
  }

  #record(
    key: string,
    body: PaymentBody,
    card: DecryptedCard,
    status: DemoPaymentRecord['status'],
    declineReason: string | undefined,
    encrypted: boolean,
  ): DemoPaymentRecord {
    const p: DemoPaymentRecord = {
      paymentId: `pay_${randomBytes(9).toString('base64url')}`,
      idempotencyKey: key,
      orderRef: body.orderRef,
      merchantId: body.merchantId,
      amount: body.amount,
      currency: body.currency,
      status,
      ...(declineReason ? { declineReason } : {}),
      brand: detectBrand(card.pan),
      first6: card.pan.slice(0, 6),
      last4: card.pan.slice(-4),
      encrypted,
      confirmed: false,
      createdAt: new Date(this.d.now()).toISOString(),
    };
    this.records.push(p);
    this.d.logger.info({ paymentId: p.paymentId, idempotencyKey: key, status, declineReason, brand: p.brand }, 'demo payment recorded');
    return p;
  }
}

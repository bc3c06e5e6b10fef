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
  readonly status: 'approved' | 'declined' | 'pending';
  readonly declineReason?: string;
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
}

export const RATE_LIMITED_TIMES = 2;

const id = z.string().min(1).max(128);
const paymentBody = z
  .object({
    orderRef: id,
    merchantId: id,
    amount: z.string().regex(/^\d{1,12}(\.\d{1,2})?$/),
    currency: z.string().regex(/^[A-Z]{3}$/),
    otpId: id,
    card: z.object({ pan: z.string().regex(/^\d{12,19}$/), expiry: z.string().regex(/^\d{4}$/), cvv: z.string().regex(/^\d{3,4}$/) }).strict().optional(),
    encryptedCard: z.string().regex(/^[A-Za-z0-9+/]+=*$/).max(2048).optional(),
  })
  .strict()
  .refine((b) => (b.card === undefined) !== (b.encryptedCard === undefined), { path: ['card'], message: 'exactly one of card, encryptedCard' });
type PaymentBody = z.infer<typeof paymentBody>;

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

  constructor(private readonly d: PaymentsDeps) {}

  heldCount(): number {
    return this.#held.size;
  }

  /** Drops the requests held open by the no-answer card. */
  close(): void {
    for (const res of this.#held) res.destroy();
    this.#held.clear();
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
      this.#record(key, body, card, 'pending', undefined, !!body.encryptedCard);
      this.#byKey.set(key, { fingerprint, state: 'in-flight' });
      this.#held.add(res);
      res.on('close', () => this.#held.delete(res));
      this.d.logger.info({ idempotencyKey: key }, 'demo payment held open (no-answer test card)');
      return;
    }

    const declineReason = this.#declineReason(body, card);
    const p = this.#record(key, body, card, declineReason ? 'declined' : 'approved', declineReason, !!body.encryptedCard);
    if (!declineReason) this.d.otp.markUsed(body.otpId);
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
    const otp = this.d.otp.checkForPayment(body.otpId, body.orderRef);
    if (otp !== 'ok') return otp;
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

import { randomBytes, randomInt, timingSafeEqual } from 'node:crypto';
import express, { type Router } from 'express';
import { z } from 'zod';

export const OTP_LENGTH = 6;

type OtpState = 'issued' | 'verified' | 'used' | 'dead';

interface OtpRecord {
  readonly otpId: string;
  readonly otp: Buffer;
  readonly orderRef: string;
  readonly expiresAt: number;
  attempts: number;
  state: OtpState;
}

export type OtpCheck = 'ok' | 'otp-not-verified' | 'otp-used';

export interface OtpStoreOptions {
  /** DEMO_OTP: every OTP is this one. */
  readonly fixedOtp?: string | undefined;
  readonly ttlMs: number;
  readonly maxAttempts: number;
  readonly now: () => number;
}

/** OTPs the demo provider issued: one per request, bound to an order, limited tries, expiry. */
export class OtpStore {
  readonly #byId = new Map<string, OtpRecord>();
  #sweptAt = 0;

  constructor(private readonly o: OtpStoreOptions) {}

  /** OTPs held now (issued and not yet forgotten). */
  get size(): number {
    return this.#byId.size;
  }

  issue(orderRef: string): { otpId: string; otp: string; length: number; expiresAt: string } {
    this.#sweep();
    const otp = this.o.fixedOtp ?? String(randomInt(0, 10 ** OTP_LENGTH)).padStart(OTP_LENGTH, '0');
    const otpId = `otp_${randomBytes(9).toString('base64url')}`;
    const expiresAt = this.o.now() + this.o.ttlMs;
    this.#byId.set(otpId, { otpId, otp: Buffer.from(otp), orderRef, expiresAt, attempts: 0, state: 'issued' });
    return { otpId, otp, length: otp.length, expiresAt: new Date(expiresAt).toISOString() };
  }

  /** undefined: unknown otpId. */
  validate(otpId: string, otp: string): { status: 'valid' | 'invalid' | 'expired'; attemptsLeft: number } | undefined {
    const r = this.#byId.get(otpId);
    if (!r) return undefined;
    const left = () => Math.max(0, this.o.maxAttempts - r.attempts);
    if (r.state === 'issued' && this.o.now() > r.expiresAt) r.state = 'dead';
    if (r.state === 'used' || r.state === 'dead') return { status: 'expired', attemptsLeft: 0 };
    const given = Buffer.from(otp);
    const match = given.length === r.otp.length && timingSafeEqual(given, r.otp);
    if (match) {
      r.state = 'verified'; // a repeated right answer stays valid (client retries are safe)
      return { status: 'valid', attemptsLeft: left() };
    }
    r.attempts++;
    if (left() === 0) r.state = 'dead';
    return { status: 'invalid', attemptsLeft: left() };
  }

  checkForPayment(otpId: string, orderRef: string): OtpCheck {
    const r = this.#byId.get(otpId);
    if (!r || r.orderRef !== orderRef) return 'otp-not-verified';
    if (r.state === 'used') return 'otp-used';
    return r.state === 'verified' ? 'ok' : 'otp-not-verified';
  }

  markUsed(otpId: string): void {
    const r = this.#byId.get(otpId);
    if (r) r.state = 'used';
  }

  /**
   * Forgets OTPs one lifetime after they expired (at most once a minute), so a long-running demo
   * does not keep every OTP it ever issued; a forgotten otpId is then unknown (404).
   */
  #sweep(): void {
    const now = this.o.now();
    if (now - this.#sweptAt < 60_000) return;
    this.#sweptAt = now;
    for (const [id, r] of this.#byId) {
      if (r.expiresAt + this.o.ttlMs < now) {
        r.otp.fill(0);
        this.#byId.delete(id);
      }
    }
  }

  close(): void {
    for (const r of this.#byId.values()) r.otp.fill(0);
    this.#byId.clear();
  }
}

const id = z.string().min(1).max(128);
const generateBody = z.object({ orderRef: id, customerMobile: z.string().regex(/^\+[1-9]\d{6,14}$/) }).strict();
const validateBody = z.object({ otp: z.string().regex(/^\d{1,12}$/) }).strict();

/** `POST /v1/otp`, `POST /v1/otp/:otpId/validate`. */
export function otpRouter(store: OtpStore): Router {
  const r = express.Router();
  r.post('/v1/otp', (req, res) => {
    const body = generateBody.safeParse(req.body);
    if (!body.success) return void res.status(400).json(badRequest(body.error));
    res.status(201).json(store.issue(body.data.orderRef));
  });
  r.post('/v1/otp/:otpId/validate', (req, res) => {
    const body = validateBody.safeParse(req.body);
    if (!body.success) return void res.status(400).json(badRequest(body.error));
    const v = store.validate(req.params.otpId, body.data.otp);
    if (!v) return void res.status(404).json({ error: { code: 'otp-not-found' } });
    res.json(v);
  });
  return r;
}

/** A 400 body naming the bad fields, never their values. */
export function badRequest(err: z.ZodError): { error: { code: string; fields: string[] } } {
  return { error: { code: 'bad-request', fields: [...new Set(err.issues.map((i) => i.path.join('.') || '(body)'))] } };
}

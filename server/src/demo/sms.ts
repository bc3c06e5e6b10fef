import { randomBytes } from 'node:crypto';
import express, { type Router } from 'express';
import { z } from 'zod';
import { badRequest } from './otp.js';

/** One SMS as the sink recorded it (`GET /demo/sms`). */
export interface DemoSms {
  readonly to: string;
  readonly senderId: string;
  readonly peId: string;
  readonly templateId: string;
  readonly text: string;
  readonly sentAt: string;
}

const smsBody = z
  .object({
    to: z.string().regex(/^\+[1-9]\d{6,14}$/),
    senderId: z.string().regex(/^[A-Za-z0-9]{6}$/),
    peId: z.string().regex(/^\d{12,19}$/),
    templateId: z.string().regex(/^\d{12,19}$/),
    text: z.string().min(1).max(1000),
  })
  .strict();

export interface SmsSinkOptions {
  /** Answer 503 to every send (to exercise the second SMS route). */
  readonly down: boolean;
  readonly now: () => number;
  /** How many messages the sink keeps, newest (default 500): older ones are dropped. */
  readonly keep?: number;
}

/**
 * The SMS API (`POST /v1/sms`) and the sink that shows what was sent (`GET /demo/sms`, newest last).
 * The text holds the OTP: it is kept for the demo page but never logged.
 */
export class SmsSink {
  readonly messages: DemoSms[] = [];

  constructor(private readonly o: SmsSinkOptions) {}

  /** Records a message (the SMS API's, or one the demo bank sends itself: ./issuer.ts). */
  record(m: Omit<DemoSms, 'sentAt'>): void {
    this.messages.push({ ...m, sentAt: new Date(this.o.now()).toISOString() });
    const over = this.messages.length - (this.o.keep ?? 500);
    if (over > 0) this.messages.splice(0, over);
  }

  router(): Router {
    const r = express.Router();
    r.post('/v1/sms', (req, res) => {
      if (this.o.down) return void res.status(503).json({ error: { code: 'sms-route-down' } });
      const body = smsBody.safeParse(req.body);
      if (!body.success) return void res.status(400).json(badRequest(body.error));
      this.record(body.data);
      res.status(202).json({ messageId: `sms_${randomBytes(9).toString('base64url')}`, status: 'accepted' });
    });
    r.get('/demo/sms', (_req, res) => {
      res.json({ messages: this.messages });
    });
    return r;
  }
}

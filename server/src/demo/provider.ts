import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import express, { type NextFunction, type Request, type Response } from 'express';
import type { Logger } from '../observability/logger.js';
import { CARD_ENCRYPTION_ALGORITHM, generateCardKeyPair } from '../security/card-crypto.js';
import { OtpStore, otpRouter } from './otp.js';
import { DemoIssuer } from './issuer.js';
import { DemoPayments, type DemoPaymentRecord } from './payments.js';
import { DEMO_TRANSACTIONS, type DemoTransaction } from './seed.js';
import { SmsSink, type DemoSms } from './sms.js';

export interface DemoProviderOptions {
  /** 0 picks a free port. */
  readonly port: number;
  readonly host?: string;
  /** DEMO_OTP: every OTP the provider issues is this one (else 6 random digits). */
  readonly otp?: string | undefined;
  readonly logger: Logger;
  /** Seconds in the Retry-After of the rate-limited test card. Default 1. */
  readonly retryAfterSeconds?: number;
  readonly otpTtlMs?: number;
  readonly otpMaxAttempts?: number;
  /** The SMS API answers 503 (a broken first SMS route). */
  readonly smsDown?: boolean;
  /** More transactions for `GET /v1/transactions/:ref`, beside the seeded ones. */
  readonly transactions?: readonly DemoTransaction[];
  /** Wall clock, epoch ms (expiry checks, timestamps). */
  readonly now?: () => number;
  /** The no-answer card's payment is decided this long after the client gave up (reconciliation demos); unset: pending forever. */
  readonly noAnswerSettleMs?: number | undefined;
}

export interface DemoRequest {
  readonly method: string;
  readonly path: string;
  /** 0 when the client gave up before an answer. */
  readonly status: number;
}

export interface DemoProvider {
  /** `http://host:port`, no trailing slash. */
  readonly url: string;
  readonly publicKeyPem: string;
  /** Idempotent; drops held requests and open connections. */
  close(): Promise<void>;
  /** Every payment the provider recorded (one per Idempotency-Key), oldest first. */
  payments(): readonly DemoPaymentRecord[];
  /** Every SMS accepted, oldest first. */
  smsMessages(): readonly DemoSms[];
  /** Requests answered or abandoned, oldest first (method, path, status only). */
  requests(): readonly DemoRequest[];
  /** Payment requests currently held open by the no-answer card. */
  heldRequests(): number;
}

const MAX_REQUEST_LOG = 10_000;

/**
 * The demo payment provider and SMS sink: a real HTTP server speaking the provider API of
 * docs/provider-api.openapi.yaml, with the test cards of design.md. It logs method, path, status
 * and timing only: never bodies, so never card data, OTPs or SMS text.
 */
export async function startDemoProvider(o: DemoProviderOptions): Promise<DemoProvider> {
  const now = o.now ?? Date.now;
  const log = o.logger.child({ component: 'demo-provider' });
  const keys = generateCardKeyPair();
  const keyId = `demo-${now().toString(36)}`;
  const otp = new OtpStore({ fixedOtp: o.otp, ttlMs: o.otpTtlMs ?? 5 * 60_000, maxAttempts: o.otpMaxAttempts ?? 3, now });
  const payments = new DemoPayments({ otp, privateKeyPem: keys.privateKeyPem, logger: log, retryAfterSeconds: o.retryAfterSeconds ?? 1, now, noAnswerSettleMs: o.noAnswerSettleMs });
  const sms = new SmsSink({ down: o.smsDown ?? false, now });
  const issuer = new DemoIssuer({ payments, sms, logger: log, now, fixedOtp: o.otp, ttlMs: o.otpTtlMs ?? 5 * 60_000, maxAttempts: o.otpMaxAttempts ?? 3 });
  const txns = new Map([...DEMO_TRANSACTIONS, ...(o.transactions ?? [])].map((t) => [t.ref, t]));
  const requestLog: DemoRequest[] = [];

  const app = express();
  app.disable('x-powered-by');
  app.use((req, res, next) => {
    const started = performance.now();
    const done = (status: number) => {
      if (requestLog.length >= MAX_REQUEST_LOG) requestLog.shift();
      requestLog.push({ method: req.method, path: req.path, status });
      log.debug({ method: req.method, path: req.path, status, ms: Math.round(performance.now() - started) }, 'demo provider request');
    };
    res.on('finish', () => done(res.statusCode));
    res.on('close', () => {
      if (!res.writableFinished) done(0);
    });
    next();
  });
  app.use(express.json({ limit: '16kb' }));

  app.get('/healthz', (_req, res) => void res.json({ ok: true }));
  app.get('/v1/keys/card', (_req, res) => {
    res.json({ keyId, algorithm: CARD_ENCRYPTION_ALGORITHM, publicKeyPem: keys.publicKeyPem });
  });
  app.get('/v1/transactions/:ref', (req, res) => {
    const t = txns.get(req.params.ref);
    if (!t) return void res.status(404).json({ error: { code: 'transaction-not-found' } });
    res.json(t);
  });
  app.use(otpRouter(otp));
  app.use(issuer.router()); // before payments.router(): its paths are under /v1/payments
  app.use(payments.router());
  app.use(sms.router());
  app.use((_req, res) => void res.status(404).json({ error: { code: 'no-such-endpoint' } }));
  // Own error handler: express's default one prints the error, and a JSON parse error quotes the body.
  app.use((error: unknown, _req: Request, res: Response, _next: NextFunction) => {
    const type = (error as { type?: unknown } | null)?.type;
    const status = (error as { status?: unknown } | null)?.status;
    const clientError = typeof status === 'number' && status >= 400 && status < 500;
    const code = type === 'entity.parse.failed' ? 'bad-json' : type === 'entity.too.large' ? 'too-large' : clientError ? 'bad-request' : 'internal-error';
    log.warn({ code }, 'demo provider request failed');
    res.status(clientError ? status : 500).json({ error: { code } });
  });

  const server: Server = await new Promise((resolve, reject) => {
    const s = app.listen(o.port, o.host ?? '127.0.0.1', (e?: Error) => (e ? reject(e) : resolve(s)));
    s.once('error', reject);
  });
  const addr = server.address() as AddressInfo;
  const host = addr.family === 'IPv6' ? `[${addr.address}]` : addr.address;
  const url = `http://${host}:${addr.port}`;
  log.info({ url }, 'demo payment provider listening');

  let closing: Promise<void> | undefined;
  return {
    url,
    publicKeyPem: keys.publicKeyPem,
    close() {
      closing ??= new Promise<void>((resolve) => {
        payments.close();
        issuer.close();
        otp.close();
        server.close(() => resolve());
        server.closeAllConnections();
      }).then(() => log.info('demo payment provider closed'));
      return closing;
    },
    payments: () => payments.records.slice(),
    smsMessages: () => sms.messages.slice(),
    requests: () => requestLog.slice(),
    heldRequests: () => payments.heldCount(),
  };
}

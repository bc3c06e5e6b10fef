import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { verifyWebhook } from '../../src/outcomes/webhook-sign.js';

export interface WebhookRequest {
  readonly key: string;
  readonly attempt: number;
  readonly signatureOk: boolean;
  readonly body: string;
  /** What the receiver answered. */
  readonly status: number;
}

/**
 * A merchant's webhook endpoint, a real HTTP server: it verifies every request's HMAC signature
 * (as a merchant would, with the shared secret), answers what `answer(key, nthRequestForKey)`
 * says, and processes each idempotency key once: `accepted` holds the first body it answered 2xx
 * for, `duplicates` counts later 2xx deliveries of a key it already had.
 */
export class WebhookReceiver {
  readonly requests: WebhookRequest[] = [];
  readonly accepted = new Map<string, string>();
  duplicates = 0;
  answer: (key: string, n: number) => number = () => 200;

  private constructor(
    private readonly server: Server,
    readonly url: string,
  ) {}

  static async start(secret: string): Promise<WebhookReceiver> {
    const holder: { self?: WebhookReceiver } = {};
    const server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const body = Buffer.concat(chunks).toString('utf8');
        const key = String(req.headers['idempotency-key'] ?? '');
        const signatureOk = verifyWebhook(secret, { timestamp: req.headers['x-tonegate-timestamp'] as string | undefined, signature: req.headers['x-tonegate-signature'] as string | undefined }, body, Math.floor(Date.now() / 1000));
        const r = holder.self!;
        const n = r.requests.filter((q) => q.key === key).length + 1;
        const status = signatureOk ? r.answer(key, n) : 401;
        r.requests.push({ key, attempt: Number(req.headers['x-tonegate-attempt']), signatureOk, body, status });
        if (status >= 200 && status < 300) {
          if (r.accepted.has(key)) r.duplicates++;
          else r.accepted.set(key, body);
        }
        res.writeHead(status, { 'content-type': 'application/json' }).end('{}');
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
    holder.self = new WebhookReceiver(server, `http://127.0.0.1:${(server.address() as AddressInfo).port}/hooks/tonegate`);
    return holder.self;
  }

  of(key: string): WebhookRequest[] {
    return this.requests.filter((q) => q.key === key);
  }

  close(): Promise<void> {
    return new Promise((r) => {
      this.server.close(() => r());
      this.server.closeAllConnections();
    });
  }
}

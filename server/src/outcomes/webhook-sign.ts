import { createHmac, timingSafeEqual } from 'node:crypto';

/**
 * The webhook signature (docs/operations.md, "Merchant webhook"): HMAC-SHA256 (RFC 2104) keyed
 * with WEBHOOK_SECRET over `<timestamp>.<body>`, where timestamp is the `X-Tonegate-Timestamp`
 * header (Unix seconds) and body the exact bytes received; sent as `X-Tonegate-Signature:
 * sha256=<hex>`. Signing the timestamp lets the receiver refuse old replays.
 */
export function signWebhook(secret: string, timestamp: number, body: string): string {
  return `sha256=${createHmac('sha256', secret).update(`${timestamp}.${body}`).digest('hex')}`;
}

/** What a receiver does: recompute and compare in constant time; also refuse timestamps older than `toleranceS`. */
export function verifyWebhook(secret: string, header: { timestamp: string | undefined; signature: string | undefined }, body: string, nowS: number, toleranceS = 300): boolean {
  const ts = Number(header.timestamp);
  if (!Number.isInteger(ts) || Math.abs(nowS - ts) > toleranceS || !header.signature) return false;
  const want = Buffer.from(signWebhook(secret, ts, body));
  const got = Buffer.from(header.signature);
  return want.length === got.length && timingSafeEqual(want, got);
}

import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { until } from '../../devtools/until.js';
import type { WebhookBody } from '../../src/outcomes/index.js';
import type { SessionRecord } from '../../src/store/index.js';
import { GatewayChild } from '../support/gateway-process.js';
import { payHangupScenario, payHeaders, payScenario, type PayStep } from '../../devtools/sipp/pay-scenario.js';
import { freeMediaPort, freePort } from '../../devtools/ports.js';
import { runSipp } from '../../devtools/sipp/run.js';
import { WebhookReceiver } from '../support/webhook-receiver.js';

/** This file's polls: every 100 ms, 30 s by default. */
const poll = <T>(what: string, f: () => T | undefined | Promise<T | undefined>, ms = 30_000): Promise<T> => until(what, f, ms, 100);

/**
 * The merchant webhook against a real HTTP receiver and gateway processes started as `npm start`
 * runs them: every outcome arrives once per idempotency key although the receiver answers 500
 * twice first, every request carries a valid HMAC signature, and an outcome still waiting when
 * the gateway is SIGKILLed mid-retry is delivered by the restarted gateway from the outbox file.
 */
const SECRET = 'whsec-test-0123456789abcdef';
const TOKEN = 'supervisor-token-for-webhook-tests';
const OTP = '246810';
const dir = mkdtempSync(join(tmpdir(), 'tg-webhook-'));
const OUTBOX = join(dir, 'outbox.jsonl');
let receiver: WebhookReceiver;
const gateways: GatewayChild[] = [];
const rtpBase = 30000 + 400 * Math.floor(Math.random() * 24);

async function startGateway(n: number): Promise<GatewayChild> {
  const [sip, http, pg] = [await freePort(), await freePort(), await freePort()];
  const g = await GatewayChild.start({
    SIP_PORT: String(sip), HTTP_PORT: String(http), DEMO_PG_PORT: String(pg), DEMO_OTP: OTP, SUPERVISOR_TOKEN: TOKEN,
    RTP_PORT_MIN: String(rtpBase + 200 * n), RTP_PORT_MAX: String(rtpBase + 200 * n + 199), MEDIA_WORKERS: '1', LOG_LEVEL: 'info',
    SIP_DIGEST_ALGORITHMS: 'MD5', AUDIT_LOG: join(dir, `audit-${n}.jsonl`),
    WEBHOOK_URL: receiver.url, WEBHOOK_SECRET: SECRET, WEBHOOK_OUTBOX: OUTBOX, WEBHOOK_RETRY_BASE_MS: '300', WEBHOOK_RETRY_MAX_MS: '1000',
  });
  gateways.push(g);
  return g;
}

async function sessionOf(g: GatewayChild, orderRef: string): Promise<SessionRecord> {
  const res = await fetch(`${g.httpUrl}/api/sessions?orderRef=${orderRef}`, { headers: { authorization: `Bearer ${TOKEN}` } });
  const [s] = ((await res.json()) as { sessions: SessionRecord[] }).sessions;
  if (!s) throw new Error(`no session for ${orderRef}`);
  return s;
}

const keyed = (pan: string): PayStep[] => [{ pauseMs: 1500 }, { keys: `${pan}#` }, { keys: '1230' }, { keys: '123' }, { pauseMs: 3000 }, { keys: OTP }];

async function call(g: GatewayChild, scenario: string): Promise<void> {
  const r = await runSipp({ scenario, target: `127.0.0.1:${g.env['SIP_PORT']}`, localPort: await freePort(), mediaPort: await freeMediaPort(), timeoutS: 120 }).done;
  if (r.code !== 0) throw new Error(`SIPp ${r.code}: ${r.errors.slice(0, 500)}`);
}

beforeAll(async () => {
  receiver = await WebhookReceiver.start(SECRET);
});
afterAll(async () => {
  await Promise.all(gateways.map((g) => g.stop('SIGKILL')));
  await receiver?.close();
});

describe('merchant webhook', () => {
  let first: GatewayChild;
  const paidKeys: string[] = [];

  it('delivers every outcome once per idempotency key, signed, although the receiver answers 500 twice first', async () => {
    receiver.answer = (_key, n) => (n <= 2 ? 500 : 200);
    first = await startGateway(0);
    const paid = payHeaders();
    const declined = payHeaders();
    await Promise.all([
      call(first, payScenario({ headers: paid, steps: keyed('4111111111111111'), byeTimeoutMs: 60_000 })),
      call(first, payScenario({ headers: declined, steps: keyed('4000000000000002'), byeTimeoutMs: 60_000 })),
    ]);
    const sPaid = await sessionOf(first, paid['X-Pay-Order-Ref']!);
    const sDeclined = await sessionOf(first, declined['X-Pay-Order-Ref']!);
    const keys = [`${sPaid.id}:paid`, `${sDeclined.id}:declined`];
    paidKeys.push(...keys);
    await poll('both outcomes accepted', () => (keys.every((k) => receiver.accepted.has(k)) ? true : undefined));

    for (const k of keys) {
      // 500, 500, then 200: three POSTs of the same key with the same bytes, each signed.
      expect(receiver.of(k).map((q) => [q.status, q.attempt, q.signatureOk])).toEqual([[500, 1, true], [500, 2, true], [200, 3, true]]);
      expect(new Set(receiver.of(k).map((q) => q.body)).size).toBe(1);
    }
    const body = JSON.parse(receiver.accepted.get(keys[0]!)!) as WebhookBody;
    expect(body).toMatchObject({
      type: 'session.outcome', idempotencyKey: keys[0], sessionId: sPaid.id, outcome: 'paid', reason: 'approved', orderRef: paid['X-Pay-Order-Ref'],
      merchantId: 'M-DEMO-01', amount: '1499.00', currency: 'INR', card: { brand: 'visa', last4: '1111' }, paymentId: sPaid.paymentId, needsReconciliation: false, reconciled: false,
    });
    expect(JSON.parse(receiver.accepted.get(keys[1]!)!)).toMatchObject({ outcome: 'declined', reason: 'do-not-honour', card: { last4: '0002' } });
    for (const q of receiver.requests) expect(q.body).not.toMatch(/4111111111111111|411111|4000000000000002|400000|246810/);
    expect(receiver.duplicates).toBe(0);
    // The metrics count what happened.
    const metrics = await (await fetch(`${first.httpUrl}/metrics`)).text();
    expect(metrics).toMatch(/tonegate_webhook_deliveries_total\{result="delivered"\} 2\b/);
    expect(metrics).toMatch(/tonegate_webhook_deliveries_total\{result="failed"\} 4\b/);
    expect(metrics).toMatch(/tonegate_webhook_outbox_pending 0\b/);
  }, 120_000);

  it('an outcome still being retried when the gateway is SIGKILLed is delivered, once, by the restarted gateway', async () => {
    receiver.answer = () => 503; // the merchant is down
    const headers = payHeaders();
    await call(first, payHangupScenario({ headers, steps: [{ pauseMs: 1500 }] }));
    const s = await sessionOf(first, headers['X-Pay-Order-Ref']!);
    expect(s.outcome).toBe('abandoned');
    const key = `${s.id}:abandoned`;
    await poll('two failed attempts', () => (receiver.of(key).length >= 2 ? true : undefined));
    await first.stop('SIGKILL');
    expect(readFileSync(OUTBOX, 'utf8')).toContain(key); // durable before the kill
    const seenBefore = receiver.requests.length;

    receiver.answer = () => 200; // the merchant is back; the gateway comes back on the same outbox
    const second = await startGateway(1);
    await poll('the abandoned outcome accepted', () => (receiver.accepted.has(key) ? true : undefined));
    expect(receiver.of(key).filter((q) => q.status === 200)).toHaveLength(1);
    expect(receiver.of(key).every((q) => q.signatureOk)).toBe(true);
    expect(JSON.parse(receiver.accepted.get(key)!)).toMatchObject({ sessionId: s.id, outcome: 'abandoned', reason: 'customer-hung-up' });
    // Outcomes delivered before the kill are not sent again.
    await new Promise((r) => setTimeout(r, 1000));
    expect(receiver.requests.slice(seenBefore).filter((q) => paidKeys.includes(q.key))).toEqual([]);
    expect(receiver.duplicates).toBe(0);
    await poll('nothing left waiting in the outbox', async () => ((await (await fetch(`${second.httpUrl}/metrics`)).text()).match(/tonegate_webhook_outbox_pending 0\b/) ? true : undefined));
  }, 120_000);
});

import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SessionEvent } from '../../src/capture/events.js';
import { startDemoProvider, type DemoProvider } from '../../src/demo/index.js';
import type { Gateway } from '../../src/gateway.js';
import { createLogger } from '../../src/observability/logger.js';
import type { SessionRecord } from '../../src/store/index.js';
import { startTestGateway, LogSink } from '../support/gateway.js';
import { payHeaders, payScenario } from '../../devtools/sipp/pay-scenario.js';
import { freeMediaPort, freePort } from '../../devtools/ports.js';
import { runSipp } from '../../devtools/sipp/run.js';
import { WebhookReceiver } from '../support/webhook-receiver.js';
import { EventsClient } from '../support/events-client.js';

/**
 * Reconciliation of a timed-out payment, end to end: a SIPp customer pays with the demo
 * provider's no-answer card 4000000000000259; the payment POST is held until the gateway's 30 s
 * timeout, the status query then says `pending`, and the session ends `failed` with
 * `needsReconciliation`. The demo bank decides the payment a second later (approved); the
 * reconciliation worker (RECONCILE_INTERVAL_S=1) asks the status by Idempotency-Key, confirms,
 * and the session becomes `paid`: written, audited, published as `session.reconciled`, and sent
 * to the merchant as a second webhook outcome.
 */
const OTP = '246810';
const SECRET = 'whsec-reconcile-0123456789';
let pg: DemoProvider;
let gw: Gateway;
let receiver: WebhookReceiver;
const events: SessionEvent[] = [];

beforeAll(async () => {
  pg = await startDemoProvider({ port: 0, logger: createLogger('silent', new LogSink()), otp: OTP, noAnswerSettleMs: 1000 });
  receiver = await WebhookReceiver.start(SECRET);
  ({ gw } = await startTestGateway({ PAYMENT_API_URL: pg.url, RECONCILE_INTERVAL_S: '1', WEBHOOK_URL: receiver.url, WEBHOOK_SECRET: SECRET, WEBHOOK_OUTBOX: join(mkdtempSync(join(tmpdir(), 'tg-reconcile-')), 'outbox.jsonl') }));
  await gw.bus.subscribe((e) => void events.push(e));
});
afterAll(async () => {
  await gw?.close();
  await pg?.close();
  await receiver?.close();
});

async function session(orderRef: string): Promise<SessionRecord> {
  const res = await fetch(`http://127.0.0.1:${gw.httpPort}/api/sessions?orderRef=${orderRef}`, { headers: { authorization: `Bearer ${gw.supervisorToken}` } });
  return ((await res.json()) as { sessions: SessionRecord[] }).sessions[0]!;
}

describe('reconciliation worker', () => {
  it('settles a payment that timed out (no-answer card) as paid once the provider knows, and tells agents, the audit trail and the merchant', async () => {
    // The agent of the call (X-Pay-Agent-Id: agent-1) watches /events, as the widget does.
    const login = await fetch(`http://127.0.0.1:${gw.httpPort}/api/agents/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ agentId: 'agent-1', password: 'demo' }) });
    const agent = new EventsClient(`ws://127.0.0.1:${gw.httpPort}/events`);
    await agent.auth(((await login.json()) as { token: string }).token);
    const headers = payHeaders();
    const orderRef = headers['X-Pay-Order-Ref']!;
    const steps = [{ pauseMs: 1500 }, { keys: '4000000000000259#' }, { keys: '1230' }, { keys: '123' }, { pauseMs: 3000 }, { keys: OTP }];
    const r = await runSipp({ scenario: payScenario({ headers, steps, byeTimeoutMs: 90_000 }), target: `127.0.0.1:${gw.sipPort}`, localPort: await freePort(), mediaPort: await freeMediaPort(), timeoutS: 150 }).done;
    expect(r.code, r.errors.slice(0, 500)).toBe(0);

    const ended = events.find((e) => e.type === 'session.ended' && e.outcome === 'failed');
    expect(ended).toMatchObject({ reason: 'timeout', needsReconciliation: true });
    const id = ended!.sessionId;
    const end = Date.now() + 20_000;
    while (!events.some((e) => e.type === 'session.reconciled' && e.sessionId === id) && Date.now() < end) await new Promise((res) => setTimeout(res, 200));

    const charge = pg.payments().filter((p) => p.orderRef === orderRef);
    expect(charge).toMatchObject([{ status: 'approved', confirmed: true }]); // one charge, confirmed by reconciliation
    expect(events.find((e) => e.type === 'session.reconciled' && e.sessionId === id)).toMatchObject({
      outcome: 'paid', previousOutcome: 'failed', providerStatus: 'approved', reason: 'approved', paymentId: charge[0]!.paymentId,
    });
    // The agent is told, on its own socket.
    expect(await agent.next((f) => f.type === 'session.reconciled' && f.sessionId === id, 'session.reconciled', 5_000)).toMatchObject({ outcome: 'paid', previousOutcome: 'failed' });
    agent.close();
    const s = await session(orderRef);
    expect(s).toMatchObject({ id, outcome: 'paid', paymentId: charge[0]!.paymentId, needsReconciliation: false });
    expect(s.failureReason).toBeUndefined();
    expect(s.reconciledAt).toBeTruthy();

    const audit = readFileSync(gw.config.AUDIT_LOG, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { action: string; target?: { id?: string }; details?: Record<string, unknown> });
    expect(audit.filter((a) => a.action === 'session.reconcile' && a.target?.id === id)).toMatchObject([{ details: { previousOutcome: 'failed', outcome: 'paid', providerStatus: 'approved' } }]);

    // The merchant hears both: failed (needs reconciliation), then paid (reconciled).
    const wait = Date.now() + 10_000;
    while (!receiver.accepted.has(`${id}:paid`) && Date.now() < wait) await new Promise((res) => setTimeout(res, 100));
    expect(JSON.parse(receiver.accepted.get(`${id}:failed`)!)).toMatchObject({ outcome: 'failed', needsReconciliation: true, reconciled: false });
    expect(JSON.parse(receiver.accepted.get(`${id}:paid`)!)).toMatchObject({ outcome: 'paid', reconciled: true, needsReconciliation: false, paymentId: charge[0]!.paymentId });

    // A later sweep finds nothing left to do.
    expect(await gw.afterPayment.reconciler.sweep()).toEqual([]);
  }, 150_000);
});

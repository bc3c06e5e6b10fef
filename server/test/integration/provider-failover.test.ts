import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startDemoProvider, type DemoPaymentRecord, type DemoProvider } from '../../src/demo/index.js';
import type { Gateway } from '../../src/gateway.js';
import { createLogger } from '../../src/observability/logger.js';
import type { SessionRecord } from '../../src/store/index.js';
import { LogSink, startTestGateway } from '../support/gateway.js';
import { payHeaders, payScenario, type PayStep } from '../../devtools/sipp/pay-scenario.js';
import { freeMediaPort, freePort } from '../../devtools/ports.js';
import { runSipp } from '../../devtools/sipp/run.js';

/**
 * Named payment providers with real peers (docs/operations.md, "Several payment providers"): two
 * real demo providers over HTTP, the gateway started with a configuration FILE (TONEGATE_CONFIG)
 * routing merchant M-A to provider `one` and M-B to provider `two`, `two` the failover of `one`.
 * Real SIPp calls pay in transfer mode; each provider's own payment records show where every
 * charge landed. A failure after the charge was sent is never failed over (one charge, the session
 * needs reconciliation); a provider that is down before any charge is.
 */

const OTP = '246810';
const VISA = '4111111111111111';
const MASTERCARD = '5555555555554444';
const NO_ANSWER = '4000000000000259';
const CVV = '739';

const card = (pan: string): PayStep[] => [{ pauseMs: 1500 }, { keys: `${pan}#` }, { keys: '1230' }, { keys: CVV }];
const otp = (): PayStep[] => [{ pauseMs: 3500 }, { keys: OTP }];

let one: DemoProvider;
let two: DemoProvider;
let gw: Gateway;
let logs: LogSink;
let target: string;
const providerLogs = new LogSink();
const restAnswers: string[] = [];

async function sessionsOf(orderRef: string): Promise<SessionRecord[]> {
  const res = await fetch(`http://127.0.0.1:${gw.httpPort}/api/sessions?orderRef=${encodeURIComponent(orderRef)}`, { headers: { authorization: `Bearer ${gw.supervisorToken}` } });
  const text = await res.text();
  restAnswers.push(text);
  expect(res.status, text).toBe(200);
  return (JSON.parse(text) as { sessions: SessionRecord[] }).sessions;
}

const chargesOf = (p: DemoProvider, orderRef: string): DemoPaymentRecord[] => p.payments().filter((c) => c.orderRef === orderRef);

async function pay(merchantId: string, pan: string): Promise<{ orderRef: string; session: SessionRecord; code: number | null; stderr: string }> {
  const headers = payHeaders({ 'X-Pay-Merchant-Id': merchantId });
  const orderRef = headers['X-Pay-Order-Ref']!;
  const r = await runSipp({
    scenario: payScenario({ headers, steps: [...card(pan), ...otp()], byeTimeoutMs: 60_000 }),
    target,
    localPort: await freePort(),
    mediaPort: await freeMediaPort(),
    timeoutS: 120,
  }).done;
  const sessions = await sessionsOf(orderRef);
  expect(sessions, r.errors).toHaveLength(1);
  return { orderRef, session: sessions[0]!, code: r.code, stderr: `${r.errors}${r.stderr}` };
}

beforeAll(async () => {
  const plog = createLogger('debug', providerLogs);
  one = await startDemoProvider({ port: 0, otp: OTP, logger: plog.child({ demo: 'one' }) });
  two = await startDemoProvider({ port: 0, otp: OTP, logger: plog.child({ demo: 'two' }) });
  const dir = mkdtempSync(join(tmpdir(), 'tg-providers-'));
  const config = join(dir, 'tonegate.yaml');
  writeFileSync(
    config,
    `providers:
  - name: one
    url: ${one.url}
    auth: { kind: apiKey, header: X-Acme-Key, secretEnv: PAYMENT_API_KEY_ONE }
    merchants: [M-A]
    timeouts: { payMs: 2000, statusMs: 2000 }
    retry: { attempts: 2, baseMs: 50, maxMs: 100 }
    breaker: { failures: 3, windowSeconds: 30, openSeconds: 60 }
  - name: two
    url: ${two.url}
    auth: { kind: bearer, secretEnv: PAYMENT_API_BEARER_TWO }
    merchants: [M-B]
providerRouting:
  default: one
  failover: [two]
`,
  );
  ({ gw, logs, target } = await startTestGateway({ TONEGATE_CONFIG: config, PAYMENT_API_KEY_ONE: 'one-api-key-0001', PAYMENT_API_BEARER_TWO: 'two-bearer-0002', RECONCILE_INTERVAL_S: '0' }));
}, 60_000);

afterAll(async () => {
  await gw?.close();
  await one?.close();
  await two?.close();
});

describe('named providers: routing by merchant, failover only before any charge', () => {
  it('the configured providers are running, no embedded demo provider', () => {
    expect([...gw.payments.providers.keys()]).toEqual(['one', 'two']);
    expect(gw.payments.demo).toBeUndefined();
  });

  it('merchant M-A pays at provider one, M-B at provider two', async () => {
    const [a, b] = await Promise.all([pay('M-A', VISA), pay('M-B', MASTERCARD)]);
    expect(a.code, a.stderr).toBe(0);
    expect(b.code, b.stderr).toBe(0);
    expect(a.session).toMatchObject({ outcome: 'paid', merchantId: 'M-A', provider: 'one' });
    expect(b.session).toMatchObject({ outcome: 'paid', merchantId: 'M-B', provider: 'two' });
    expect(chargesOf(one, a.orderRef)).toMatchObject([{ status: 'approved', confirmed: true, idempotencyKey: a.session.idempotencyKey }]);
    expect(chargesOf(two, a.orderRef)).toHaveLength(0);
    expect(chargesOf(two, b.orderRef)).toMatchObject([{ status: 'approved', confirmed: true, idempotencyKey: b.session.idempotencyKey }]);
    expect(chargesOf(one, b.orderRef)).toHaveLength(0);
    // Each OTP SMS went out once, by the first SMS route (provider one's URL).
    expect(one.smsMessages().filter((m) => m.text.includes(a.orderRef))).toHaveLength(1);
  }, 150_000);

  it('a charge sent to provider one that never answers is NOT failed over: one charge, needs reconciliation', async () => {
    const r = await pay('M-A', NO_ANSWER);
    expect(r.session).toMatchObject({ outcome: 'failed', failureReason: 'timeout', needsReconciliation: true, provider: 'one' });
    expect(chargesOf(one, r.orderRef)).toMatchObject([{ status: 'pending', idempotencyKey: r.session.idempotencyKey }]);
    expect(chargesOf(two, r.orderRef)).toHaveLength(0);
    expect(two.requests().filter((q) => q.method === 'POST' && q.path === '/v1/payments')).toHaveLength(1); // M-B's payment above, nothing more
    expect(logs.lines.filter((l) => l.includes('failing over'))).toEqual([]);
  }, 150_000);

  it('provider one down: M-A fails over to provider two before any charge and is paid once there', async () => {
    await one.close();
    const before = one.payments().length;
    const r = await pay('M-A', VISA);
    expect(r.code, r.stderr).toBe(0);
    expect(r.session).toMatchObject({ outcome: 'paid', merchantId: 'M-A', provider: 'two' });
    expect(r.session.needsReconciliation).toBeUndefined();
    expect(chargesOf(two, r.orderRef)).toMatchObject([{ status: 'approved', confirmed: true, idempotencyKey: r.session.idempotencyKey }]);
    expect(one.payments()).toHaveLength(before);
    const moved = logs.lines.filter((l) => l.includes('failing over') && l.includes(r.orderRef));
    expect(moved.length).toBe(1);
    expect(JSON.parse(moved[0]!)).toMatchObject({ from: 'one', to: 'two', op: 'otp.generate', code: 'unreachable', merchantId: 'M-A' });
    // The SMS went by the second route (provider two) while provider one was down.
    expect(two.smsMessages().filter((m) => m.text.includes(r.orderRef))).toHaveLength(1);
  }, 150_000);

  it('the audit trail and logs name the provider; no card number, CVV or OTP anywhere', async () => {
    const audit = (await import('node:fs')).readFileSync(gw.config.AUDIT_LOG, 'utf8');
    const ends = audit.split('\n').filter((l) => l.includes('"session.end"'));
    expect(ends.length).toBeGreaterThanOrEqual(4);
    expect(ends.filter((l) => l.includes('"provider":"two"')).length).toBe(2);
    expect(ends.filter((l) => l.includes('"provider":"one"')).length).toBe(2);
    const everything = [...logs.lines, ...providerLogs.lines, ...restAnswers, audit].join('\n');
    for (const secret of [VISA, MASTERCARD, NO_ANSWER, 'one-api-key-0001', 'two-bearer-0002']) expect(everything).not.toContain(secret);
    expect(everything).not.toMatch(new RegExp(`"(cvv|otp)":"(${CVV}|${OTP})"`));
  });
});

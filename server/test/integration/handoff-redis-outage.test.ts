import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { mkdtempSync, readFileSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Gateway } from '../../src/gateway.js';
import { startTestGateway, type LogSink } from '../support/gateway.js';
import { payHeaders, payRefusedScenario, payScenario, type PayStep } from '../../devtools/sipp/pay-scenario.js';
import { freeMediaPort, freePort } from '../../devtools/ports.js';
import { dumpRedis, findCardData } from '../support/redis-dump.js';
import { RedisServer } from '../../devtools/redis-server.js';
import { runSipp } from '../../devtools/sipp/run.js';

/**
 * Handoffs while the shared store does not answer (handoff/redis-codes.ts, redis-did-pool.ts): a
 * real redis-server frozen with SIGSTOP, as a hung server or a partition would leave it. Issuing
 * and redeeming are refused with 503 and a reason (HTTP: Retry-After), never 500 and never a hang;
 * a code or DID issued before the outage is not used up by the refused attempt, even though Redis
 * runs the queued command once it resumes (the scripts carry a deadline), and it pays afterwards.
 * A payment whose details come in X-Pay-* headers needs no handoff store: it is paid from memory
 * meanwhile, and its record reaches Redis once it answers again.
 */
const OTP = '161803';
const CARD = { pan: '4111111111111111', expiry: '1230', cvv: '123', otp: OTP };
const KEYS: PayStep[] = [{ pauseMs: 1500 }, { keys: `${CARD.pan}#` }, { keys: CARD.expiry }, { keys: CARD.cvv }, { pauseMs: 4000 }, { keys: OTP }];

let redis: RedisServer;
let gw: Gateway;
let logs: LogSink;
let target: string;

beforeAll(async () => {
  redis = await RedisServer.start();
  ({ gw, logs, target } = await startTestGateway({ DEMO_OTP: OTP, REDIS_URL: redis.url, INSTANCE_ID: 'gw-outage' }));
}, 60_000);
afterAll(async () => {
  redis?.resume();
  await gw?.close();
  await redis?.stop();
});

function post(body: Record<string, string>): Promise<Response> {
  return fetch(`http://127.0.0.1:${gw.httpPort}/api/handoffs`, {
    method: 'POST',
    headers: { authorization: `Bearer ${gw.handoffApiKey}`, 'content-type': 'application/json' },
    body: JSON.stringify({ amount: '1499.00', currency: 'INR', merchantId: 'M-DEMO-01', customerMobile: '+919800000001', ...body }),
    signal: AbortSignal.timeout(15_000),
  });
}

/** An INVITE to `user` refused before any answer with `status`: the Warning as SIPp received it. */
async function refused(user: string, status: number): Promise<string> {
  const dir = mkdtempSync(join(tmpdir(), 'handoff-outage-'));
  const r = await runSipp({
    scenario: payRefusedScenario({ user, headers: {}, status }), target, localPort: await freePort(), mediaPort: await freeMediaPort(), timeoutS: 30,
    extra: ['-trace_logs', '-log_file', join(dir, 'log.txt')],
  }).done;
  expect(r.code, r.errors + r.stderr).toBe(0);
  const log = readdirSync(dir).map((f) => readFileSync(join(dir, f), 'utf8')).join('\n');
  return /Warning=(.*)/.exec(log)?.[1]?.trim() ?? '';
}

async function paid(user: string, orderRef: string, headers: Record<string, string> = {}): Promise<void> {
  const r = await runSipp({ scenario: payScenario({ user, headers, steps: KEYS }), target, localPort: await freePort(), mediaPort: await freeMediaPort(), timeoutS: 90 }).done;
  expect(r.code, r.errors + r.stderr).toBe(0);
  expect(gw.payments.demo!.payments().filter((p) => p.orderRef === orderRef)).toMatchObject([{ status: 'approved', last4: '1111' }]);
}

describe('handoffs while Redis does not answer', () => {
  let code = '';
  let did = '';

  it('issued before the outage: a code and a pool DID', async () => {
    const c = await post({ orderRef: 'OUTAGE-CODE' });
    const d = await post({ orderRef: 'OUTAGE-DID', via: 'did' });
    expect([c.status, d.status]).toEqual([201, 201]);
    code = ((await c.json()) as { code: string }).code;
    did = ((await d.json()) as { did: string }).did;
  });

  it('during the outage POST /api/handoffs answers 503 with Retry-After and the reason, for codes and DIDs', async () => {
    redis.pause();
    for (const extra of [{}, { via: 'did' }] as Record<string, string>[]) {
      const res = await post({ orderRef: 'OUTAGE-NEW', ...extra });
      expect(res.status).toBe(503);
      expect(res.headers.get('retry-after')).toBe('5');
      expect(await res.json()).toEqual({ error: 'store-unavailable', message: 'the shared handoff store (Redis) did not answer; nothing was issued; retry after Retry-After seconds' });
    }
  }, 30_000);

  it('during the outage the INVITEs for that code and that DID are refused 503 with the reason', async () => {
    expect(await refused(`pay-${code}`, 503)).toMatch(/^399 tonegate "Request-URI: handoff store unavailable \(.+\); try again"$/);
    expect(await refused(did, 503)).toMatch(/^399 tonegate "Request-URI: handoff store unavailable \(.+\); try again"$/);
  }, 60_000);

  it('during the outage a payment with its details in X-Pay-* headers is paid from memory; /healthz says why it is degraded', async () => {
    await paid('pay', 'OUTAGE-HEADERS', payHeaders({ 'X-Pay-Order-Ref': 'OUTAGE-HEADERS' }));
    const h = await fetch(`http://127.0.0.1:${gw.httpPort}/healthz`);
    expect(h.status).toBe(503);
    expect(JSON.stringify(await h.json())).toMatch(/not answering within 2000 ms/);
  }, 120_000);

  it('after Redis resumes (and has run the queued commands) the code and the DID still pay, once', async () => {
    redis.resume();
    await new Promise((r) => setTimeout(r, 1000));
    const dump = await dumpRedis(redis.url);
    expect(dump.text).toContain(`handoff:${code}`);
    expect(dump.text).toContain(`did:${did}`);
    expect(dump.text).not.toContain('OUTAGE-NEW'); // nothing issued during the outage appeared afterwards
    await vi.waitFor(async () => expect((await dumpRedis(redis.url)).text).toContain('OUTAGE-HEADERS'), { timeout: 10_000, interval: 200 }); // its record, flushed
    await paid(`pay-${code}`, 'OUTAGE-CODE');
    await paid(did, 'OUTAGE-DID');
    expect(await refused(`pay-${code}`, 400)).toContain('unknown, used or expired code');
    expect(await refused(did, 404)).toContain('no pending handoff');
  }, 150_000);

  it('nothing crashed, and no log or Redis key holds card data', async () => {
    expect(logs.lines.filter((l) => /"level":60/.test(l))).toEqual([]);
    const dump = await dumpRedis(redis.url);
    expect(findCardData(dump.text, CARD)).toEqual([]);
    expect(findCardData(logs.lines.join('\n'), CARD)).toEqual([]);
  });
});

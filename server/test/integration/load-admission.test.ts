import { mkdtempSync, readFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Gateway } from '../../src/gateway.js';
import { startTestGateway, type LogSink } from '../support/gateway.js';
import { payOrBusyScenario } from '../support/load-scenario.js';
import { payHeaders, payRefusedScenario } from '../../devtools/sipp/pay-scenario.js';
import { freeMediaPort, freePort } from '../../devtools/ports.js';
import { runSipp, type SippResult } from '../../devtools/sipp/run.js';
import { unackedFloodScenario } from '../support/trust-scenarios.js';

const OTP = '246810';
const MAX_CALLS = 3;
const BURST = 6;
let gw: Gateway;
let logs: LogSink;
let target: string;

beforeAll(async () => {
  // MAX_CALLS is what this file tests: the event-loop and media-worker limits are set out of reach,
  // so other work on a shared machine cannot refuse a call here.
  ({ gw, logs, target } = await startTestGateway({ DEMO_OTP: OTP, MAX_CALLS: String(MAX_CALLS), ADMIT_LOOP_LAG_MS: '60000', ADMIT_MEDIA_BUSY: '1' }));
});
afterAll(async () => {
  await gw?.close();
});

const health = async (): Promise<{ status: string; details: { reasons?: string[] } }> =>
  (await (await fetch(`http://127.0.0.1:${gw.httpPort}/healthz`)).json()) as { status: string; details: { reasons?: string[] } };

async function until(cond: () => boolean | Promise<boolean>, what: string, ms = 20_000): Promise<void> {
  const end = Date.now() + ms;
  while (!(await cond())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

interface Caller { orderRef: string; logFile: string; done: Promise<SippResult> }

describe('load admission: a burst of payment calls past MAX_CALLS (SIPp)', () => {
  it(`exactly ${MAX_CALLS} of ${BURST} are admitted and paid; the rest get 503 + Retry-After and never reach the provider; /healthz degraded while full, ok after`, async () => {
    const callers: Caller[] = [];
    for (let i = 0; i < BURST; i++) {
      const headers = payHeaders();
      const scenario = payOrBusyScenario({
        headers,
        steps: [{ pauseMs: 1500 }, { keys: '4111111111111111#' }, { keys: '1230' }, { keys: '123' }, { pauseMs: 9000 }, { keys: OTP }],
      });
      const logFile = join(mkdtempSync(join(tmpdir(), 'load-')), 'sipp.log');
      const [localPort, mediaPort] = [await freePort(), await freeMediaPort()];
      callers.push({ orderRef: headers['X-Pay-Order-Ref']!, logFile, done: runSipp({ scenario, target, localPort, mediaPort, timeoutS: 90, extra: ['-trace_logs', '-log_file', logFile] }).done });
    }
    const logOf = (c: Caller): string => (existsSync(c.logFile) ? readFileSync(c.logFile, 'utf8') : '');
    // While full: the refusals are in, the admitted calls are held.
    await until(() => callers.filter((c) => logOf(c).includes('BUSY')).length === BURST - MAX_CALLS, 'the refusals');
    await until(() => gw.paymentCalls.live.size === MAX_CALLS, 'the admitted calls');
    const full = await health();
    expect(full.status).toBe('degraded');
    expect(full.details.reasons?.join('\n')).toMatch(/load: 3 of 3 calls held \(MAX_CALLS\)/);
    // A bridged call is held to the same limit, before any routing.
    const logFile = join(mkdtempSync(join(tmpdir(), 'load-')), 'bridged.log');
    const bridged = await runSipp({
      scenario: payRefusedScenario({ user: 'support', headers: {}, status: 503 }), target, localPort: await freePort(), mediaPort: await freeMediaPort(),
      extra: ['-trace_logs', '-log_file', logFile],
    }).done;
    expect(bridged.code, bridged.errors).toBe(0);
    expect(readFileSync(logFile, 'utf8')).toMatch(/Warning= ?399 \S+ "overload: 3 of 3 calls held \(MAX_CALLS\); retry later"/);

    const results = await Promise.all(callers.map((c) => c.done));
    for (const r of results) expect(r.code, r.errors + r.stderr).toBe(0);
    const admitted = callers.filter((c) => logOf(c).includes('ADMITTED'));
    const refused = callers.filter((c) => logOf(c).includes('BUSY'));
    expect(admitted).toHaveLength(MAX_CALLS);
    expect(refused).toHaveLength(BURST - MAX_CALLS);
    for (const c of refused) expect(logOf(c)).toMatch(/BUSY retry-after=5 warning= ?399 \S+ "overload: 3 of 3 calls held \(MAX_CALLS\); retry later"/);
    // Admitted: paid, once each. Refused: nothing at the provider (no payment, no OTP SMS).
    const demo = gw.payments.demo!;
    for (const c of admitted) expect(demo.payments().filter((p) => JSON.stringify(p).includes(c.orderRef))).toHaveLength(1);
    for (const c of refused) expect(demo.payments().filter((p) => JSON.stringify(p).includes(c.orderRef))).toHaveLength(0);
    expect(demo.payments()).toHaveLength(MAX_CALLS);
    expect(demo.smsMessages()).toHaveLength(MAX_CALLS);
    const sessions = (await gw.store.list()).filter((s) => callers.some((c) => c.orderRef === s.orderRef));
    expect(sessions.map((s) => s.outcome)).toEqual(['paid', 'paid', 'paid']);

    // /metrics: refusals by reason, the measure and its limit.
    const metrics = await (await fetch(`http://127.0.0.1:${gw.httpPort}/metrics`)).text();
    expect(metrics).toMatch(/^tonegate_load_refusals_total\{reason="calls"\} 4$/m); // 3 payment calls + 1 bridged
    expect(metrics).toMatch(/^tonegate_load_limit\{measure="calls"\} 3$/m);
    expect(metrics).toMatch(/^tonegate_load\{measure="loop_lag_ms"\} [\d.]+$/m);
    expect(metrics).toMatch(/^tonegate_load\{measure="rtp_free_pairs"\} \d+$/m);

    // After: every call gone, the gateway is ok again.
    await until(() => gw.paymentCalls.live.size === 0, 'the calls to end');
    await until(async () => (await health()).status === 'ok', '/healthz ok');
    expect(logs.lines.filter((l) => l.includes('refused for load (503)'))).toHaveLength(BURST - MAX_CALLS + 1);
  }, 120_000);
});

describe('load admission: the RTP port reserve', () => {
  let small: Gateway | undefined;
  let smallLogs: LogSink;
  afterAll(async () => {
    await small?.close();
  });

  it('unacknowledged payment calls cannot take the last port pairs: past the reserve they get 503', async () => {
    // 4 pairs; the default reserve is 5 % of them, at least 2.
    ({ gw: small, logs: smallLogs } = await startTestGateway({ RTP_PORT_MIN: '39720', RTP_PORT_MAX: '39727', ADMIT_LOOP_LAG_MS: '60000', ADMIT_MEDIA_BUSY: '1' }));
    const r = await runSipp({ target: `127.0.0.1:${small.sipPort}`, localPort: await freePort(), mediaPort: await freeMediaPort(), scenario: unackedFloodScenario(payHeaders()), calls: 4, rate: 10, timeoutS: 20 }).done;
    expect(r.code, r.errors + r.stderr).toBe(0);
    expect(small.media.ports()).toEqual({ allocated: 2, capacity: 4 });
    const refusals = smallLogs.lines.filter((l) => l.includes('refused for load (503)'));
    expect(refusals).toHaveLength(2);
    for (const l of refusals) expect(JSON.parse(l)).toMatchObject({ reason: 'rtp-ports', kind: 'payment-invite' });
    const res = await fetch(`http://127.0.0.1:${small.httpPort}/healthz`);
    const body = (await res.json()) as { status: string; details: { reasons?: string[] } };
    expect(res.status).toBe(503);
    expect(body.status).toBe('degraded');
    expect(body.details.reasons).toEqual(['load: 2 RTP port pairs free, 2 kept in reserve (ADMIT_RTP_RESERVE)']);
  });
});

import { statSync } from 'node:fs';
import { resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SessionEvent } from '../../src/capture/events.js';
import type { Gateway } from '../../src/gateway.js';
import type { SessionRecord } from '../../src/store/index.js';
import { startTestGateway, type LogSink } from '../support/gateway.js';
import { payHeaders, payReturnScenario, payScenario, type PayStep } from '../../devtools/sipp/pay-scenario.js';
import { freeMediaPort, freePort } from '../../devtools/ports.js';
import { runSipp } from '../../devtools/sipp/run.js';

/**
 * How a transfer-mode call ends (docs/operations.md, after the payment), with real SIPp calls to sip:pay@gateway:
 * without X-Pay-Return-To the customer hears `goodbye` (not "you will now be returned to your
 * agent") before the gateway's BYE; with the payment provider's breaker open the customer hears
 * `payments.unavailable` before the REFER back or the BYE. Which clips played: the session's
 * `prompt.playing` events, no "prompt could not be played" warning (every clip was found), and a
 * call that lasts at least as long as those clips (they were played in real time before the end).
 */

const OTP = '246810';
const RETURN_TO = 'sip:queue-7@127.0.0.1:5999';
const PROMPTS = resolve(import.meta.dirname, '../../prompts');
/** Seconds of audio in a rendered clip (16-bit mono 8 kHz WAV, 44-byte header). */
const clipSeconds = (id: string): number => (statSync(resolve(PROMPTS, `${id}.wav`)).size - 44) / 16_000;

interface Gw {
  gw: Gateway;
  logs: LogSink;
  target: string;
  events: SessionEvent[];
}

async function gateway(env: Record<string, string>): Promise<Gw> {
  const { gw, logs, target } = await startTestGateway(env);
  const events: SessionEvent[] = [];
  await gw.bus.subscribe((e) => void events.push(e));
  return { gw, logs, target, events };
}

/** Leak scan: the gateway's logs and events never hold the test card's number or the OTP. */
function noCardData(g: Gw): void {
  const everything = [...g.logs.lines, JSON.stringify(g.events)].join('\n');
  for (const secret of ['4111111111111111', '111111111111', OTP]) expect(everything).not.toContain(secret);
}

async function call(g: Gw, o: { steps: PayStep[]; returnTo?: string; headers?: Record<string, string> }) {
  const headers = payHeaders({ ...(o.returnTo ? { 'X-Pay-Return-To': o.returnTo } : {}), ...o.headers });
  const orderRef = headers['X-Pay-Order-Ref']!;
  const scenario = o.returnTo ? payReturnScenario({ headers, steps: o.steps, returnTo: o.returnTo }) : payScenario({ headers, steps: o.steps });
  const t0 = performance.now();
  const sipp = await runSipp({ scenario, target: g.target, localPort: await freePort(), mediaPort: await freeMediaPort(), timeoutS: 90 }).done;
  const seconds = (performance.now() - t0) / 1000;
  const res = await fetch(`http://127.0.0.1:${g.gw.httpPort}/api/sessions?orderRef=${orderRef}`, { headers: { authorization: `Bearer ${g.gw.supervisorToken}` } });
  const { sessions } = (await res.json()) as { sessions: SessionRecord[] };
  const id = sessions[0]?.id;
  const mine = g.events.filter((e) => e.sessionId === id);
  const prompts = mine.flatMap((e) => (e.type === 'prompt.playing' ? [e.prompts] : []));
  const warnings = g.logs.lines.filter((l) => l.includes(orderRef) && /"level":(40|50)/.test(l));
  return { sipp, seconds, sessions, events: mine, prompts, warnings, orderRef };
}

describe('transfer mode, provider up: the last words before BYE', () => {
  let g: Gw;
  beforeAll(async () => {
    g = await gateway({ DEMO_OTP: OTP });
  });
  afterAll(async () => {
    await g?.gw.close();
  });

  it('paid without X-Pay-Return-To: outcome.paid then goodbye (never handback), then the gateway sends BYE', async () => {
    const r = await call(g, { steps: [{ pauseMs: 1500 }, { keys: '4111111111111111#' }, { keys: '1230' }, { keys: '123' }, { pauseMs: 3000 }, { keys: OTP }] });
    expect(r.sipp.code, r.sipp.errors + r.sipp.stderr + r.warnings.join('\n')).toBe(0); // the scenario ends on the gateway's BYE
    expect(r.sessions).toHaveLength(1);
    expect(r.sessions[0]).toMatchObject({ outcome: 'paid', state: 'done' });
    expect(r.prompts.at(-1)).toEqual(['outcome.paid', 'goodbye']);
    expect(r.prompts.flat()).not.toContain('handback');
    expect(r.warnings).toEqual([]); // no "prompt could not be played": en/goodbye.wav was found
    noCardData(g);
  });
});

describe('transfer mode in Tamil (X-Pay-Language: ta)', () => {
  let g: Gw;
  beforeAll(async () => {
    g = await gateway({ DEMO_OTP: OTP });
  });
  afterAll(async () => {
    await g?.gw.close();
  });

  it('a Tamil payment is paid with every Tamil clip found, greeting with the amount first and goodbye last', async () => {
    const r = await call(g, { headers: { 'X-Pay-Language': 'ta' }, steps: [{ pauseMs: 1500 }, { keys: '4111111111111111#' }, { keys: '1230' }, { keys: '123' }, { pauseMs: 3000 }, { keys: OTP }] });
    expect(r.sipp.code, r.sipp.errors + r.sipp.stderr + r.warnings.join('\n')).toBe(0);
    expect(r.sessions[0]).toMatchObject({ outcome: 'paid' });
    expect(r.events.find((e) => e.type === 'session.started')).toMatchObject({ language: 'ta' });
    expect(r.prompts[0]).toEqual(['greeting.secure', 'greeting.amount']);
    expect(r.prompts.at(-1)).toEqual(['outcome.paid', 'goodbye']);
    expect(r.warnings).toEqual([]); // no "prompt could not be played": every ta clip of the call was loaded
    noCardData(g);
  });
});

describe('transfer mode, payment provider unreachable and its breaker open', () => {
  let g: Gw;
  beforeAll(async () => {
    // Nothing listens on this port: every provider call fails with a connection refused.
    g = await gateway({ PAYMENT_API_URL: `http://127.0.0.1:${await freePort()}/pg` });
  });
  afterAll(async () => {
    await g?.gw.close();
  });

  /** Real failed lookups through the gateway's own client open its breaker (DEFAULT_BREAKER: 5 in 30 s). */
  async function openBreaker(): Promise<void> {
    const client = g.gw.payments.payment;
    for (let i = 0; i < 20 && !client.breaker.refusing; i++) await client.lookupTransaction(`TXN-${i}`).catch(() => {});
    expect(client.breaker.refusing).toBe(true);
  }

  it('without X-Pay-Return-To: payments.unavailable then goodbye, then BYE; the session is failed and closed, nothing half-done', async () => {
    await openBreaker();
    const r = await call(g, { steps: [] });
    expect(r.sipp.code, r.sipp.errors + r.sipp.stderr + r.warnings.join('\n')).toBe(0);
    expect(r.sessions).toHaveLength(1);
    expect(r.sessions[0]).toMatchObject({ state: 'done', outcome: 'failed', failureReason: 'provider-unavailable', endedAt: expect.any(String), card: null });
    expect(r.prompts).toEqual([['payments.unavailable', 'goodbye']]);
    expect(r.events.map((e) => e.type)).toEqual(['session.started', 'provider.issue', 'session.ended', 'prompt.playing']);
    expect(r.events.find((e) => e.type === 'provider.issue')).toMatchObject({ step: 'breaker', code: 'breaker-open', action: 'refused' });
    expect(r.warnings).toEqual([]);
    // The BYE came after both clips had played out.
    expect(r.seconds).toBeGreaterThanOrEqual(clipSeconds('en/payments.unavailable') + clipSeconds('en/goodbye') - 0.1);
  });

  it(`with X-Pay-Return-To: payments.unavailable then handback, then the REFER back to ${RETURN_TO} and BYE`, async () => {
    await openBreaker();
    const r = await call(g, { steps: [], returnTo: RETURN_TO });
    expect(r.sipp.code, r.sipp.errors + r.sipp.stderr + r.warnings.join('\n')).toBe(0); // REFER (Refer-To checked), NOTIFY 200, BYE
    expect(r.sessions[0]).toMatchObject({ state: 'done', outcome: 'failed', failureReason: 'provider-unavailable' });
    expect(r.prompts).toEqual([['payments.unavailable', 'handback']]);
    expect(r.warnings).toEqual([]);
    expect(r.seconds).toBeGreaterThanOrEqual(clipSeconds('en/payments.unavailable') + clipSeconds('en/handback') - 0.1);
  });
});

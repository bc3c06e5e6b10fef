import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FieldFailedEvent, SessionEvent } from '../../src/capture/events.js';
import type { Gateway } from '../../src/gateway.js';
import type { SessionRecord } from '../../src/store/index.js';
import { startTestGateway, type LogSink } from '../support/gateway.js';
import { payHeaders, payScenario, type PayStep } from '../../devtools/sipp/pay-scenario.js';
import { freeMediaPort, freePort } from '../../devtools/ports.js';
import { runSipp, type SippResult } from '../../devtools/sipp/run.js';
import { clipsFor } from '../../src/calls/payment/prompt-clips.js';

/**
 * Capture policy from the configuration file (docs/operations.md, "Capture policy"): a gateway
 * started with TONEGATE_CONFIG whose `capture:` section lowers the attempts to 1 for everyone,
 * gives one merchant 3 attempts back, another a 1-second first-digit timeout, a third RuPay only,
 * a fourth 3 attempts but 1 for the expiry date, a fifth no # after the card number, a sixth 2
 * attempts (a short CVV twice: the caller hears "attempts left: one", then the attempt ends), a
 * seventh 8-digit OTPs only (the demo provider's 6-digit OTP is never texted). Real SIPp calls in
 * transfer mode (RFC 2833 keys) show each setting takes effect, against a control call each.
 */
const POLICY = `
capture:
  maxAttempts: 1
  merchants:
    M-THREE-TRIES: { maxAttempts: 3 }
    M-QUICK: { firstDigitSeconds: 1 }
    M-RUPAY-ONLY: { allowedBrands: [rupay] }
    M-EXPIRY-ONCE: { maxAttempts: 3, fields: { expiry: { maxAttempts: 1 } } }
    M-NO-HASH: { panTerminator: none }
    M-TWO-TRIES: { maxAttempts: 2 }
    M-OTP-8: { otpLength: { min: 8, max: 8 } }
`;
const BAD_LUHN = '4111111111111112';
const VISA = '4111111111111111';
const OTP = '246810';

let gw: Gateway;
let target: string;
let logs: LogSink;
const events: SessionEvent[] = [];

beforeAll(async () => {
  const file = join(mkdtempSync(join(tmpdir(), 'tg-policy-')), 'tonegate.yaml');
  writeFileSync(file, POLICY);
  ({ gw, target, logs } = await startTestGateway({ TONEGATE_CONFIG: file, DEMO_OTP: OTP }));
  await gw.bus.subscribe((e) => void events.push(e));
}, 60_000);
afterAll(async () => {
  await gw?.close();
});

interface Call {
  sipp: SippResult;
  session: SessionRecord;
  events: SessionEvent[];
}

async function call(merchantId: string, steps: PayStep[]): Promise<Call> {
  const headers = payHeaders({ 'X-Pay-Merchant-Id': merchantId });
  const orderRef = headers['X-Pay-Order-Ref']!;
  const sipp = await runSipp({ scenario: payScenario({ headers, steps, byeTimeoutMs: 90_000 }), target, localPort: await freePort(), mediaPort: await freeMediaPort(), timeoutS: 120 }).done;
  const res = await fetch(`http://127.0.0.1:${gw.httpPort}/api/sessions?orderRef=${orderRef}`, { headers: { authorization: `Bearer ${gw.supervisorToken}` } });
  const { sessions } = (await res.json()) as { sessions: SessionRecord[] };
  expect(sessions).toHaveLength(1);
  const session = sessions[0]!;
  return { sipp, session, events: events.filter((e) => e.sessionId === session.id) };
}

const failures = (c: Call): FieldFailedEvent[] => c.events.filter((e): e is FieldFailedEvent => e.type === 'field.failed');
/** From the card number field's start to its first failure, by the events' wall times. */
const untilFailure = (c: Call): number => {
  const started = c.events.find((e) => e.type === 'field.started' && e.field === 'pan')!;
  return Date.parse(failures(c)[0]!.at) - Date.parse(started.at);
};

describe('capture policy from the configuration file', () => {
  let results: Record<'oneTry' | 'threeTries' | 'defaultTimeout' | 'quickTimeout' | 'rupayOnly' | 'expiryOnce' | 'noHash' | 'twoTries' | 'otp8', Call>;
  beforeAll(async () => {
    const card: PayStep[] = [{ pauseMs: 1500 }, { keys: `${BAD_LUHN}#` }, { keys: `${VISA}#` }, { keys: '1230' }, { keys: '123' }, { pauseMs: 3000 }, { keys: OTP }];
    // The same first card number for both: after it, the one-try call is hung up on.
    const [oneTry, threeTries, defaultTimeout, quickTimeout, rupayOnly, expiryOnce, noHash, twoTries, otp8] = await Promise.all([
      call('M-DEMO-01', card.slice(0, 2)),
      call('M-THREE-TRIES', card),
      call('M-DEMO-01', []),
      call('M-QUICK', []),
      call('M-RUPAY-ONLY', [{ pauseMs: 1500 }, { keys: `${VISA}#` }]),
      call('M-EXPIRY-ONCE', [{ pauseMs: 1500 }, { keys: `${BAD_LUHN}#` }, { keys: `${VISA}#` }, { keys: '0120' }]),
      // No #: the card number is taken after the 5 s inter-digit pause.
      call('M-NO-HASH', [{ pauseMs: 1500 }, { keys: VISA }, { pauseMs: 6500 }, { keys: '1230' }, { keys: '123' }, { pauseMs: 3000 }, { keys: OTP }]),
      // A 2-digit CVV (a Visa's has 3) is taken as wrong when the 5 s inter-digit pause runs out; twice.
      call('M-TWO-TRIES', [{ pauseMs: 1500 }, { keys: `${VISA}#` }, { keys: '1230' }, { keys: '12' }, { pauseMs: 9000 }, { keys: '12' }]),
      call('M-OTP-8', [{ pauseMs: 1500 }, ...card.slice(2, 5)]),
    ]);
    results = { oneTry: oneTry!, threeTries: threeTries!, defaultTimeout: defaultTimeout!, quickTimeout: quickTimeout!, rupayOnly: rupayOnly!, expiryOnce: expiryOnce!, noHash: noHash!, twoTries: twoTries!, otp8: otp8! };
  }, 150_000);

  it('capture.maxAttempts 1: one invalid card number ends the attempt', () => {
    const c = results.oneTry;
    expect(c.sipp.code, c.sipp.errors).toBe(0);
    expect(c.session).toMatchObject({ outcome: 'failed', failureReason: 'too-many-attempts', card: null });
    expect(failures(c).map((f) => [f.field, f.reason, f.attemptsLeft])).toEqual([['pan', 'luhn', 0]]);
  });

  it('a merchant override of 3 attempts lets the customer key the card again and pay', () => {
    const c = results.threeTries;
    expect(c.sipp.code, c.sipp.errors).toBe(0);
    expect(c.session).toMatchObject({ outcome: 'paid', card: { brand: 'visa', last4: '1111' } });
    expect(failures(c).map((f) => [f.field, f.reason, f.attemptsLeft])).toEqual([['pan', 'luhn', 2]]);
    // The customer is told what is left (clips en/attempts.left.1, the number, .2).
    expect(c.events.some((e) => e.type === 'prompt.playing' && e.prompts.includes('attempts.left'))).toBe(true);
  });

  it('a merchant override of firstDigitSeconds 1 times out about 9 s sooner than the 10 s default', () => {
    const slow = results.defaultTimeout;
    const quick = results.quickTimeout;
    for (const c of [slow, quick]) {
      expect(c.sipp.code, c.sipp.errors).toBe(0);
      expect(c.session).toMatchObject({ outcome: 'failed', failureReason: 'too-many-attempts' });
      expect(failures(c).map((f) => [f.field, f.reason, f.attemptsLeft])).toEqual([['pan', 'no-input', 0]]);
    }
    // Both include the same card-number prompt before the timer starts.
    expect(untilFailure(slow)).toBeGreaterThanOrEqual(10_000);
    expect(untilFailure(slow) - untilFailure(quick)).toBeGreaterThan(7_000);
    expect(untilFailure(quick)).toBeGreaterThanOrEqual(1_000);
  });

  it('a merchant allow-list of [rupay] refuses a valid Visa card', () => {
    const c = results.rupayOnly;
    expect(c.sipp.code, c.sipp.errors).toBe(0);
    expect(c.session).toMatchObject({ outcome: 'failed', failureReason: 'too-many-attempts', card: null });
    expect(failures(c).map((f) => [f.field, f.reason, f.attemptsLeft])).toEqual([['pan', 'brand-not-allowed', 0]]);
  });

  it('a per-field maxAttempts of 1 for the expiry ends the attempt at the first bad expiry, the card number keeping its 3', () => {
    const c = results.expiryOnce;
    expect(c.sipp.code, c.sipp.errors).toBe(0);
    expect(c.session).toMatchObject({ outcome: 'failed', failureReason: 'too-many-attempts' });
    expect(failures(c).map((f) => [f.field, f.reason, f.attemptsLeft])).toEqual([['pan', 'luhn', 2], ['expiry', 'expired', 0]]);
  });

  it('panTerminator none: the prompt does not ask for #, and a card number ended by a pause pays', () => {
    const c = results.noHash;
    expect(c.sipp.code, c.sipp.errors).toBe(0);
    expect(c.session).toMatchObject({ outcome: 'paid', card: { brand: 'visa', last4: '1111' } });
    const prompts = c.events.flatMap((e) => (e.type === 'prompt.playing' ? e.prompts : []));
    expect(prompts).toContain('enter.pan.no-hash');
    expect(prompts).not.toContain('enter.pan');
    expect(logs.lines.filter((l) => /"level":(40|50)/.test(l) && l.includes(c.session.id))).toEqual([]);
  });

  it('a merchant override of 2 attempts: a wrong CVV, the caller hears "attempts left: one" and keys again; a second wrong CVV ends the attempt', () => {
    const c = results.twoTries;
    expect(c.sipp.code, c.sipp.errors).toBe(0);
    expect(c.session).toMatchObject({ outcome: 'failed', failureReason: 'too-many-attempts' });
    expect(failures(c).map((f) => [f.field, f.attemptsLeft])).toEqual([['cvv', 1], ['cvv', 0]]);
    // After the first failure the prompt says what is left, then asks for the CVV again.
    const firstFailure = c.events.indexOf(failures(c)[0]!);
    const next = c.events.slice(firstFailure).find((e) => e.type === 'prompt.playing');
    expect(next?.type === 'prompt.playing' && next.prompts.slice(-2)).toEqual(['attempts.left', 'enter.cvv']);
    // The clips the gateway played to the caller (log 'prompt clips'): "Attempts left:", "one", ".".
    const played = logs.lines
      .map((l) => JSON.parse(l) as { msg: string; orderRef?: string; clips?: string[] })
      .filter((l) => l.msg === 'prompt clips' && l.orderRef === c.session.orderRef)
      .map((l) => l.clips!.join(' '));
    const attemptsLeftOne = clipsFor({ items: [{ id: 'attempts.left', n: 1 }], language: 'en' });
    expect(attemptsLeftOne).toEqual(['en/attempts.left.1', 'en/w-one', 'en/attempts.left.2']);
    expect(played.filter((p) => p.includes(attemptsLeftOne.join(' ')))).toHaveLength(1);
    // Every clip was there to play (a missing one is logged and skipped).
    expect(logs.lines.filter((l) => l.includes('prompt could not be played') && l.includes(c.session.orderRef))).toEqual([]);
    // The second failure ends the attempt: no "attempts left" again, the too-many outcome instead.
    expect(played.at(-1)).toContain('en/outcome.too-many');
  });

  it('a merchant otpLength of 8-8: the provider\'s 6-digit OTP is never texted; the caller hears the OTP is unavailable and the attempt fails', async () => {
    const c = results.otp8;
    expect(c.sipp.code, c.sipp.errors).toBe(0);
    expect(c.session).toMatchObject({ outcome: 'failed', failureReason: 'otp-unavailable' });
    expect(c.events.filter((e) => e.type === 'provider.issue')).toMatchObject([{ step: 'otp-generate', code: 'otp-length', action: 'ended' }]);
    expect(c.events.some((e) => e.type === 'otp.sent')).toBe(false);
    expect(c.events.flatMap((e) => (e.type === 'prompt.playing' ? e.prompts : []))).toContain('otp.unavailable');
    const res = await fetch(`http://127.0.0.1:${gw.httpPort}/demo/sms`);
    const { messages } = (await res.json()) as { messages: { text: string }[] };
    expect(messages.filter((m) => m.text.includes(c.session.orderRef))).toEqual([]);
    expect(messages.some((m) => m.text.includes(results.threeTries.session.orderRef))).toBe(true); // the control call's OTP was texted
  });
});

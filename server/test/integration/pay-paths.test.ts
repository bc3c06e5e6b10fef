import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEMO_OTP_TEMPLATE } from '../../src/calls/payment/setup.js';
import type { SessionEvent } from '../../src/capture/events.js';
import type { DemoPaymentRecord, DemoSms } from '../../src/demo/index.js';
import type { Gateway } from '../../src/gateway.js';
import { encodeUlaw } from '../../src/media/g711/index.js';
import type { SessionRecord } from '../../src/store/index.js';
import { concat, dtmfSignal, silence, toInt16 } from '../../devtools/dsp/generator.js';
import { startTestGateway, type LogSink } from '../support/gateway.js';
import { payHangupScenario, payHeaders, payRefusedScenario, payReturnScenario, payScenario, type PayStep } from '../../devtools/sipp/pay-scenario.js';
import { freeMediaPort, freePort } from '../../devtools/ports.js';
import { runSipp, type SippResult } from '../../devtools/sipp/run.js';

/**
 * The payment paths of the payment flow ("Tests with real peers"), each a real SIPp call to sip:pay@gateway
 * in transfer mode, against real media workers and the embedded demo provider over HTTP. The calls
 * are independent (own SIPp process, ports and order reference), so they run concurrently; each
 * `it` then checks its own call: the session over REST, the demo provider's own payment record and
 * the SMS sink. The last `it` scans everything the gateway wrote for every card number, CVV and OTP.
 */

const OTP = '246810';
const WRONG_OTP = '135791';
/** Calls in flight at once (2 cores: SIPp is light, the prompts are mixed in one media worker). */
const CONCURRENCY = 8;
/** From the last CVV digit to the first OTP digit: the OTP prompt starts ~50 ms after the CVV (OTP generation + SMS on loopback); margin for a loaded machine. */
const OTP_WAIT_MS = 3000;
/** After a wrong OTP: the provider's validation answers before the field is asked for again. */
const REVALIDATE_MS = 2500;

const CARDS = {
  visa: '4111111111111111',
  mastercard: '5555555555554444',
  amex: '378282246310005',
  /** Mastercard Gateway's NPCI emulator RuPay test card (server/test/unit/capture/validate/brand.test.ts). */
  rupay: '6074849200004917',
  badLuhn: '4111111111111112',
  // The demo provider's test cards (src/demo/seed.ts).
  decline: '4000000000000002',
  serverError: '4000000000000119',
  noAnswer: '4000000000000259',
  rateLimited: '4000000000000333',
} as const;

interface Keyed {
  pan: string;
  expiry?: string;
  cvv?: string;
}

/** Greeting barged in, then the card keyed by RFC 2833 (type-ahead through each prompt). */
const card = ({ pan, expiry = '1230', cvv = '123' }: Keyed): PayStep[] => [{ pauseMs: 1500 }, { keys: `${pan}#` }, { keys: expiry }, { keys: cvv }];
const otp = (code = OTP): PayStep[] => [{ pauseMs: OTP_WAIT_MS }, { keys: code }];

const RETURN_TO = 'sip:queue-7@127.0.0.1:5999';

type Kind = 'pay' | 'hangup' | 'refused' | 'return';

interface Run {
  orderRef: string;
  ms: number;
  sipp: SippResult;
  sessions: SessionRecord[];
  events: SessionEvent[];
  charges: DemoPaymentRecord[];
  sms: DemoSms[];
  warning?: string;
  error?: string;
}

interface Case {
  name: string;
  expected: string;
  kind: Kind;
  steps: () => PayStep[];
  headers?: (h: Record<string, string>) => Record<string, string>;
  /** Every card number, CVV and OTP keyed: the leak scan looks for them. */
  secrets: { pans: string[]; cvvs: string[]; otps: string[]; expiries: string[] };
  check: (r: Run) => void;
}

let gw: Gateway;
let logs: LogSink;
let target: string;
const events: SessionEvent[] = [];
const restAnswers: string[] = [];
const inband: { card?: { file: string; ms: number }; otp?: { file: string; ms: number } } = {};

/** µ-law file of in-band DTMF at -10 dBm0 per tone, 80 ms on / 80 ms off (generator.ts). */
function ulawTones(dir: string, name: string, digits: string): { file: string; ms: number } {
  const pcm = toInt16(concat(silence(100), dtmfSignal(digits, { lowDbm0: -10, onMs: 80, offMs: 80 }), silence(300)));
  const u = new Uint8Array(pcm.length);
  encodeUlaw(pcm, u);
  const file = join(dir, `${name}.ulaw`);
  writeFileSync(file, u);
  return { file, ms: Math.ceil(pcm.length / 8) };
}

const paid = (brand: string, pan: string, transport: 'rfc4733' | 'inband' | 'info' = 'rfc4733') => (r: Run, sms = 1) => {
  const s = one(r);
  expect(s).toMatchObject({ outcome: 'paid', dtmfTransport: transport, card: { brand, first6: pan.slice(0, 6), last4: pan.slice(-4) } });
  expect(r.charges).toHaveLength(1);
  expect(r.charges[0]).toMatchObject({ status: 'approved', confirmed: true, brand, paymentId: s.paymentId, idempotencyKey: s.idempotencyKey });
  expectOtpSms(r, sms);
};

function one(r: Run): SessionRecord {
  expect(r.error, r.error).toBeUndefined();
  const warnings = logs.lines.filter((l) => /"level":(40|50)/.test(l) && (l.includes(r.orderRef) || r.sessions.some((s) => l.includes(s.id))));
  expect(r.sipp.code, [r.sipp.errors, r.sipp.stderr, ...warnings].join('\n')).toBe(0);
  expect(r.sessions).toHaveLength(1);
  return r.sessions[0]!;
}

/** The OTP SMS of this order, under DLT: registered PE ID, header and template, the OTP in the text. */
function expectOtpSms(r: Run, n: number): void {
  expect(r.sms).toHaveLength(n);
  const t = DEMO_OTP_TEMPLATE.template;
  for (const m of r.sms) {
    expect(m).toMatchObject({ to: '+919800000001', peId: t.peId, senderId: t.senderId, templateId: t.templateId });
    expect(m.text).toBe(`${OTP} is your OTP to pay INR 1499.00 for order ${r.orderRef}. Do not share it. - Tonegate`);
  }
}

const failures = (r: Run, field: string) => r.events.flatMap((e) => (e.type === 'field.failed' && e.field === field ? [e.reason] : []));

const secretsOf = (keyed: Keyed[], otps: string[] = [OTP]) => ({
  pans: keyed.map((k) => k.pan),
  cvvs: keyed.map((k) => k.cvv ?? '123'),
  expiries: keyed.map((k) => k.expiry ?? '1230'),
  otps,
});

const CASES: Case[] = [
  {
    name: 'timeout: 4000000000000259 (payment never answers)',
    expected: 'failed (timeout) + reconcile, <=1 charge',
    kind: 'pay',
    steps: () => [...card({ pan: CARDS.noAnswer }), ...otp()],
    secrets: secretsOf([{ pan: CARDS.noAnswer }]),
    check: (r) => {
      const s = one(r);
      // pay.ts: the POST times out, the status query says pending: failed, for operations to reconcile.
      expect(s).toMatchObject({ outcome: 'failed', failureReason: 'timeout', needsReconciliation: true });
      expect(s.idempotencyKey).toBeTruthy();
      // Never charged twice: the provider holds at most one payment for the order, under the recorded key.
      expect(r.charges.length).toBeLessThanOrEqual(1);
      for (const c of r.charges) expect(c).toMatchObject({ status: 'pending', idempotencyKey: s.idempotencyKey });
      // One payment POST, left unanswered (status 0: the client gave up); this is the only such card in the file.
      const posts = gw.payments.demo!.requests().filter((q) => q.method === 'POST' && q.path === '/v1/payments' && q.status === 0);
      expect(posts).toHaveLength(1);
      expect(r.events.filter((e) => e.type === 'provider.issue')).toMatchObject([{ step: 'payment', code: 'timeout', action: 'reconcile' }]);
      expectOtpSms(r, 1);
    },
  },
  {
    name: 'approve Mastercard 5555555555554444',
    expected: 'paid mastercard',
    kind: 'pay',
    steps: () => [...card({ pan: CARDS.mastercard }), ...otp()],
    secrets: secretsOf([{ pan: CARDS.mastercard }]),
    check: paid('mastercard', CARDS.mastercard),
  },
  {
    name: 'approve Amex 378282246310005, 4-digit CVV',
    expected: 'paid amex, CVV asked as 4',
    kind: 'pay',
    steps: () => [...card({ pan: CARDS.amex, cvv: '7391' }), ...otp()],
    secrets: secretsOf([{ pan: CARDS.amex, cvv: '7391' }]),
    check: (r) => {
      paid('amex', CARDS.amex)(r);
      expect(r.events.find((e) => e.type === 'field.started' && e.field === 'cvv')).toMatchObject({ length: { min: 4, max: 4 } });
    },
  },
  {
    name: 'approve RuPay 6074849200004917',
    expected: 'paid rupay',
    kind: 'pay',
    steps: () => [...card({ pan: CARDS.rupay, cvv: '456' }), ...otp()],
    secrets: secretsOf([{ pan: CARDS.rupay, cvv: '456' }]),
    check: paid('rupay', CARDS.rupay),
  },
  {
    name: 'decline 4000000000000002',
    expected: 'declined (do-not-honour)',
    kind: 'pay',
    steps: () => [...card({ pan: CARDS.decline }), ...otp()],
    secrets: secretsOf([{ pan: CARDS.decline }]),
    check: (r) => {
      const s = one(r);
      expect(s).toMatchObject({ outcome: 'declined', failureReason: 'do-not-honour', card: { brand: 'visa', last4: '0002' } });
      expect(s.needsReconciliation).toBeUndefined();
      expect(r.charges).toHaveLength(1);
      expect(r.charges[0]).toMatchObject({ status: 'declined', declineReason: 'do-not-honour', confirmed: false });
      expectOtpSms(r, 1);
    },
  },
  {
    name: 'provider 500: 4000000000000119',
    expected: 'failed (server-error), 0 charges',
    kind: 'pay',
    steps: () => [...card({ pan: CARDS.serverError }), ...otp()],
    secrets: secretsOf([{ pan: CARDS.serverError }]),
    check: (r) => {
      const s = one(r);
      // Each 500 is followed by a status query (not-found: nothing charged) before a retry with the same key.
      expect(s).toMatchObject({ outcome: 'failed', failureReason: 'server-error' });
      expect(s.needsReconciliation).toBeUndefined();
      expect(r.charges).toHaveLength(0);
      expect(r.events.filter((e) => e.type === 'provider.issue')).toMatchObject([{ step: 'payment', code: 'server-error', action: 'ended' }]);
      expectOtpSms(r, 1);
    },
  },
  {
    name: '429 twice then approve: 4000000000000333',
    expected: 'paid visa, one charge, 2 waits',
    kind: 'pay',
    steps: () => [...card({ pan: CARDS.rateLimited }), ...otp()],
    secrets: secretsOf([{ pan: CARDS.rateLimited }]),
    check: (r) => {
      paid('visa', CARDS.rateLimited)(r);
      const key = r.sessions[0]!.idempotencyKey!;
      const waits = logs.lines.filter((l) => l.includes(key) && l.includes('payment rate-limited: waiting Retry-After'));
      expect(waits).toHaveLength(2);
    },
  },
  {
    name: 'wrong OTP then the right one',
    expected: 'paid visa after otp-invalid',
    kind: 'pay',
    steps: () => [...card({ pan: CARDS.visa }), ...otp(WRONG_OTP), { pauseMs: REVALIDATE_MS }, { keys: OTP }],
    secrets: secretsOf([{ pan: CARDS.visa }], [OTP, WRONG_OTP]),
    check: (r) => {
      paid('visa', CARDS.visa)(r);
      expect(failures(r, 'otp')).toEqual(['otp-invalid']);
    },
  },
  {
    name: '* re-entry mid-card',
    expected: 'paid mastercard after * cleared the PAN',
    kind: 'pay',
    steps: () => [{ pauseMs: 1500 }, { keys: '555544*' }, ...card({ pan: CARDS.mastercard }).slice(1), ...otp()],
    secrets: secretsOf([{ pan: CARDS.mastercard }]),
    check: (r) => {
      paid('mastercard', CARDS.mastercard)(r);
      expect(r.events.filter((e) => e.type === 'field.cleared' && e.by === 'customer')).toMatchObject([{ field: 'pan' }]);
      expect(failures(r, 'pan')).toEqual([]);
    },
  },
  {
    name: 'invalid Luhn then a valid card',
    expected: 'paid visa after luhn failure',
    kind: 'pay',
    steps: () => [{ pauseMs: 1500 }, { keys: `${CARDS.badLuhn}#` }, ...card({ pan: CARDS.visa }).slice(1), ...otp()],
    secrets: secretsOf([{ pan: CARDS.badLuhn }, { pan: CARDS.visa }]),
    check: (r) => {
      paid('visa', CARDS.visa)(r);
      expect(failures(r, 'pan')).toEqual(['luhn']);
    },
  },
  {
    name: 'expired card 0120 then a valid expiry',
    expected: 'paid visa after expired',
    kind: 'pay',
    steps: () => [...card({ pan: CARDS.visa, expiry: '0120' }).slice(0, 3), { keys: '1230' }, { keys: '123' }, ...otp()],
    secrets: secretsOf([{ pan: CARDS.visa, expiry: '0120' }, { pan: CARDS.visa }]),
    check: (r) => {
      paid('visa', CARDS.visa)(r);
      expect(failures(r, 'expiry')).toEqual(['expired']);
    },
  },
  {
    name: 'customer hangs up mid-card (SIPp BYE)',
    expected: 'abandoned (customer-hung-up)',
    kind: 'hangup',
    steps: () => [{ pauseMs: 1500 }, { keys: '411111' }, { pauseMs: 300 }],
    secrets: secretsOf([]), // six digits keyed: no more than a first 6
    check: (r) => {
      const s = one(r);
      expect(s).toMatchObject({ outcome: 'abandoned', failureReason: 'customer-hung-up', card: null });
      expect(r.events.filter((e) => e.type === 'digit.entered').length).toBeGreaterThan(0);
      expect(r.charges).toHaveLength(0);
      expect(r.sms).toHaveLength(0);
    },
  },
  {
    name: 'customer hangs up while the payment is in flight (429 card)',
    expected: 'paid (the provider decides), no BYE back',
    kind: 'hangup',
    // The payment takes ~2 s here (two 429s with Retry-After: 1); the BYE leaves ~1 s after the last OTP digit.
    steps: () => [...card({ pan: CARDS.rateLimited }), ...otp(), { pauseMs: 500 }],
    secrets: secretsOf([{ pan: CARDS.rateLimited }]),
    check: (r) => {
      const s = one(r);
      expect(s).toMatchObject({ outcome: 'paid' });
      expect(s.failureReason).toBeUndefined();
      expect(r.charges).toMatchObject([{ status: 'approved', confirmed: true, paymentId: s.paymentId }]);
      expectOtpSms(r, 1);
      // Hung up during Paying: no outcome prompt for nobody.
      expect(r.events.filter((e) => e.type === 'prompt.playing').at(-1)).toMatchObject({ prompts: ['processing'] });
    },
  },
  {
    name: '# during OTP entry: a new OTP, then paid',
    expected: 'paid visa, 2 OTP SMS',
    kind: 'pay',
    steps: () => [...card({ pan: CARDS.visa }), { pauseMs: OTP_WAIT_MS }, { keys: '#' }, { pauseMs: REVALIDATE_MS }, { keys: OTP }],
    secrets: secretsOf([{ pan: CARDS.visa }]),
    check: (r) => {
      paid('visa', CARDS.visa)(r, 2);
      expect(r.events.filter((e) => e.type === 'otp.sent').map((e) => e.resend)).toEqual([0, 1]);
    },
  },
  {
    name: 'three invalid card numbers',
    expected: 'failed (too-many-attempts)',
    kind: 'pay',
    steps: () => [{ pauseMs: 1500 }, { keys: `${CARDS.badLuhn}#` }, { keys: `${CARDS.badLuhn}#` }, { keys: `${CARDS.badLuhn}#` }],
    secrets: secretsOf([{ pan: CARDS.badLuhn }]),
    check: (r) => {
      const s = one(r);
      expect(s).toMatchObject({ outcome: 'failed', failureReason: 'too-many-attempts', card: null });
      expect(failures(r, 'pan')).toEqual(['luhn', 'luhn', 'luhn']);
      expect(r.charges).toHaveLength(0);
      expect(r.sms).toHaveLength(0);
    },
  },
  {
    name: 'INVITE without X-Pay-Amount',
    expected: '400, Warning names X-Pay-Amount',
    kind: 'refused',
    steps: () => [],
    headers: ({ 'X-Pay-Amount': _drop, ...h }) => h,
    secrets: secretsOf([]),
    check: (r) => {
      expect(r.error, r.error).toBeUndefined();
      expect(r.sipp.code, `${r.sipp.errors}${r.sipp.stderr}`).toBe(0);
      expect(r.warning).toMatch(/^399 tonegate "X-Pay-Amount: /);
      expect(r.sessions).toHaveLength(0);
    },
  },
  {
    name: 'INVITE with X-Pay-Amount 1499.001',
    expected: '400, Warning names X-Pay-Amount',
    kind: 'refused',
    steps: () => [],
    headers: (h) => ({ ...h, 'X-Pay-Amount': '1499.001' }),
    secrets: secretsOf([]),
    check: (r) => {
      expect(r.error, r.error).toBeUndefined();
      expect(r.sipp.code, `${r.sipp.errors}${r.sipp.stderr}`).toBe(0);
      expect(r.warning).toMatch(/^399 tonegate "X-Pay-Amount: /);
      expect(r.sessions).toHaveLength(0);
    },
  },
  {
    name: 'INVITE with an X-Pay-Order-Ref of 31 characters (the OTP SMS carries it: DLT allows 30)',
    expected: '400 before any prompt, Warning names X-Pay-Order-Ref',
    kind: 'refused',
    steps: () => [],
    headers: (h) => ({ ...h, 'X-Pay-Order-Ref': `ORD-${'7'.repeat(27)}` }),
    secrets: secretsOf([]),
    check: (r) => {
      expect(r.error, r.error).toBeUndefined();
      expect(r.sipp.code, `${r.sipp.errors}${r.sipp.stderr}`).toBe(0);
      expect(r.warning).toMatch(/^399 tonegate "X-Pay-Order-Ref: longer than 30 characters/);
      expect(r.sessions).toHaveLength(0);
    },
  },
  {
    name: 'in-band DTMF (PCMU tones, -10 dBm0, 80/80 ms)',
    expected: 'paid visa, dtmfTransport inband',
    kind: 'pay',
    steps: () => [
      { pauseMs: 1500 },
      { ulaw: inband.card!.file, ms: inband.card!.ms + 200 },
      { pauseMs: OTP_WAIT_MS },
      { ulaw: inband.otp!.file, ms: inband.otp!.ms + 200 },
    ],
    secrets: secretsOf([{ pan: CARDS.visa, cvv: '321' }]),
    check: paid('visa', CARDS.visa, 'inband'),
  },
  {
    name: 'SIP INFO digits (application/dtmf-relay, RFC 6086 legacy)',
    expected: 'paid visa, dtmfTransport info',
    kind: 'pay',
    steps: () => [{ pauseMs: 1500 }, { info: `${CARDS.visa}#` }, { info: '1230' }, { info: '123' }, { pauseMs: OTP_WAIT_MS }, { info: OTP }],
    secrets: secretsOf([{ pan: CARDS.visa }]),
    check: paid('visa', CARDS.visa, 'info'),
  },
  {
    name: 'X-Pay-Language: hi (Hindi prompts)',
    expected: 'paid visa; every Hindi clip found',
    kind: 'pay',
    headers: (h) => ({ ...h, 'X-Pay-Language': 'hi' }),
    steps: () => [...card({ pan: CARDS.visa }), ...otp()],
    secrets: secretsOf([{ pan: CARDS.visa }]),
    check: (r) => {
      paid('visa', CARDS.visa)(r); // fails on any warning of this order, "prompt could not be played" included
      expect(r.events.find((e) => e.type === 'session.started')).toMatchObject({ language: 'hi' });
      expect(r.events.filter((e) => e.type === 'prompt.playing').length).toBeGreaterThan(4);
    },
  },
  {
    name: `X-Pay-Return-To ${RETURN_TO}`,
    expected: 'paid visa, then REFER back (202 + NOTIFY 200), then BYE',
    kind: 'return',
    headers: (h) => ({ ...h, 'X-Pay-Return-To': RETURN_TO }),
    steps: () => [...card({ pan: CARDS.visa }), ...otp()],
    secrets: secretsOf([{ pan: CARDS.visa }]),
    check: paid('visa', CARDS.visa),
  },
];

async function rest<T>(path: string, auth = true): Promise<T> {
  const res = await fetch(`http://127.0.0.1:${gw.httpPort}${path}`, auth ? { headers: { authorization: `Bearer ${gw.supervisorToken}` } } : {});
  const text = await res.text();
  if (auth) restAnswers.push(text); // /demo/sms is the customer's phone: it holds the OTP by design
  expect(res.status, text).toBe(200);
  return JSON.parse(text) as T;
}

/** Local SIP and media ports handed out so far: concurrent calls never share one. */
const taken = new Set<number>();
async function uniquePort(get: () => Promise<number>): Promise<number> {
  for (;;) {
    const p = await get();
    if (![p, p + 1, p + 2, p + 3].some((q) => taken.has(q))) {
      for (const q of [p, p + 1, p + 2, p + 3]) taken.add(q);
      return p;
    }
  }
}

async function runCase(c: Case): Promise<Run> {
  const base = payHeaders();
  const orderRef = base['X-Pay-Order-Ref']!;
  const headers = c.headers ? c.headers(base) : base;
  const logFile = join(mkdtempSync(join(tmpdir(), 'pay-paths-')), 'sipp.log');
  const scenario =
    c.kind === 'refused'
      ? payRefusedScenario({ headers, status: 400 })
      : c.kind === 'hangup'
        ? payHangupScenario({ headers, steps: c.steps() })
        : c.kind === 'return'
          ? payReturnScenario({ headers, steps: c.steps(), returnTo: RETURN_TO })
          : payScenario({ headers, steps: c.steps(), byeTimeoutMs: 90_000 });
  const localPort = await uniquePort(freePort);
  const mediaPort = await uniquePort(freeMediaPort);
  const t0 = performance.now();
  const sipp = await runSipp({
    scenario,
    target,
    localPort,
    mediaPort,
    timeoutS: 180,
    ...(c.kind === 'refused' ? { extra: ['-trace_logs', '-log_file', logFile] } : {}),
  }).done;
  const ms = Math.round(performance.now() - t0);
  const { sessions } = await rest<{ sessions: SessionRecord[] }>(`/api/sessions?orderRef=${encodeURIComponent(orderRef)}`);
  const ids = new Set(sessions.map((s) => s.id));
  const { messages } = await rest<{ messages: DemoSms[] }>('/demo/sms', false);
  const warning = existsSync(logFile) ? /Warning=(.*)/.exec(readFileSync(logFile, 'utf8'))?.[1]?.trim() : undefined;
  return {
    orderRef,
    ms,
    sipp,
    sessions,
    events: events.filter((e) => ids.has(e.sessionId)),
    charges: gw.payments.demo!.payments().filter((p) => p.orderRef === orderRef),
    sms: messages.filter((m) => m.text.includes(`order ${orderRef}.`)),
    ...(warning !== undefined ? { warning } : {}),
  };
}

/** What the call came to, for the table. */
function got(r: Run | undefined): string {
  if (!r) return '(not run)';
  if (r.error) return `error: ${r.error}`;
  if (r.sipp.code !== 0) return `sipp exit ${r.sipp.code}: ${(r.sipp.errors || r.sipp.stderr).split('\n').find((l) => l.trim()) ?? ''}`.slice(0, 80);
  if (r.warning !== undefined) return `400 Warning: ${r.warning}`;
  const s = r.sessions[0];
  if (!s) return 'no session';
  const why = [s.failureReason, s.needsReconciliation ? 'reconcile' : ''].filter(Boolean).join(', ');
  const card = s.card ? ` ${s.card.brand} ${s.card.first6}..${s.card.last4}` : '';
  return `${s.outcome}${why ? ` (${why})` : ''}${card} ${s.dtmfTransport ?? ''}, charges ${r.charges.map((c) => c.status).join('+') || 0}`;
}

/** Runs the cases `CONCURRENCY` at a time, in table order (the slow ones first). Never rejects. */
function runAll(cases: Case[]): Map<Case, Promise<Run>> {
  const out = new Map<Case, Promise<Run>>();
  let slots = CONCURRENCY;
  const waiting: (() => void)[] = [];
  const acquire = () => (slots > 0 ? (slots--, Promise.resolve()) : new Promise<void>((r) => waiting.push(r)));
  const release = () => {
    const next = waiting.shift();
    if (next) next();
    else slots++;
  };
  for (const c of cases) {
    out.set(
      c,
      acquire()
        .then(() => runCase(c))
        .catch((err: unknown) => ({ error: String(err) }) as Run)
        .finally(release),
    );
  }
  return out;
}

let runs: Map<Case, Promise<Run>>;
const started = performance.now();

beforeAll(async () => {
  ({ gw, logs, target } = await startTestGateway({ DEMO_OTP: OTP }));
  await gw.bus.subscribe((e) => void events.push(e));
  const dir = mkdtempSync(join(tmpdir(), 'pay-inband-'));
  inband.card = ulawTones(dir, 'card', `${CARDS.visa}#1230321`);
  inband.otp = ulawTones(dir, 'otp', OTP);
  runs = runAll(CASES);
});

afterAll(async () => {
  if (runs) {
    const rows = await Promise.all(CASES.map(async (c) => ({ c, r: await runs.get(c) })));
    const w = [Math.max(...rows.map((x) => x.c.name.length)), Math.max(...rows.map((x) => x.c.expected.length))];
    const line = (a: string, b: string, g: string, ms: string) => `${a.padEnd(w[0]!)} | ${b.padEnd(w[1]!)} | ${g} | ${ms}`;
    console.log(
      [
        line('case', 'expected', 'got', 'ms'),
        ...rows.map(({ c, r }) => line(c.name, c.expected, got(r), String(r?.ms ?? '-'))),
        `wall ${Math.round(performance.now() - started)} ms, ${CONCURRENCY} calls at a time`,
      ].join('\n'),
    );
  }
  await gw?.close();
});

describe('payment paths over real SIPp calls, media workers and the demo provider', () => {
  for (const c of CASES) {
    it(`${c.name}: ${c.expected}`, async () => c.check(await runs.get(c)!), 300_000);
  }

  it('no PAN, CVV, expiry or OTP in any log line, event, REST answer or store record', async () => {
    await Promise.all(runs.values());
    expect(gw.paymentCalls.live.size).toBe(0); // every call (the hung-up one too) released
    expect(gw.payments.demo!.heldRequests()).toBe(0);
    const media = await gw.media.stats();
    expect({ bridges: media.bridges, ports: media.ports.allocated }).toEqual({ bridges: 0, ports: 0 });
    const { sessions } = await rest<{ sessions: SessionRecord[] }>('/api/sessions');
    expect(sessions.length).toBeGreaterThanOrEqual([...runs.keys()].filter((c) => c.kind !== 'refused').length);
    // pino's epoch-ms "time" carries nothing but digits of the clock: left out so a 6-digit OTP cannot match it by chance.
    const everything = [
      ...logs.lines.map((l) => l.replace(/"time":\d+,?/, '')),
      JSON.stringify(events),
      ...restAnswers,
      JSON.stringify(await gw.store.list()),
    ].join('\n');
    const hits: string[] = [];
    for (const c of CASES) {
      const { pans, cvvs, expiries, otps } = c.secrets;
      // A PAN in full, or more of it than first 6 + last 4 (all but the last 4; all but the first 6).
      const long = [...pans.flatMap((p) => (p.length >= 13 ? [p, p.slice(0, -4), p.slice(6)] : [p])), ...otps];
      for (const s of long) if (everything.includes(s)) hits.push(`${c.name}: ${s}`);
      // 3-4 digits occur everywhere (ports, durations): look for them as digit strings, or after a card-field key.
      for (const s of [...cvvs, ...expiries]) {
        if (everything.includes(`"${s}"`) || new RegExp(`(cvv|cvc|cid|expiry|exp)["']?\\s*[:=]\\s*["']?${s}`, 'i').test(everything)) hits.push(`${c.name}: ${s}`);
      }
    }
    expect(/"(pan|cvv|cvc|otp|expiry|cardNumber)"\s*:\s*"\d/i.test(everything), 'a card field by name').toBe(false);
    expect(hits, hits.join('\n')).toEqual([]);
  }, 300_000);
});

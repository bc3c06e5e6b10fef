import { Writable } from 'node:stream';
import type { CapturePayments, CaptureSession, CaptureSms, OtpSmsTemplate, PromptSpec, SessionEvent } from '../../../src/capture/index.js';
import { CaptureSession as Session, type CaptureSessionDeps } from '../../../src/capture/index.js';
import type { Transaction } from '../../../src/handoff/index.js';
import { createLogger } from '../../../src/observability/logger.js';
import { ProviderError } from '../../../src/providers/errors.js';
import { renderDlt } from '../../../src/providers/dlt.js';
import type { IssuedOtp } from '../../../src/providers/payment-client.js';
import type { PaymentDecision, PaymentRequest } from '../../../src/providers/pay.js';
import type { SmsMessage, SmsSent } from '../../../src/providers/sms-client.js';
import { SensitiveDigits } from '../../../src/security/sensitive-digits.js';
import { MemoryEventBus, MemorySessionStore, type Outcome } from '../../../src/store/index.js';
import { FakeClock } from '../../support/fake-clock.js';

export const TXN: Transaction = { amount: '1499.00', currency: 'INR', merchantId: 'M-DEMO-01', orderRef: 'ORD-1001', customerMobile: '+919800000001', agentId: 'agent-1' };

export const OTP_TEMPLATE: OtpSmsTemplate = {
  template: {
    templateId: '1107161234567890123',
    peId: '1101159876543210987',
    senderId: 'TNGATE',
    text: '{#var#} is your OTP to pay {#var#} {#var#} for order {#var#}. Do not share it. - Tonegate',
  },
  vars: ['otp', 'currency', 'amount', 'orderRef'],
};

/** The call side: records what the session asked for; plays prompts out on the next microtask unless told not to. */
export class FakePort {
  plays: PromptSpec[] = [];
  stops = 0;
  modes: string[] = [];
  ends: Outcome[] = [];
  autoDone = true;
  session: CaptureSession | undefined;

  play(p: PromptSpec): void {
    this.plays.push(p);
    if (this.autoDone) queueMicrotask(() => this.session?.onPromptDone(p.token));
  }
  stopPrompt(): void {
    this.stops++;
  }
  setMode(m: 'capture' | 'normal'): void {
    this.modes.push(m);
  }
  end(o: Outcome): void {
    this.ends.push(o);
  }
  /** Ids of every prompt played, flattened. */
  heard(): string[] {
    return this.plays.flatMap((p) => p.items.map((i) => (typeof i === 'string' ? i : 'id' in i ? i.id : `amount:${i.amount}`)));
  }
}

type Step<T> = T | ProviderError | (() => Promise<T>);

/** A scripted payment provider; every OTP it issues is kept to check it was wiped. */
export class FakePayments implements CapturePayments {
  breaker: { state: string; refusing: boolean } = { state: 'closed', refusing: false };
  otp = '918273';
  issued: SensitiveDigits[] = [];
  generate: Step<'ok'>[] = [];
  validate: Step<'check'>[] = [];
  decisions: ((req: PaymentRequest) => PaymentDecision | Promise<PaymentDecision>)[] = [];
  confirmFails: ProviderError | undefined;
  payCalls: { pan: string; expiry: string; cvv: string; key: string | undefined }[] = [];
  attemptsLeft = 3;

  async generateOtp(): Promise<IssuedOtp> {
    const s = this.generate.shift() ?? 'ok';
    if (s instanceof ProviderError) throw s;
    if (typeof s === 'function') await s();
    const otp = SensitiveDigits.fromString(this.otp);
    this.issued.push(otp);
    return { otpId: `otp_${this.issued.length}`, otp, length: this.otp.length, expiresAt: new Date(Date.now() + 300_000) };
  }

  async validateOtp(_id: string, keyed: SensitiveDigits) {
    const s = this.validate.shift() ?? 'check';
    if (s instanceof ProviderError) throw s;
    if (typeof s === 'function') await s();
    if (keyed.revealForProvider() === this.otp) return { status: 'valid' as const, attemptsLeft: this.attemptsLeft };
    this.attemptsLeft = Math.max(0, this.attemptsLeft - 1);
    return { status: 'invalid' as const, attemptsLeft: this.attemptsLeft };
  }

  async pay(req: PaymentRequest): Promise<PaymentDecision> {
    const { pan, expiry, cvv } = req.card;
    this.payCalls.push({ pan: pan.revealForProvider(), expiry: expiry.revealForProvider(), cvv: cvv.revealForProvider(), key: req.idempotencyKey });
    const d = this.decisions.shift();
    if (d) return d(req);
    return { outcome: 'approved', paymentId: 'pay_1', idempotencyKey: req.idempotencyKey!, attempts: 1 };
  }

  async confirm(paymentId: string) {
    if (this.confirmFails) throw this.confirmFails;
    return { paymentId, status: 'confirmed' as const };
  }
}

/** An SMS client that renders the DLT template for real and keeps the texts. */
export class FakeSms implements CaptureSms {
  texts: string[] = [];
  script: (Error | 'ok')[] = [];
  async send(msg: SmsMessage): Promise<SmsSent> {
    const text = renderDlt(msg.template, msg.vars);
    const s = this.script.shift() ?? 'ok';
    if (s instanceof Error) throw s;
    this.texts.push(text);
    return { route: 'primary', messageId: `sms_${this.texts.length}`, failedRoutes: [] };
  }
}

export const flush = async (n = 5): Promise<void> => {
  for (let i = 0; i < n; i++) await new Promise((r) => setImmediate(r));
};

export interface Harness {
  session: CaptureSession;
  port: FakePort;
  payment: FakePayments;
  sms: FakeSms;
  clock: FakeClock;
  store: MemorySessionStore;
  events: SessionEvent[];
  logs: string[];
  digits: SensitiveDigits[];
  /** Keys a string of DTMF, flushing the async steps after each key. */
  key(keys: string, transport?: 'rfc4733' | 'inband' | 'info'): Promise<void>;
  types(): string[];
  of<T extends SessionEvent['type']>(type: T): Extract<SessionEvent, { type: T }>[];
}

export function harness(o: Partial<CaptureSessionDeps> & { payment?: FakePayments; sms?: FakeSms; port?: FakePort } = {}): Harness {
  const clock = new FakeClock();
  const port = o.port ?? new FakePort();
  const payment = o.payment ?? new FakePayments();
  const sms = o.sms ?? new FakeSms();
  const store = new MemorySessionStore({ clock });
  const bus = new MemoryEventBus<SessionEvent>({ clock });
  const events: SessionEvent[] = [];
  void bus.subscribe((e) => events.push(e));
  const logs: string[] = [];
  const logger = createLogger('trace', new Writable({ write: (c: Buffer, _e, cb) => (logs.push(c.toString()), cb()) }));
  const digits: SensitiveDigits[] = [];
  const session = new Session({
    txn: TXN,
    port,
    payment,
    sms,
    templates: { otp: OTP_TEMPLATE },
    clock,
    bus,
    store,
    logger,
    nowEpochMs: () => Date.UTC(2025, 5, 15, 10, 0, 0),
    digits: (cap) => {
      const d = new SensitiveDigits(cap);
      digits.push(d);
      return d;
    },
    ...o,
  });
  port.session = session;
  return {
    session,
    port,
    payment,
    sms,
    clock,
    store,
    events,
    logs,
    digits,
    async key(keys, transport = 'rfc4733') {
      for (const k of keys) {
        session.onDigit(k, transport);
        await flush();
      }
    },
    types: () => events.map((e) => e.type),
    of: <T extends SessionEvent['type']>(type: T) => events.filter((e): e is Extract<SessionEvent, { type: T }> => e.type === type),
  };
}

/** Start, let the greeting play out, key the card. */
export async function toOtp(h: Harness, pan = '4111111111111111', expiry = '1230', cvv = '913'): Promise<void> {
  await h.session.start();
  await flush();
  await h.key(`${pan}#${expiry}${cvv}`);
}

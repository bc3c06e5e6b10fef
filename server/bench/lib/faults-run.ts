/**
 * One complete payment as bench:faults drives it: a PayCustomer keying by one DTMF transport,
 * optionally with its RTP through a LossProxy, that answers re-prompts like a patient customer (it
 * keys the field again when the gateway asks again). Tallies, per field, the digits keyed and the
 * digits the gateway reported (`digit.entered` counts on the supervisor's `/events`).
 */
import { BENCH_OTP, type EventTap, type Ev } from './capture-run.js';
import { LossProxy, type LossProxyStats } from './loss-proxy.js';
import { PayCustomer } from './pay-customer.js';
import type { RxStats } from './rx-counter.js';
import { sleep } from '../../devtools/procs.js';

export type Transport = 'rfc4733' | 'inband' | 'info';
export const FIELDS = ['pan', 'expiry', 'cvv', 'otp'] as const;
export type Field = (typeof FIELDS)[number];

export interface FieldTally {
  /** Digits keyed (every attempt; `#` not counted). */
  expected: number;
  /** Digits the gateway reported into the field (`digit.entered` count at the attempt's end). */
  entered: number;
  /** Per attempt: keyed minus reported, when positive. */
  lost: number;
  /** Per attempt: reported minus keyed, when positive. */
  extra: number;
  /** Times the field was asked again after a failure. */
  reprompts: number;
}

export interface FaultPaymentResult {
  orderRef: string;
  outcome: string | undefined;
  reason: string | undefined;
  needsReconciliation: boolean;
  /** Harness-side problem (no answer, no event in time). */
  error: string | undefined;
  fields: Record<Field, FieldTally>;
  /** Key -> digit.entered (ms), for attempts where every keyed digit was reported. */
  digitMs: number[];
  /** `step:code:action` of every provider.issue event. */
  issues: string[];
  /** Why fields failed (`field:reason`). */
  fieldFailures: string[];
  proxy: LossProxyStats | undefined;
  rx: RxStats;
  infoOk: boolean;
}

export interface FaultPaymentOptions {
  transport: Transport;
  /** RTP through a loss proxy with these settings. */
  loss?: { loss: number; reorder: number; seed: number };
  orderPrefix: string;
  /** How long to wait for the outcome after the OTP (slow providers). */
  outcomeTimeoutMs?: number;
}

const PLAN: [Field, string][] = [['pan', '4111111111111111#'], ['expiry', '1230'], ['cvv', '123'], ['otp', BENCH_OTP]];
const emptyTally = (): FieldTally => ({ expected: 0, entered: 0, lost: 0, extra: 0, reprompts: 0 });

export async function faultPayment(sip: { host: string; port: number }, tap: EventTap, i: number, o: FaultPaymentOptions): Promise<FaultPaymentResult> {
  const orderRef = `${o.orderPrefix}-${i}`;
  const proxy = o.loss ? await LossProxy.open(o.loss) : undefined;
  const c = await PayCustomer.open(sip, { ...(proxy ? { rtpVia: proxy } : {}), telephoneEvent: o.transport !== 'inband' });
  const fields = { pan: emptyTally(), expiry: emptyTally(), cvv: emptyTally(), otp: emptyTally() };
  const res: FaultPaymentResult = {
    orderRef, outcome: undefined, reason: undefined, needsReconciliation: false, error: undefined, fields, digitMs: [], issues: [], fieldFailures: [], proxy: undefined, rx: c.rxStats(), infoOk: true,
  };
  const seqOf = (e: Ev): number => e.seq ?? 0;
  const events = (): Ev[] => {
    const id = tap.sessionOf.get(orderRef);
    return (id && tap.bySession.get(id)) || [];
  };
  const key = async (keys: string): Promise<void> => {
    if (o.transport === 'rfc4733') await c.keysRfc4733(keys);
    else if (o.transport === 'inband') await c.keysInband(keys);
    else if (!(await c.keysInfo(keys))) res.infoOk = false;
  };
  try {
    const status = await c.call({
      'X-Pay-Amount': '1499.00', 'X-Pay-Currency': 'INR', 'X-Pay-Merchant-Id': 'M-BENCH', 'X-Pay-Order-Ref': orderRef, 'X-Pay-Customer-Mobile': '+919800000001',
    });
    if (status !== 200) throw new Error(`INVITE answered ${status}`);
    let lastSeq = 0;
    fields: for (const [f, keys] of PLAN) {
      for (let attempt = 1; ; attempt++) {
        const started = await tap.waitFor(orderRef, (e) => seqOf(e) > lastSeq && ((e.type === 'field.started' && e.field === f) || e.type === 'session.ended'), 90_000);
        if (started.type === 'session.ended') break fields;
        lastSeq = seqOf(started);
        if (attempt > 1) fields[f].reprompts++;
        const before = c.keys.length;
        await key(keys);
        const sent = c.keys.slice(before).filter((k) => /\d/.test(k.key));
        const done = await tap.waitFor(
          orderRef,
          (e) => seqOf(e) > lastSeq && ((e.field === f && (e.type === 'field.completed' || e.type === 'field.failed')) || e.type === 'session.ended'),
          90_000,
        );
        const window = events().filter((e) => seqOf(e) > lastSeq && seqOf(e) <= seqOf(done) && e.type === 'digit.entered' && e.field === f);
        const entered = Math.max(0, ...window.map((e) => e.count ?? 0));
        const t = fields[f];
        t.expected += sent.length;
        t.entered += entered;
        t.lost += Math.max(0, sent.length - entered);
        t.extra += Math.max(0, entered - sent.length);
        if (entered === sent.length) {
          for (let n = 0; n < sent.length; n++) {
            const e = window.find((x) => x.count === n + 1);
            if (e) res.digitMs.push(e.receivedAt - sent[n]!.firstAt);
          }
        }
        lastSeq = seqOf(done);
        if (done.type === 'field.failed') res.fieldFailures.push(`${f}:${done.reason ?? '?'}`);
        if (done.type !== 'field.failed') break;
      }
    }
    const ended = await tap.waitFor(orderRef, (e) => e.type === 'session.ended', o.outcomeTimeoutMs ?? 120_000);
    res.outcome = ended.outcome;
    res.reason = ended.reason;
    res.needsReconciliation = ended.needsReconciliation === true;
    const bye = await Promise.race([c.byeReceived.then(() => true), sleep(20_000).then(() => false)]);
    if (!bye) c.bye();
  } catch (err) {
    res.error = (err as Error).message;
    c.bye();
  } finally {
    res.issues = events().filter((e) => e.type === 'provider.issue').map((e) => `${e.step}:${e.code}:${e.action}`);
    res.rx = c.rxStats();
    res.proxy = proxy ? { ...proxy.stats } : undefined;
    c.close();
    proxy?.close();
  }
  return res;
}

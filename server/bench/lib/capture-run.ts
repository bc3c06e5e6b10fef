/**
 * Complete payments as a bench drives them (bench:capture, bench:scale): PayCustomers through a
 * SIP target (a gateway or Kamailio in front of several), and a supervisor connection on `/events`
 * that notes when each event arrived.
 */
import WebSocket from 'ws';
import { PayCustomer } from './pay-customer.js';
import { cpuSeconds, rssBytes } from './procs.js';
import { sleep } from '../../devtools/procs.js';
import { pct } from './report.js';

export const BENCH_OTP = '482913';
export const BENCH_TOKEN = 'bench-supervisor-token';
const OTP = BENCH_OTP;
const TOKEN = BENCH_TOKEN;
const nowMs = (): number => performance.timeOrigin + performance.now();

export interface Ev {
  type: string; sessionId: string; at?: string; orderRef?: string; field?: string; count?: number; outcome?: string; receivedAt: number;
  // further fields some events carry (server/src/capture/events.ts), read by bench:faults
  seq?: number; attempt?: number; reason?: string; attemptsLeft?: number; needsReconciliation?: boolean; step?: string; code?: string; action?: string;
}

/** Every event of the supervisor connection, by session, with its arrival time. */
export class EventTap {
  readonly bySession = new Map<string, Ev[]>();
  readonly sessionOf = new Map<string, string>();
  private waiters: (() => void)[] = [];
  constructor(private readonly ws: WebSocket) {
    ws.on('message', (data) => {
      const at = nowMs();
      let m: Ev;
      try {
        m = { ...(JSON.parse(String(data)) as Omit<Ev, 'receivedAt'>), receivedAt: at };
      } catch {
        return;
      }
      if (process.env.BENCH_DEBUG) process.stderr.write(`ev ${m.type} ${m.field ?? ''} ${m.count ?? ''}\n`);
      if (!m.sessionId) return;
      if (m.type === 'session.started' && m.orderRef) this.sessionOf.set(m.orderRef, m.sessionId);
      const list = this.bySession.get(m.sessionId) ?? [];
      list.push(m);
      this.bySession.set(m.sessionId, list);
      for (const w of this.waiters.splice(0)) w();
    });
  }

  static async open(httpPort: number): Promise<EventTap> {
    const ws = new WebSocket(`ws://127.0.0.1:${httpPort}/events`);
    await new Promise<void>((resolve, reject) => {
      ws.once('open', () => resolve());
      ws.once('error', reject);
    });
    const tap = new EventTap(ws);
    const ready = new Promise<void>((resolve, reject) => {
      ws.once('message', (d) => (String(d).includes('"ready"') ? resolve() : reject(new Error(`events socket: ${String(d).slice(0, 200)}`))));
    });
    ws.send(JSON.stringify({ type: 'auth', token: TOKEN }));
    await ready;
    return tap;
  }

  /** Resolves with the first event of the order's session matching `pred` (after `from` events). */
  async waitFor(orderRef: string, pred: (e: Ev) => boolean, timeoutMs: number): Promise<Ev> {
    const end = Date.now() + timeoutMs;
    for (;;) {
      const id = this.sessionOf.get(orderRef);
      const hit = id ? this.bySession.get(id)?.find(pred) : undefined;
      if (hit) return hit;
      if (Date.now() > end) throw new Error(`no matching event for ${orderRef} within ${timeoutMs} ms`);
      await new Promise<void>((r) => {
        this.waiters.push(r);
        setTimeout(r, 200);
      });
    }
  }

  close(): void {
    this.ws.close();
  }
}

export interface CallResult {
  ok: boolean;
  error?: string;
  outcome?: string;
  digitMs: number[];
  digitFromEndMs: number[];
  otpToOutcomeMs?: number;
}

export async function onePayment(sip: { host: string; port: number }, tap: EventTap, i: number): Promise<CallResult> {
  const orderRef = `BENCH-${Date.now()}-${i}`;
  const c = await PayCustomer.open(sip);
  const res: CallResult = { ok: false, digitMs: [], digitFromEndMs: [] };
  try {
    const status = await c.call({
      'X-Pay-Amount': '1499.00', 'X-Pay-Currency': 'INR', 'X-Pay-Merchant-Id': 'M-BENCH', 'X-Pay-Order-Ref': orderRef, 'X-Pay-Customer-Mobile': '+919800000001',
    });
    if (status !== 200) throw new Error(`INVITE answered ${status}`);
    const field = (f: string) => (e: Ev): boolean => e.type === 'field.started' && e.field === f;
    const plan: [string, string][] = [['pan', '4111111111111111#'], ['expiry', '1230'], ['cvv', '123'], ['otp', OTP]];
    for (const [f, keys] of plan) {
      await tap.waitFor(orderRef, field(f), 30_000);
      const before = c.keys.length;
      await c.keysRfc4733(keys);
      const sent = c.keys.slice(before).filter((k) => /\d/.test(k.key));
      // the n-th digit.entered of the field is the n-th digit keyed into it
      for (let n = 0; n < sent.length; n++) {
        const e = await tap.waitFor(orderRef, (x) => x.type === 'digit.entered' && x.field === f && x.count === n + 1, 10_000);
        res.digitMs.push(e.receivedAt - sent[n]!.firstAt);
        res.digitFromEndMs.push(e.receivedAt - sent[n]!.endAt);
      }
    }
    const ended = await tap.waitFor(orderRef, (e) => e.type === 'session.ended', 30_000);
    res.outcome = ended.outcome;
    res.otpToOutcomeMs = ended.receivedAt - c.keys[c.keys.length - 1]!.endAt;
    await Promise.race([c.byeReceived, sleep(30_000)]);
    res.ok = ended.outcome === 'paid';
  } catch (err) {
    res.error = (err as Error).message;
  } finally {
    c.close();
  }
  return res;
}

export interface LevelResult {
  n: number;
  paid: number;
  failed: string[];
  digits: { n: number; p50: number; p99: number; max: number };
  digitsFromEnd: { p50: number; p99: number };
  otpToOutcome: { p50: number; p99: number; max: number };
  cpuPerCapturePct: number;
  rssPerCaptureKiB: number;
  wallS: number;
}

/** N payments 100 ms apart; CPU and RSS summed over `pids` (the gateway processes). */
export async function level(sip: { host: string; port: number }, pids: number[], tap: EventTap, n: number): Promise<LevelResult> {
  const rssAll = (): number => pids.reduce((s, p) => s + (rssBytes(p) ?? 0), 0);
  const cpuAll = (): number => pids.reduce((s, p) => s + (cpuSeconds(p) ?? 0), 0);
  const rss0 = rssAll();
  const cpu0 = cpuAll();
  const t0 = performance.now();
  let peakRss = rss0;
  const sampler = setInterval(() => (peakRss = Math.max(peakRss, rssAll())), 250);
  // Calls start 100 ms apart (so the keying phases of different calls interleave).
  const results = await Promise.all(Array.from({ length: n }, async (_, i) => {
    await sleep(i * 100);
    return onePayment(sip, tap, i);
  }));
  clearInterval(sampler);
  const wallS = (performance.now() - t0) / 1000;
  const cpu = cpuAll() - cpu0;
  const digitMs = results.flatMap((r) => r.digitMs);
  const fromEnd = results.flatMap((r) => r.digitFromEndMs);
  const otp = results.flatMap((r) => (r.otpToOutcomeMs !== undefined ? [r.otpToOutcomeMs] : []));
  const r1 = (x: number): number => Math.round(x * 10) / 10;
  return {
    n,
    paid: results.filter((r) => r.ok).length,
    failed: results.filter((r) => !r.ok).map((r) => r.error ?? `outcome ${r.outcome}`),
    digits: { n: digitMs.length, p50: r1(pct(digitMs, 50)), p99: r1(pct(digitMs, 99)), max: r1(Math.max(...digitMs)) },
    digitsFromEnd: { p50: r1(pct(fromEnd, 50)), p99: r1(pct(fromEnd, 99)) },
    otpToOutcome: { p50: r1(pct(otp, 50)), p99: r1(pct(otp, 99)), max: r1(Math.max(...otp)) },
    // CPU over the level's wall time, shared by the n captures that were live for most of it.
    cpuPerCapturePct: r1((100 * cpu) / wallS / n),
    rssPerCaptureKiB: Math.round((peakRss - rss0) / 1024 / n),
    wallS: r1(wallS),
  };
}


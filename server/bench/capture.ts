/**
 * `npm run bench:capture` (issue 4): N concurrent complete payments against the embedded demo
 * provider, the whole product in its own process (`npm start`'s code behind the bench probe).
 *
 * Each customer (server/bench/lib/pay-customer.ts) calls sip:pay@gateway over UDP, streams 20 ms
 * µ-law silence and keys card, expiry, CVV and the OTP as RFC 4733 events (80 ms on, 80 ms off),
 * each field once the gateway has asked for it. A supervisor connection on `/events` receives every
 * event. Figures per concurrency level:
 *   - digit -> event: from the key's first RTP packet leaving the customer to the `digit.entered`
 *     event arriving on the WebSocket (RTP in the media worker, RFC 4733 receiver, worker channel,
 *     capture state machine, event bus, hub, WebSocket): p50 / p99 (target p99 < 50 ms);
 *   - last OTP digit -> outcome: from the last OTP key's end packet to `session.ended` (OTP
 *     validation, payment, confirmation at the demo provider over HTTP);
 *   - CPU of the gateway process per active capture, RSS added per capture.
 * Writes server/bench/RESULTS.md between the bench:capture markers (`--no-write` to skip).
 */
import { mkdtempSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import WebSocket from 'ws';
import { GatewayProcess } from './lib/gateway.js';
import { PayCustomer } from './lib/pay-customer.js';
import { cpuSeconds, freePort, killAllChildren, rssBytes, sleep } from './lib/procs.js';
import { pct, replaceMarkedSection } from './lib/report.js';

const OTP = '482913';
const TOKEN = 'bench-supervisor-token';
const args = process.argv.slice(2);
const arg = (name: string): string | undefined => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? args[i + 1] : undefined;
};
const levels = (arg('levels') ?? '10,25,50').split(',').map(Number).filter((n) => n > 0);
const write = !args.includes('--no-write');
const log = (s: string): void => void process.stdout.write(`${s}\n`);
const nowMs = (): number => performance.timeOrigin + performance.now();

interface Ev { type: string; sessionId: string; orderRef?: string; field?: string; count?: number; outcome?: string; receivedAt: number }

/** Every event of the supervisor connection, by session, with its arrival time. */
class EventTap {
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

interface CallResult {
  ok: boolean;
  error?: string;
  outcome?: string;
  digitMs: number[];
  digitFromEndMs: number[];
  otpToOutcomeMs?: number;
}

async function onePayment(gw: GatewayProcess, tap: EventTap, i: number): Promise<CallResult> {
  const orderRef = `BENCH-${Date.now()}-${i}`;
  const c = await PayCustomer.open({ host: '127.0.0.1', port: gw.sipPort });
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

interface LevelResult {
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

async function level(gw: GatewayProcess, tap: EventTap, n: number): Promise<LevelResult> {
  const rss0 = rssBytes(gw.pid) ?? 0;
  const cpu0 = cpuSeconds(gw.pid) ?? 0;
  const t0 = performance.now();
  let peakRss = rss0;
  const sampler = setInterval(() => (peakRss = Math.max(peakRss, rssBytes(gw.pid) ?? 0)), 250);
  // Calls start 100 ms apart (so the keying phases of different calls interleave).
  const results = await Promise.all(Array.from({ length: n }, async (_, i) => {
    await sleep(i * 100);
    return onePayment(gw, tap, i);
  }));
  clearInterval(sampler);
  const wallS = (performance.now() - t0) / 1000;
  const cpu = (cpuSeconds(gw.pid) ?? 0) - cpu0;
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

async function main(): Promise<void> {
  const repo = fileURLToPath(new URL('../..', import.meta.url));
  const [sipPort, httpPort, pgPort] = [await freePort(), await freePort(), await freePort()];
  const runDir = mkdtempSync(join(tmpdir(), 'bench-capture-'));
  const gw = await GatewayProcess.start({
    repo,
    sipPort,
    httpPort,
    logDir: runDir,
    env: {
      SIP_PORT: String(sipPort), HTTP_PORT: String(httpPort), DEMO_PG_PORT: String(pgPort), DEMO_OTP: OTP, SUPERVISOR_TOKEN: TOKEN,
      LOG_LEVEL: 'warn', RTP_PORT_MIN: '41000', RTP_PORT_MAX: '44999',
    },
  });
  const tap = await EventTap.open(httpPort);
  const info = { cpu: cpus()[0]?.model ?? '?', cores: cpus().length, node: process.version, load: loadavg().map((x) => x.toFixed(2)).join(' ') };
  log(`bench:capture on ${info.cpu}, ${info.cores} cores, Node ${info.node}, load ${info.load}; gateway pid ${gw.pid}`);
  const rows: LevelResult[] = [];
  try {
    for (const n of levels) {
      const r = await level(gw, tap, n);
      rows.push(r);
      log(`${n} concurrent: paid ${r.paid}/${n}; digit->event p50 ${r.digits.p50} ms p99 ${r.digits.p99} ms (n ${r.digits.n}), from the end packet p50 ${r.digitsFromEnd.p50} ms p99 ${r.digitsFromEnd.p99} ms; last OTP digit->outcome p50 ${r.otpToOutcome.p50} ms p99 ${r.otpToOutcome.p99} ms; CPU ${r.cpuPerCapturePct} %/capture; RSS +${r.rssPerCaptureKiB} KiB/capture; ${r.wallS} s${r.failed.length ? `; failed: ${[...new Set(r.failed)].slice(0, 3).join(' | ')}` : ''}`);
      await sleep(2000);
    }
  } finally {
    tap.close();
    await gw.stop();
  }
  if (gw.warnings > 0) log(`gateway warnings: ${gw.warnings} (last: ${gw.lastWarning}); see ${runDir}`);
  if (write) writeResults(info, rows, gw.warnings);
}

const START = '<!-- bench:capture -->';
const END = '<!-- /bench:capture -->';

function writeResults(info: Record<string, string | number>, rows: LevelResult[], warnings: number): void {
  const file = fileURLToPath(new URL('./RESULTS.md', import.meta.url));
  const body = [
    START,
    '## Payment capture (`npm run bench:capture`)',
    '',
    `Run ${new Date().toISOString()} on ${info.cpu}, ${info.cores} cores, Node ${info.node}, load average ${info.load} at start. The gateway runs as its own process (\`npm start\`'s code, demo provider embedded, LOG_LEVEL warn); the bench process holds the customers and a supervisor connection on \`/events\`, on the same 2 cores.`,
    '',
    'Method: N customers call `sip:pay@gateway` 100 ms apart, stream 20 ms µ-law silence, and key card `4111111111111111#`, expiry, CVV and the OTP as RFC 4733 events (80 ms on / 80 ms off), each field once its `field.started` event arrived. **digit -> event**: the key\'s first RTP packet leaving the customer to its `digit.entered` event arriving on the supervisor WebSocket (media worker, RFC 4733 receiver, worker channel, capture, event bus, hub). The same from the key\'s end packet is listed too (the receiver reports a key on its start packet). **OTP -> outcome**: the last OTP key\'s end packet to `session.ended` (OTP validation, payment and confirmation over HTTP at the demo provider). CPU: the gateway process\'s CPU time over the level\'s wall time, divided by N. RSS: peak RSS during the level minus RSS before it, divided by N.',
    '',
    '| concurrent payments | paid | digit -> event p50 / p99 / max ms | from end packet p50 / p99 ms | OTP -> outcome p50 / p99 ms | CPU per capture | RSS per capture | wall s |',
    '|---:|---:|---:|---:|---:|---:|---:|---:|',
    ...rows.map((r) => `| ${r.n} | ${r.paid} | ${r.digits.p50} / ${r.digits.p99} / ${r.digits.max} | ${r.digitsFromEnd.p50} / ${r.digitsFromEnd.p99} | ${r.otpToOutcome.p50} / ${r.otpToOutcome.p99} | ${r.cpuPerCapturePct} % | ${r.rssPerCaptureKiB} KiB | ${r.wallS} |`),
    '',
    `Target: digit -> event p99 under 50 ms. Gateway warnings during the run: ${warnings}.${rows.some((r) => r.failed.length) ? ` Failures: ${rows.flatMap((r) => r.failed).slice(0, 5).join('; ')}.` : ''}`,
    END,
  ].join('\n');
  replaceMarkedSection(file, START, END, body);
  log(`wrote ${file}`);
}

try {
  await main();
} catch (err) {
  process.stderr.write(`bench:capture failed: ${(err as Error).stack ?? String(err)}\n`);
  killAllChildren();
  process.exit(1);
}

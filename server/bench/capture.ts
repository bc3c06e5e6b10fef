/**
 * `npm run bench:capture`: N concurrent complete payments against the embedded demo
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
import { GatewayProcess } from './lib/gateway.js';
import { BENCH_OTP, BENCH_TOKEN, EventTap, level, type LevelResult } from './lib/capture-run.js';
import { freePort } from '../devtools/ports.js';
import { sleep } from '../devtools/procs.js';
import { replaceMarkedSection } from './lib/report.js';
import { runBench } from './lib/run-bench.js';

const OTP = BENCH_OTP;
const TOKEN = BENCH_TOKEN;
const args = process.argv.slice(2);
const arg = (name: string): string | undefined => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? args[i + 1] : undefined;
};
const levels = (arg('levels') ?? '10,25,50').split(',').map(Number).filter((n) => n > 0);
const write = !args.includes('--no-write');
const log = (s: string): void => void process.stdout.write(`${s}\n`);

async function main(): Promise<void> {
  const [sipPort, httpPort, pgPort] = [await freePort(), await freePort(), await freePort()];
  const runDir = mkdtempSync(join(tmpdir(), 'bench-capture-'));
  const gw = await GatewayProcess.start({
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
      const r = await level({ host: '127.0.0.1', port: gw.sipPort }, [gw.pid], tap, n);
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
    `Target: digit -> event p99 under 50 ms: ${rows.every((r) => r.digitsFromEnd.p99 < 50) ? 'met' : 'not met'} from the key's end packet, ${rows.every((r) => r.digits.p99 < 50) ? 'met' : 'not met'} from its first packet. The RFC 4733 receiver reports a key on the first packet of its event (RFC 4733 §2.5.1.2), so the first-packet figure is the gateway's own delay; "from end packet" is then near 0 or negative, the event reaching the socket before the key is released. Gateway warnings during the run: ${warnings}.${rows.some((r) => r.failed.length) ? ` Failures: ${rows.flatMap((r) => r.failed).slice(0, 5).join('; ')}.` : ''}`,
    END,
  ].join('\n');
  replaceMarkedSection(file, START, END, body);
  log(`wrote ${file}`);
}

await runBench(main);

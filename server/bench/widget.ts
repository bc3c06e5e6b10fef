/**
 * `npm run bench:widget`: time from a customer's key to the agent's widget showing it.
 *
 * Method: a gateway process (`npm start`'s code); the real agent widget (`/agent`, built bundle)
 * in Debian Chromium via playwright-core, signed in as agent-1 (sip.js over WebSocket, WebRTC media
 * leg at the gateway). A customer (server/bench/lib/pay-customer.ts: plain RTP, RFC 4733 keys of
 * 80 ms) calls agent-1; the page answers and clicks Pay by phone; the customer keys card, expiry
 * and CVV once the widget shows the field (then hangs up). A MutationObserver in the page stamps
 * each new lit dot with performance.timeOrigin + performance.now(); the customer stamps each key's
 * first packet and end packet on the same host clock (the widget re-renders a field's dots, so the
 * observer counts lit dots per field and stamps each increase). Delay = dot shown - packet sent (network,
 * media worker, RFC 4733 receiver, capture, event bus, /events socket, reducer, DOM). Repeated for
 * `--calls` calls (default 3, 23 digits each). Writes RESULTS.md between the bench:widget markers.
 */
import { execFileSync } from 'node:child_process';
import { cpus, loadavg } from 'node:os';
import { fileURLToPath } from 'node:url';
import { chromium, type Page } from 'playwright-core';
import { GatewayProcess } from './lib/gateway.js';
import { PayCustomer, type KeyTiming } from './lib/pay-customer.js';
import { freePort } from '../devtools/ports.js';
import { sleep } from '../devtools/procs.js';
import { pct, replaceMarkedSection } from './lib/report.js';
import { runBench } from './lib/run-bench.js';

const args = process.argv.slice(2);
const calls = Number(args[args.indexOf('--calls') + 1] ?? '') || 3;
const write = !args.includes('--no-write');
const log = (s: string): void => void process.stdout.write(`${s}\n`);
const FLAGS = [
  '--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update',
  '--disable-sync', '--use-fake-ui-for-media-stream', '--use-fake-device-for-media-stream', '--allow-loopback-in-peer-connection',
  '--disable-features=WebRtcHideLocalIpsWithMdns', '--autoplay-policy=no-user-gesture-required',
];

/** Stamps every lit dot the widget adds: { field, t } in window.__dots. */
const OBSERVER = `(() => {
  window.__dots = [];
  if (window.__observing) return;
  window.__observing = true;
  const last = {};
  new MutationObserver(() => {
    const t = performance.timeOrigin + performance.now();
    for (const li of document.querySelectorAll('#steps li[data-field]')) {
      const f = li.dataset.field;
      const n = li.querySelectorAll('.dot-on').length;
      for (let k = last[f] ?? 0; k < n; k++) window.__dots.push({ field: f, t });
      last[f] = n;
    }
  }).observe(document.body, { subtree: true, childList: true, attributes: true });
})()`;

interface Dot { field: string; t: number }

async function oneCall(page: Page, sip: { host: string; port: number }, i: number): Promise<{ first: number[]; end: number[] }> {
  await page.evaluate(OBSERVER);
  const c = await PayCustomer.open(sip);
  const calling = c.call({}, 'agent-1');
  await page.getByRole('button', { name: 'Answer' }).click({ timeout: 15_000 });
  if ((await calling) !== 200) throw new Error('the agent did not answer');
  // After the previous call's outcome the panel offers a new payment.
  const again = page.getByRole('button', { name: 'New payment' });
  if (await again.isVisible()) await again.click();
  await page.getByLabel('Amount').fill('1499.00');
  await page.getByLabel('Order reference').fill(`BENCH-W-${Date.now()}-${i}`);
  await page.getByLabel('Customer mobile').fill('+919800000001');
  await page.getByLabel('Merchant ID').fill('M-BENCH');
  await page.getByRole('button', { name: 'Pay by phone' }).click();
  await page.locator('#muted-banner').waitFor({ state: 'visible', timeout: 15_000 });
  const keyed: { field: string; k: KeyTiming }[] = [];
  for (const [field, keys] of [['pan', '4111111111111111#'], ['expiry', '1230'], ['cvv', '123']] as const) {
    await page.locator(`#steps li[data-field="${field}"][data-status="active"]`).waitFor({ timeout: 30_000 }).catch(() => undefined);
    const before = c.keys.length;
    await c.keysRfc4733(keys);
    for (const k of c.keys.slice(before)) if (/\d/.test(k.key)) keyed.push({ field, k });
    await sleep(300);
  }
  await sleep(500);
  const dots = (await page.evaluate('window.__dots')) as Dot[];
  c.bye();
  await page.locator('#call-state').filter({ hasNotText: /On call/ }).waitFor({ timeout: 15_000 }).catch(() => undefined);
  c.close();
  const first: number[] = [];
  const end: number[] = [];
  for (const field of ['pan', 'expiry', 'cvv']) {
    const ks = keyed.filter((x) => x.field === field);
    const ds = dots.filter((d) => d.field === field);
    if (ds.length !== ks.length) throw new Error(`${field}: ${ks.length} keyed, ${ds.length} dots shown`);
    ks.forEach((x, n) => {
      first.push(ds[n]!.t - x.k.firstAt);
      end.push(ds[n]!.t - x.k.endAt);
    });
  }
  return { first, end };
}

async function main(): Promise<void> {
  const repo = fileURLToPath(new URL('../..', import.meta.url));
  execFileSync(process.execPath, ['scripts/build-widget.mjs'], { cwd: repo, stdio: 'inherit' });
  const [sipPort, httpPort, pgPort] = [await freePort(), await freePort(), await freePort()];
  const gw = await GatewayProcess.start({
    sipPort, httpPort,
    env: { SIP_PORT: String(sipPort), HTTP_PORT: String(httpPort), DEMO_PG_PORT: String(pgPort), LOG_LEVEL: 'warn', RTP_PORT_MIN: '45000', RTP_PORT_MAX: '45999' },
  });
  const browser = await chromium.launch({ executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium', args: FLAGS });
  const first: number[] = [];
  const end: number[] = [];
  try {
    const page = await (await browser.newContext()).newPage();
    await page.goto(`http://127.0.0.1:${httpPort}/agent`);
    await page.getByLabel('Agent ID').fill('agent-1');
    await page.getByLabel('Password').fill('demo');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.locator('#reg-status').filter({ hasText: 'Registered' }).waitFor({ timeout: 15_000 });
    for (let i = 0; i < calls; i++) {
      const r = await oneCall(page, { host: '127.0.0.1', port: sipPort }, i);
      first.push(...r.first);
      end.push(...r.end);
      log(`call ${i + 1}: ${r.first.length} digits, first packet -> dot p50 ${pct(r.first, 50).toFixed(1)} ms`);
      await sleep(1500);
    }
  } finally {
    await browser.close();
    await gw.stop();
  }
  const f = (xs: number[], p: number): string => pct(xs, p).toFixed(1);
  const line = `${first.length} digits: key's first packet -> dot shown p50 ${f(first, 50)} ms, p99 ${f(first, 99)} ms, max ${Math.max(...first).toFixed(1)}; from its end packet p50 ${f(end, 50)} ms, p99 ${f(end, 99)} ms`;
  log(line);
  if (!write) return;
  const START = '<!-- bench:widget -->';
  const END = '<!-- /bench:widget -->';
  replaceMarkedSection(fileURLToPath(new URL('./RESULTS.md', import.meta.url)), START, END, [
    START,
    '## Digit to widget (`npm run bench:widget`)',
    '',
    `Run ${new Date().toISOString()} on ${cpus()[0]?.model ?? '?'}, ${cpus().length} cores, Node ${process.version}, load average ${loadavg().map((x) => x.toFixed(2)).join(' ')} at the end.`,
    '',
    'Method: a gateway process; the real agent widget in Debian Chromium (playwright-core), signed in as agent-1 over WebSocket with its WebRTC media leg; a customer on plain RTP calls agent-1, the page answers and clicks Pay by phone, and the customer keys card, expiry and CVV as RFC 4733 events (80 ms on / 80 ms off) once the widget shows each field. A MutationObserver in the page stamps each new lit dot; the customer stamps each key\'s packets; one host clock. The gateway\'s RFC 4733 receiver reports a key on the first packet of its event, so "first packet" is the delay the gateway and widget add; "from its end packet" is then negative when the dot lights before the key is released.',
    '',
    `**${line}.** Target p99 under 100 ms.`,
    END,
  ].join('\n'));
  log('wrote RESULTS.md');
}

await runBench(main);

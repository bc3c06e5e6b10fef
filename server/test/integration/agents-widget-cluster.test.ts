import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createClient } from 'redis';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { buildWidget } from '../../../scripts/build-widget.mjs';
import { Kamailio } from '../../devtools/kamailio.js';
import { payScenario, type PayStep } from '../../devtools/sipp/pay-scenario.js';
import { freeMediaPort, freePort, holdPorts } from '../../devtools/ports.js';
import { RedisServer } from '../../devtools/redis-server.js';
import { runSipp } from '../../devtools/sipp/run.js';
import { CHROMIUM_ARGS, CHROMIUM_PATH } from '../support/chromium-webrtc.js';
import { GatewayChild } from '../support/gateway-process.js';
import { dumpRedis, findCardData } from '../support/redis-dump.js';

/**
 * Agents across instances with the real widget (README, "Agents across instances"): two gateway
 * processes sharing a real redis-server, both with SIP_WS_URL naming a real Kamailio's SIP
 * WebSocket port (`-A WITH_WEBSOCKET`, Path per RFC 3327, dispatcher to the gateways); agent-1 signs
 * in on /agent served by gateway A in real Chromium, and the widget's sip.js registers through
 * Kamailio (the page's CSP must allow that origin). A SIPp customer calls gateway B; the INVITE
 * reaches the widget through Kamailio, the agent answers and clicks Pay by phone, and the inline
 * payment ends paid. The gateway that took the REGISTER is SIGKILLed; the widget's registration
 * refresh (page clock fast-forwarded to it) moves the binding to the survivor through Kamailio,
 * and the next payment through the survivor is paid. No card data reaches Redis or any log.
 */
const OTP = '246810';
const PAN = '4111111111111111';
const CARD = { pan: PAN, cvv: '123', expiry: '1230', otp: OTP };
const TOKEN = 'agents-widget-cluster-supervisor-token';
// After the ACK: time for the agent to click Pay by phone (the greeting takes type-ahead), the card,
// expiry and CVV, a pause for the OTP prompt, the OTP; then the agent hangs up (sipp-customer.spec.ts).
const KEYS: PayStep[] = [{ pauseMs: 4000 }, { keys: `${PAN}#` }, { keys: CARD.expiry }, { keys: CARD.cvv }, { pauseMs: 8000 }, { keys: OTP }];
/** The widget asks for 300 s and refreshes at 90 % of what the registrar grants (softphone.ts). */
const EXPIRES_S = 300;
const REFRESH_AT = 0.9;

const gateways: GatewayChild[] = [];
let redis: RedisServer;
let kamailio: Kamailio;
let browser: Browser;
let context: BrowserContext;
let page: Page;
let a: GatewayChild;
let b: GatewayChild;
/** URLs of every WebSocket the page opened; CSP violations it reported. */
const sockets: string[] = [];
const cspViolations: string[] = [];

async function startGateway(id: string, rtpMin: number, wsUrl: string): Promise<GatewayChild> {
  const [sip, http, pg] = [await freePort(), await freePort(), await freePort()];
  const g = await GatewayChild.start({
    SIP_PORT: String(sip), HTTP_PORT: String(http), DEMO_PG_PORT: String(pg), INSTANCE_ID: id, DEMO_OTP: OTP, SUPERVISOR_TOKEN: TOKEN,
    RTP_PORT_MIN: String(rtpMin), RTP_PORT_MAX: String(rtpMin + 199), MEDIA_WORKERS: '1', LOG_LEVEL: 'info', REDIS_URL: redis.url,
    RING_TIMEOUT_S: '30', SIP_WS_URL: wsUrl,
  });
  gateways.push(g);
  return g;
}

beforeAll(async () => {
  await buildWidget({ quiet: true });
  redis = await RedisServer.start();
  // The gateways name Kamailio's WebSocket port before Kamailio runs: held bound until its start,
  // so no gateway's outgoing connection takes it meanwhile.
  const held = await holdPorts(2);
  const [kamailioPort, wsPort] = held.ports as [number, number];
  const base = 33000 + 400 * Math.floor(Math.random() * 20);
  a = await startGateway('gw-a', base, `ws://127.0.0.1:${wsPort}/`);
  b = await startGateway('gw-b', base + 200, `ws://127.0.0.1:${wsPort}/`);
  await held.release();
  kamailio = await Kamailio.start({ port: kamailioPort, wsPort, gateways: [a, b].map((g) => ({ host: '127.0.0.1', port: Number(g.env['SIP_PORT']) })) });
  browser = await chromium.launch({ executablePath: CHROMIUM_PATH, args: CHROMIUM_ARGS });
  context = await browser.newContext();
  // The page's clock runs in real time; the SIGKILL test jumps it to the registration refresh.
  await context.clock.install();
  page = await context.newPage();
  page.on('websocket', (ws) => sockets.push(ws.url()));
  page.on('console', (m) => {
    if (/Content Security Policy/i.test(m.text())) cspViolations.push(m.text());
  });
}, 90_000);

afterAll(async () => {
  if (process.env['AGENTS_WIDGET_CLUSTER_DEBUG']) {
    const { writeFileSync } = await import('node:fs');
    writeFileSync('/tmp/agents-widget-cluster-kamailio.log', kamailio.lines.join('\n'));
    for (const g of gateways) writeFileSync(`/tmp/agents-widget-cluster-${g.env['INSTANCE_ID']}.log`, g.lines.join('\n'));
  }
  await browser?.close().catch(() => undefined);
  await kamailio?.stop();
  for (const g of gateways) await g.stop();
  await redis?.stop();
});

interface DirectoryEntry { uri: string; path: string[]; gateway: string; expiresAt: number }

/** The registration directory's entries for agent-1, read straight from Redis. */
async function directory(): Promise<DirectoryEntry[]> {
  const c = createClient({ url: redis.url });
  await c.connect();
  try {
    const raw = await c.get('tonegate:reg:agent-1');
    return raw ? (JSON.parse(raw) as DirectoryEntry[]) : [];
  } finally {
    await c.quit();
  }
}

async function until<T>(what: string, probe: () => Promise<T | undefined>, ms: number): Promise<T> {
  for (const end = Date.now() + ms; ; ) {
    const v = await probe();
    if (v !== undefined) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

/** Waits until the element's text matches. */
async function textOf(selector: string, re: RegExp, ms = 20_000): Promise<string> {
  await page.waitForFunction(({ s, src }) => new RegExp(src).test(document.querySelector(s)?.textContent ?? ''), { s: selector, src: re.source }, { timeout: ms, polling: 100 });
  return (await page.locator(selector).textContent()) ?? '';
}

/** /agent on gateway A, signed in as agent-1, registered; returns the page clock at that moment. */
async function signIn(): Promise<number> {
  await page.goto(`${a.httpUrl}/agent`);
  await page.getByLabel('Agent ID').fill('agent-1');
  await page.getByLabel('Password').fill('demo');
  await page.getByRole('button', { name: 'Sign in' }).click();
  await textOf('#reg-status', /^Registered$/);
  return page.evaluate(() => Date.now());
}

const gatewayById = (id: string): GatewayChild => gateways.find((g) => g.env['INSTANCE_ID'] === id)!;

interface RestSession { outcome: string | null; orderRef: string; instanceId: string; agentId: string | null }

async function sessions(g: GatewayChild, orderRef: string): Promise<RestSession[]> {
  const r = await fetch(`${g.httpUrl}/api/sessions?orderRef=${encodeURIComponent(orderRef)}`, { headers: { authorization: `Bearer ${TOKEN}` } });
  expect(r.status).toBe(200);
  return ((await r.json()) as { sessions: RestSession[] }).sessions;
}

/**
 * A SIPp customer calls agent-1 at `entry`; the agent answers in the widget, fills Pay by phone and
 * clicks it, watches the masked capture to its outcome, and hangs up. Returns the outcome text.
 */
async function widgetPayment(entry: GatewayChild, orderRef: string): Promise<string> {
  if (await page.locator('#new-payment').isVisible()) await page.locator('#new-payment').click();
  const scenario = payScenario({ user: 'agent-1', headers: {}, steps: KEYS, byeTimeoutMs: 90_000 });
  const sipp = runSipp({ scenario, target: `127.0.0.1:${entry.env['SIP_PORT']}`, localPort: await freePort(), mediaPort: await freeMediaPort(), timeoutS: 140 });
  await textOf('#call-state', /^Incoming call from/, 20_000);
  await page.getByRole('button', { name: 'Answer' }).click();
  await textOf('#call-state', /^On call with/);
  await page.getByLabel('Amount').fill('1499.00');
  await page.getByLabel('Currency').selectOption('INR');
  await page.getByLabel('Order reference').fill(orderRef);
  await page.getByLabel('Customer mobile').fill('+919800000001');
  await page.getByLabel('Merchant ID').fill('M-DEMO-01');
  await page.getByRole('button', { name: 'Pay by phone' }).click();
  await page.locator('#muted-banner').waitFor({ state: 'visible', timeout: 15_000 });
  // The capture's final line (progress-view.ts; "Handing the call to secure payment…" before it).
  const outcome = await textOf('#outcome', /^[^…]+$/, 60_000);
  await textOf('#card-info', /4111 11•• •••• 1111/);
  await page.getByRole('button', { name: 'Hang up' }).click();
  const r = await sipp.done;
  expect(r.code, r.errors + r.stderr).toBe(0);
  expect(await page.locator('body').innerText()).not.toContain(PAN);
  return outcome;
}

describe('agents across instances with the widget: SIP_WS_URL to Kamailio, Chromium, a Redis registration directory', () => {
  let holder: GatewayChild;
  let survivor: GatewayChild;
  let registeredAt = 0;

  it('the widget served by gateway A learns SIP_WS_URL, its CSP allows that origin, and it registers through Kamailio', async () => {
    const wsUrl = `ws://127.0.0.1:${kamailio.wsPort}/`;
    const config = (await (await fetch(`${a.httpUrl}/api/widget-config`)).json()) as { sipWsUrl?: string; sipPath: string };
    expect(config).toMatchObject({ sipWsUrl: wsUrl, sipPath: '/sip' });
    const csp = (await fetch(`${a.httpUrl}/agent`)).headers.get('content-security-policy') ?? '';
    expect(/connect-src ([^;]+)/.exec(csp)?.[1]).toBe(`'self' ws://127.0.0.1:${a.env['HTTP_PORT']} ws://127.0.0.1:${kamailio.wsPort}`);
    // The test needs the page's own gateway to outlive the SIGKILL (the agent's /events socket, which
    // shows the payment's progress, is there); Kamailio sends the REGISTER by a hash of its Call-ID,
    // so when it landed on A the agent signs out and in again: a new Registerer, a new Call-ID.
    for (let attempt = 1; ; attempt++) {
      registeredAt = await signIn();
      const entry = await until('agent-1 in the registration directory', async () => (await directory())[0], 10_000);
      holder = gatewayById(entry.gateway);
      if (holder !== a) {
        expect(entry.path[0]).toMatch(new RegExp(`^<sip:127\\.0\\.0\\.1:${kamailio.port};lr;received=`));
        expect(entry.uri).toMatch(/\.invalid/); // sip.js's WebSocket Contact (RFC 7118 5)
        expect((entry.expiresAt - Date.now()) / 1000).toBeGreaterThan(EXPIRES_S - 15);
        expect((entry.expiresAt - Date.now()) / 1000).toBeLessThanOrEqual(EXPIRES_S);
        break;
      }
      expect(attempt, 'every REGISTER landed on the page\'s gateway').toBeLessThan(12);
      const reloaded = page.waitForEvent('framenavigated', { timeout: 15_000 }); // sign-out reloads the page
      await page.getByRole('button', { name: 'Sign out' }).click();
      await reloaded;
      await page.waitForLoadState('load');
      await until('the sign-out to unregister', async () => ((await directory()).length === 0 ? true : undefined), 10_000);
    }
    survivor = a;
    expect(sockets.filter((u) => u.startsWith(wsUrl)).length).toBeGreaterThan(0);
    expect(sockets.filter((u) => /\/sip$/.test(u))).toEqual([]); // never the gateway's own /sip
    expect(cspViolations).toEqual([]);
    expect(kamailio.lines.some((l) => new RegExp(`REGISTER sip:[^ ]+ -> sip:127\\.0\\.0\\.1:${holder.env['SIP_PORT']}`).test(l))).toBe(true);
  }, 150_000);

  it('a SIPp customer calls gateway B; the widget gets the call through Kamailio, answers, clicks Pay by phone, and the payment is paid', async () => {
    const orderRef = `ORD-WIDGET-1-${Date.now()}`;
    const outcome = await widgetPayment(b, orderRef);
    expect(outcome).toMatch(/^Payment successful, payment ID \S+\.$/);
    expect(kamailio.lines.some((l) => /INVITE sip:[^ ]+ -> agent /.test(l))).toBe(true);
    expect(await sessions(b, orderRef)).toMatchObject([{ outcome: 'paid', orderRef, instanceId: 'gw-b', agentId: 'agent-1' }]);
  }, 150_000);

  it('the gateway that took the REGISTER is SIGKILLed; the widget\'s refresh lands on the survivor through Kamailio, and the next payment through it is paid', async () => {
    const accepted = (): number => survivor.lines.filter((l) => /REGISTER accepted/.test(l)).length;
    const acceptedBefore = accepted();
    await holder.stop('SIGKILL');
    // Jump the page clock to just past the refresh (90 % of EXPIRES_S after the 200 OK), well before
    // the binding would expire: as if the agent had been waiting for calls that long. The refresh
    // keeps its Call-ID, which Kamailio hashes to the dead gateway until its probes take it out;
    // then Kamailio's failure route (fr_timer 4 s) moves it on, and the survivor answers the dead
    // gateway's nonce 401 stale=TRUE (README, "Agents across instances").
    const elapsed = (await page.evaluate(() => Date.now())) - registeredAt;
    await context.clock.fastForward(Math.max(0, EXPIRES_S * 1000 * REFRESH_AT + 1000 - elapsed));
    const [entry] = await until('the binding on the survivor', async () => {
      const e = await directory();
      return e[0]?.gateway === survivor.env['INSTANCE_ID'] ? e : undefined;
    }, 45_000);
    expect(entry!.path[0]).toMatch(new RegExp(`^<sip:127\\.0\\.0\\.1:${kamailio.port};lr;received=`));
    expect(accepted()).toBeGreaterThan(acceptedBefore);
    await textOf('#reg-status', /^Registered$/, 30_000);
    const orderRef = `ORD-WIDGET-2-${Date.now()}`;
    expect(await widgetPayment(survivor, orderRef)).toMatch(/^Payment successful, payment ID \S+\.$/);
    expect(await sessions(survivor, orderRef)).toMatchObject([{ outcome: 'paid', orderRef, instanceId: survivor.env['INSTANCE_ID'] }]);
  }, 180_000);

  it('no card data reached Redis, the gateways\' or Kamailio\'s logs', async () => {
    const dump = await dumpRedis(redis.url);
    expect(findCardData(dump.text, CARD)).toEqual([]);
    for (const g of gateways) expect(findCardData(g.lines.join('\n'), CARD)).toEqual([]);
    expect(findCardData(kamailio.lines.join('\n'), CARD)).toEqual([]);
  });
});

import { createHash, X509Certificate } from 'node:crypto';
import config from '../playwright.config.js';
import { TestCa } from '../../server/test/support/tls-certs.js';
import { connect, dotsOn, key, openAgent, openPhone, otpFromInbox, payment, startPayment, step, talkBothWays } from '../support/call-flow.js';
import { test } from '../support/own-gateway.js';
import { expect, signIn } from '../support/fixtures.js';

// The agent page over HTTPS with a certificate from a test CA made by openssl for this file.
// Chromium trusts exactly that certificate's key (--ignore-certificate-errors-spki-list pins its
// SPKI hash), nothing else: no blanket ignoreHTTPSErrors. The widget's SIP (sip.js) and /events
// sockets then run over WSS.
const ca = TestCa.create('tonegate e2e CA');
const cert = ca.issue('127.0.0.1');
const spki = createHash('sha256').update(new X509Certificate(cert.cert).publicKey.export({ type: 'spki', format: 'der' })).digest('base64');
const baseArgs = config.use?.launchOptions?.args ?? [];

test.use({
  ownGatewaySpec: { name: 'https', rtpBase: 42200, env: { TLS_CERT_FILE: cert.certFile, TLS_KEY_FILE: cert.keyFile } },
  launchOptions: { ...config.use?.launchOptions, args: [...baseArgs, `--ignore-certificate-errors-spki-list=${spki}`] },
});

test('the agent signs in over HTTPS: the page has HSTS and a same-origin CSP, SIP registers over WSS', async ({ page, baseURL, snap }) => {
  expect(baseURL).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/);
  const sockets: string[] = [];
  page.on('websocket', (ws) => sockets.push(ws.url()));
  const res = await page.goto('/agent');
  expect(res?.status()).toBe(200);
  const headers = res!.headers();
  expect(headers['strict-transport-security']).toBe('max-age=31536000');
  const origin = new URL(baseURL!).host;
  expect(/connect-src ([^;]+)/.exec(headers['content-security-policy'] ?? '')?.[1]).toBe(`'self' wss://${origin}`);
  await signIn(page, 'agent-1', 'demo');
  await expect(page.locator('#reg-status')).toHaveText('Registered');
  expect(sockets.length).toBeGreaterThan(0);
  expect(sockets.every((u) => u.startsWith(`wss://${origin}/`))).toBe(true);
  expect(sockets).toContain(`wss://${origin}/sip`);
  await snap('agent-registered-https');
});

test('a whole inline payment over HTTPS/WSS: the customer on /phone pays, the agent on the widget watches it masked, every socket is WSS', async ({ page, context, baseURL, snap }) => {
  test.setTimeout(120_000);
  const origin = new URL(baseURL!).host;
  const sockets: string[] = [];
  context.on('page', (p) => p.on('websocket', (ws) => sockets.push(ws.url())));
  page.on('websocket', (ws) => sockets.push(ws.url()));
  const agent = await openAgent(page, 'agent-1');
  const phone = await openPhone(context);
  expect(phone.url()).toMatch(/^https:\/\//);
  await connect(agent, phone);
  await talkBothWays(agent, phone);

  const smsBefore = await phone.locator('#sms-list li').count();
  const p = payment(`E2E-HTTPS-${Date.now()}`);
  await startPayment(agent, p);
  await expect(step(agent, 'pan')).toHaveAttribute('data-status', 'active', { timeout: 30_000 });
  await key(phone, '4111111111111111#');
  await expect(dotsOn(agent, 'pan')).toHaveCount(16);
  await expect(agent.locator('#card-info')).toContainText('4111 11•• •••• 1111');
  await key(phone, '1230');
  await expect(step(agent, 'expiry')).toHaveAttribute('data-status', 'done');
  await key(phone, '123');
  await expect(step(agent, 'cvv')).toHaveAttribute('data-status', 'done');
  await expect(step(agent, 'otp')).toHaveAttribute('data-status', 'active');
  const otp = await otpFromInbox(phone, p.mobile, smsBefore);
  await key(phone, otp);
  await expect(agent.locator('#outcome')).toHaveText(/^Payment successful, payment ID \S+\.$/, { timeout: 30_000 });
  await snap('inline-paid-https');
  const text = await agent.locator('body').innerText();
  expect(text).not.toContain('4111111111111111');
  expect(text).not.toContain(otp);
  await talkBothWays(agent, phone);

  // Both pages' SIP (sip.js) and the agent's /events ran over WSS on the gateway's own origin only.
  expect(sockets.filter((u) => u === `wss://${origin}/sip`).length).toBeGreaterThanOrEqual(2);
  expect(sockets.every((u) => u.startsWith(`wss://${origin}/`)), sockets.join(', ')).toBe(true);
});

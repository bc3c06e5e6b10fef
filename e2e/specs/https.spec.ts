import { createHash, X509Certificate } from 'node:crypto';
import config from '../playwright.config.js';
import { TestCa } from '../../server/test/support/tls-certs.js';
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

import { expect, test } from '../support/fixtures.js';

test('the demo phone shows its number, the keypad and an empty SMS inbox', async ({ page, request, snap }) => {
  await page.goto('/phone');
  await expect(page.getByRole('heading', { name: 'Phone' })).toBeVisible();
  await expect(page.getByLabel('Number')).toHaveValue('support@127.0.0.1');
  await expect(page.getByRole('button', { name: 'Call' })).toBeVisible();
  const keypad = page.getByRole('group', { name: 'Keypad' });
  for (const name of ['1', '2', '3', '4', '5', '6', '7', '8', '9', 'star', '0', 'hash']) {
    await expect(keypad.getByRole('button', { name, exact: true })).toBeVisible();
  }
  // The inbox reads GET /demo/sms, which is empty on a fresh gateway.
  const sms = await request.get('/demo/sms');
  expect(await sms.json()).toEqual({ messages: [] });
  await expect(page.getByRole('heading', { name: 'SMS inbox' })).toBeVisible();
  await expect(page.getByText('No messages yet.')).toBeVisible();
  await keypad.getByRole('button', { name: '4', exact: true }).click();
  await keypad.getByRole('button', { name: 'hash' }).click();
  await expect(page.locator('#keyed')).toHaveText('4#');
  await snap('phone');
});

test('pages are served with a Content-Security-Policy and sensible caching', async ({ request }) => {
  const agent = await request.get('/agent');
  expect(agent.status()).toBe(200);
  const csp = agent.headers()['content-security-policy'] ?? '';
  expect(csp).toContain("script-src 'self'");
  expect(csp).toContain(`frame-ancestors 'self' ${process.env.TONEGATE_E2E_CRM}`);
  expect(agent.headers()['cache-control']).toBe('no-cache');
  const script = /src="(\/assets\/agent-[A-Z0-9]+\.js)"/.exec(await agent.text())?.[1];
  expect(script).toBeDefined();
  const bundle = await request.get(script!);
  expect(bundle.status()).toBe(200);
  expect(bundle.headers()['cache-control']).toBe('public, max-age=31536000, immutable');
  expect(bundle.headers()['content-type']).toContain('javascript');
  expect((await request.get('/assets/nope.js')).status()).toBe(404);
  const cfg = await (await request.get('/api/widget-config')).json();
  expect(cfg).toEqual({ sipHost: '127.0.0.1', sipPath: '/sip', eventsPath: '/events', loginPath: '/api/agents/login', embedOrigins: [process.env.TONEGATE_E2E_CRM], demo: true, languages: ['en', 'hi', 'ta'], defaultLanguage: 'en' });
});

import { expect, signIn, test } from '../support/fixtures.js';

// The SIP registration is real: sip.js over WebSocket to the gateway's /sip, digest auth against
// the gateway's registrar (SHA-256 offered first, as `npm start` does).

test('agent signs in with the right password: SIP REGISTER succeeds and the page shows Registered', async ({ page, snap }) => {
  await page.goto('/agent');
  await expect(page.getByRole('heading', { name: 'Sign in' })).toBeVisible();
  await snap('agent-login');
  await signIn(page, 'agent-1', 'demo');
  await expect(page.locator('#reg-status')).toHaveText('Registered');
  await expect(page.getByRole('heading', { name: 'Pay by phone' })).toBeVisible();
  await expect(page.locator('#call-state')).toHaveText('Waiting for calls');
  await expect(page.getByRole('status')).toContainText('Signed in as agent-1');
  await snap('agent-registered');
});

test('a wrong password is refused by the registrar and the page says so', async ({ page, snap }) => {
  await page.goto('/agent');
  await signIn(page, 'agent-2', 'not-the-password');
  await expect(page.getByRole('alert')).toHaveText('Wrong agent ID or password.');
  await expect(page.locator('#reg-status')).toHaveText('Not registered');
  await expect(page.getByRole('heading', { name: 'Pay by phone' })).toBeHidden();
  // The form is usable again for the next try.
  await expect(page.getByRole('button', { name: 'Sign in' })).toBeEnabled();
  await snap('agent-login-wrong-password');
});

test('an agent id the gateway does not know is refused the same way', async ({ page }) => {
  await page.goto('/agent');
  await signIn(page, 'agent-99', 'demo');
  await expect(page.getByRole('alert')).toHaveText('Wrong agent ID or password.');
  await expect(page.locator('#reg-status')).toHaveText('Not registered');
});

test('sign-out revokes the agent token at the gateway (docs/security.md)', async ({ page, request }) => {
  await page.goto('/agent');
  const loginAnswer = page.waitForResponse((r) => r.url().endsWith('/api/agents/login') && r.request().method() === 'POST');
  await signIn(page, 'agent-3', 'demo');
  const { token } = (await (await loginAnswer).json()) as { token: string };
  await expect(page.locator('#reg-status')).toHaveText('Registered');
  expect((await request.get('/api/sessions', { headers: { authorization: `Bearer ${token}` } })).status()).toBe(200);
  const logoutAnswer = page.waitForResponse((r) => r.url().endsWith('/api/agents/logout'));
  await page.getByRole('button', { name: 'Sign out' }).click();
  expect((await logoutAnswer).status()).toBe(204);
  await expect(page.getByRole('heading', { name: 'Sign in' })).toBeVisible();
  expect((await request.get('/api/sessions', { headers: { authorization: `Bearer ${token}` } })).status()).toBe(401);
});

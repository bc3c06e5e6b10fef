import type { Page } from '@playwright/test';
import { payHeaders, payScenario } from '../../server/devtools/sipp/pay-scenario.js';
import { freeMediaPort, freePort } from '../../server/devtools/ports.js';
import { runSipp, type SippResult } from '../../server/devtools/sipp/run.js';
import { expect, test } from '../support/fixtures.js';
import { base32Decode, totp } from '../../server/src/security/totp.js';

// The supervisor dashboard against a real gateway: real payments are SIPp calls transferred to
// sip:pay@gateway (transfer mode) that key the card, expiry, CVV and the demo OTP as RFC 2833,
// while the page is open. Nothing is mocked: the rows come from the /events socket.

const env = (name: string): string => {
  const v = process.env[name];
  if (!v) throw new Error(`${name} is not set: run through e2e/playwright.config.ts (global setup)`);
  return v;
};
const PAID_PAN = '4111111111111111';
const DECLINED_PAN = '4000000000000002';

async function signInAsSupervisor(page: Page, token: string): Promise<void> {
  await page.getByLabel('Supervisor token').fill(token);
  await page.getByRole('button', { name: 'Sign in' }).click();
}

/** A transfer-mode payment keyed by SIPp (RFC 2833), like server/test/integration/pay-transfer.test.ts. */
async function pay(pan: string, headers: Record<string, string>): Promise<SippResult> {
  const otp = env('TONEGATE_E2E_OTP');
  const scenario = payScenario({
    headers,
    steps: [{ pauseMs: 1500 }, { keys: `${pan}#` }, { keys: '1230' }, { keys: '123' }, { pauseMs: 9000 }, { keys: otp }],
  });
  const run = runSipp({ scenario, target: env('TONEGATE_E2E_SIP'), localPort: await freePort(), mediaPort: await freeMediaPort(), timeoutS: 90 });
  return run.done;
}

const kpi = async (page: Page, id: string): Promise<number> => Number(await page.locator(`#${id}`).textContent());
const rowOf = (page: Page, orderRef: string) => page.locator('#rows tr').filter({ has: page.locator('th', { hasText: orderRef }) });

test('a wrong token is refused with a clear message, and an agent token is not a supervisor token', async ({ page, request, snap }) => {
  const res = await page.goto('/supervisor');
  expect(res?.headers()['content-security-policy']).toContain("script-src 'self'");
  await expect(page.getByRole('heading', { name: 'Supervisor sign-in' })).toBeVisible();
  await signInAsSupervisor(page, 'not-the-supervisor-token');
  await expect(page.getByRole('alert')).toHaveText('The gateway refused that supervisor token. Check the token it printed at start.');
  await expect(page.getByLabel('Supervisor token')).toHaveAttribute('aria-invalid', 'true');
  await expect(page.locator('#dashboard')).toBeHidden();
  await expect(page.locator('#conn-status')).toHaveText('Token refused');
  await snap('supervisor-wrong-token');

  const login = await request.post('/api/agents/login', { data: { agentId: 'agent-3', password: 'demo' } });
  expect(login.status()).toBe(200);
  const { token } = (await login.json()) as { token: string };
  await signInAsSupervisor(page, token);
  await expect(page.getByRole('alert')).toHaveText('That is an agent’s token. The dashboard needs the supervisor token.');
  await expect(page.locator('#dashboard')).toBeHidden();
});

test('two real payments (paid Visa, declined card) appear live with outcome, card, agent and totals, without a reload', async ({ page, snap }) => {
  test.setTimeout(180_000);
  await page.goto('/supervisor');
  // Keyboard only: the token field has focus, Enter signs in.
  await expect(page.getByLabel('Supervisor token')).toBeFocused();
  await page.keyboard.type(env('TONEGATE_E2E_SUPERVISOR_TOKEN'));
  await page.keyboard.press('Enter');
  await expect(page.locator('#conn-status')).toHaveText('Live');
  await expect(page.getByRole('heading', { name: 'Sessions' })).toBeVisible();
  // A marker that a reload or navigation would wipe.
  await page.evaluate(() => ((window as unknown as { noReload?: boolean }).noReload = true));
  const before = {
    total: await kpi(page, 'kpi-total'),
    paid: await kpi(page, 'kpi-paid'),
    declined: await kpi(page, 'kpi-declined'),
  };

  const paidHeaders = payHeaders({ 'X-Pay-Order-Ref': `SUP-PAID-${Date.now() % 1e8}`, 'X-Pay-Agent-Id': 'agent-1' });
  const declinedHeaders = payHeaders({ 'X-Pay-Order-Ref': `SUP-DECL-${Date.now() % 1e8}`, 'X-Pay-Agent-Id': 'agent-2', 'X-Pay-Amount': '2500.50' });
  const paidRef = paidHeaders['X-Pay-Order-Ref']!;
  const declinedRef = declinedHeaders['X-Pay-Order-Ref']!;
  const calls = Promise.all([pay(PAID_PAN, paidHeaders), pay(DECLINED_PAN, declinedHeaders)]);

  // While the customers key: both rows are live, with a ticking elapsed time.
  const paidRow = rowOf(page, paidRef);
  const declinedRow = rowOf(page, declinedRef);
  await expect(paidRow.locator('.col-outcome')).toHaveText('Live');
  await expect(declinedRow.locator('.col-outcome')).toHaveText('Live');
  await expect(page.locator('#kpi-live')).not.toHaveText('0 live');
  await expect(paidRow.locator('.col-state')).toHaveText('Card details', { timeout: 20_000 });
  await expect(paidRow.locator('.col-field')).toHaveText(/Card number|Expiry|CVV/);
  const firstElapsed = await paidRow.locator('.col-elapsed').textContent();
  await expect(paidRow.locator('.col-elapsed')).not.toHaveText(firstElapsed ?? '', { timeout: 5_000 });
  await expect(paidRow.locator('.col-dtmf')).toHaveText('RFC 4733');
  await snap('supervisor-1280-live');

  const results = await calls;
  for (const r of results) expect(r.code, r.errors + r.stderr).toBe(0);

  await expect(paidRow.locator('.col-outcome')).toHaveText('Paid');
  await expect(paidRow.locator('.col-card')).toHaveText('Visa 411111••1111');
  await expect(paidRow.locator('.col-agent')).toHaveText('agent-1');
  await expect(paidRow.locator('.col-amount')).toHaveText(/^1,?499\.00 INR$/);
  await expect(paidRow.locator('.col-state')).toHaveText('Finished');
  await expect(paidRow.locator('.col-instance')).toHaveText('gw-1');
  await expect(declinedRow.locator('.col-outcome')).toContainText('Declined');
  await expect(declinedRow.locator('.col-card')).toHaveText('Visa 400000••0002');
  await expect(declinedRow.locator('.col-agent')).toHaveText('agent-2');
  await expect(declinedRow.locator('.col-amount')).toHaveText(/^2,?500\.50 INR$/);

  // Totals and success rate moved without a reload.
  await expect(page.locator('#kpi-total')).toHaveText(String(before.total + 2));
  await expect(page.locator('#kpi-paid')).toHaveText(String(before.paid + 1));
  await expect(page.locator('#kpi-declined')).toHaveText(String(before.declined + 1));
  await expect(page.locator('#kpi-live')).toHaveText('0 live');
  const paid = await kpi(page, 'kpi-paid');
  const ended = paid + (await kpi(page, 'kpi-declined')) + (await kpi(page, 'kpi-other'));
  await expect(page.locator('#kpi-rate')).toHaveText(`${Math.round((paid / ended) * 100)}%`);
  await expect(page.locator('#kpi-rate-sub')).toHaveText(`${paid} paid of ${ended} ended`);
  await expect(page.locator('#kpi-p50')).toHaveText(/^\d+ s$|min/);
  await expect(page.locator('#kpi-paid-sub')).toHaveText(/INR/);
  await expect(page.locator('#chart svg')).toHaveAttribute('aria-label', /1 paid.*1 declined|\d+ paid, \d+ declined/);
  await expect(page.locator('#live')).toContainText(/Order SUP-(PAID|DECL)-\d+: (paid|declined)/);
  expect(await page.evaluate(() => (window as unknown as { noReload?: boolean }).noReload)).toBe(true);
  await snap('supervisor-1280');

  // Nothing of the card beyond first 6 / last 4, in the text or in the markup.
  const text = `${await page.locator('body').innerText()}\n${await page.content()}`;
  for (const pan of [PAID_PAN, DECLINED_PAN]) expect(text.split(pan).length - 1).toBe(0);
  expect(text).not.toMatch(/\d{13,19}/);

  // Filters: order-ref search and status.
  await page.getByLabel('Order reference').fill(declinedRef.toLowerCase());
  await expect(page.locator('#rows tr')).toHaveCount(1);
  await expect(page.locator('#showing')).toContainText('Showing 1 of');
  await page.getByLabel('Order reference').fill('');
  await page.getByLabel('Status').selectOption('paid');
  await expect(declinedRow).toHaveCount(0);
  await expect(paidRow).toHaveCount(1);
  await page.getByLabel('Agent').selectOption('agent-2');
  await expect(page.locator('#empty')).toHaveText('No session matches the filters.');
  await page.getByRole('button', { name: 'Clear' }).click();
  await expect(declinedRow).toHaveCount(1);

  // At 360 px every session is a card, and nothing overflows sideways.
  await page.setViewportSize({ width: 360, height: 800 });
  await expect(paidRow.locator('.col-outcome')).toBeVisible();
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
  expect(overflow).toBeLessThanOrEqual(0);
  await snap('supervisor-360');

  // A page that never saw these sessions start (a reload) rebuilds them from the `ready` records.
  await page.setViewportSize({ width: 1280, height: 800 });
  await page.reload();
  await expect(page.locator('#conn-status')).toHaveText('Live');
  await expect(rowOf(page, paidRef).locator('.col-outcome')).toHaveText('Paid');
  await expect(rowOf(page, declinedRef).locator('.col-outcome')).toContainText('Declined');
  await expect(rowOf(page, declinedRef).locator('.col-card')).toHaveText('Visa 400000••0002');
  await expect(rowOf(page, paidRef).locator('.col-dtmf')).toHaveText('RFC 4733');
});

test('a named supervisor signs in with password and an authenticator code (RFC 6238); a wrong code is refused', async ({ page, snap }) => {
  await page.goto('/supervisor');
  await page.getByText('Sign in with a named account').click();
  await page.getByLabel('Name').fill('e2e-sup');
  await page.getByLabel('Password').fill('e2e supervisor password');
  await page.getByLabel('Authenticator code').fill('000000');
  await page.getByRole('button', { name: 'Sign in' }).click();
  await expect(page.getByRole('alert')).toHaveText('Wrong name, password or code.');
  await page.getByLabel('Password').fill('e2e supervisor password');
  await page.getByLabel('Authenticator code').fill(totp(base32Decode(env('TONEGATE_E2E_TOTP_SECRET')), Date.now()));
  await snap('supervisor-totp-sign-in');
  await page.getByRole('button', { name: 'Sign in' }).click();
  await expect(page.locator('#conn-status')).toHaveText('Live');
  await expect(page.locator('#dashboard')).toBeVisible();
});

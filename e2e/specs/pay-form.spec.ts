import { expect, signIn, test } from '../support/fixtures.js';

test('the Pay-by-phone form checks its fields like the gateway does before any REFER', async ({ page, snap }) => {
  await page.goto('/agent');
  await signIn(page, 'agent-1', 'demo');
  await expect(page.locator('#reg-status')).toHaveText('Registered');

  await page.getByLabel('Amount').fill('0');
  await page.getByLabel('Customer mobile').fill('98000 00001');
  await page.getByLabel('Merchant ID').fill('M DEMO');
  await page.getByRole('button', { name: 'Pay by phone' }).click();

  await expect(page.locator('#amount-error')).toHaveText('The amount must be greater than 0');
  await expect(page.locator('#orderRef-error')).toHaveText('Enter the order reference');
  await expect(page.locator('#customerMobile-error')).toHaveText('Use international format, e.g. +919800000001');
  await expect(page.locator('#merchantId-error')).toHaveText('Use up to 64 letters, digits and . _ : / -');
  await expect(page.locator('#currency-error')).toBeHidden();
  await expect(page.getByLabel('Amount')).toHaveAttribute('aria-invalid', 'true');
  await expect(page.getByLabel('Amount')).toBeFocused();
  await snap('pay-form-errors');

  await page.getByLabel('Amount').fill('1499.999');
  await page.getByRole('button', { name: 'Pay by phone' }).click();
  await expect(page.locator('#amount-error')).toHaveText('Use digits with at most 2 decimals, e.g. 1499.00');

  // Valid: the form is fine, and the widget explains that a payment needs a call in progress.
  await page.getByLabel('Amount').fill('1499');
  await page.getByLabel('Order reference').fill('ORD-1001');
  await page.getByLabel('Customer mobile').fill('+91 98000 00001');
  await page.getByLabel('Merchant ID').fill('M-DEMO-01');
  await page.getByRole('button', { name: 'Pay by phone' }).click();
  for (const id of ['amount', 'orderRef', 'customerMobile', 'merchantId']) await expect(page.locator(`#${id}-error`)).toBeHidden();
  await expect(page.locator('#pay-error')).toHaveText('Answer a call first: the payment is taken on the call in progress.');
});

test('URL parameters prefill the form', async ({ page }) => {
  await page.goto('/agent?amount=250.50&currency=usd&orderRef=ORD-77&mobile=%2B919800000001&merchant=M-DEMO-01');
  await signIn(page, 'agent-1', 'demo');
  await expect(page.locator('#reg-status')).toHaveText('Registered');
  await expect(page.getByLabel('Amount')).toHaveValue('250.50');
  await expect(page.getByLabel('Currency')).toHaveValue('USD');
  await expect(page.getByLabel('Order reference')).toHaveValue('ORD-77');
  await expect(page.getByLabel('Customer mobile')).toHaveValue('+919800000001');
  await expect(page.getByLabel('Merchant ID')).toHaveValue('M-DEMO-01');
});

test('an allowed CRM origin embeds the widget and prefills it by postMessage', async ({ page }) => {
  await page.goto(`${process.env.TONEGATE_E2E_CRM}/case/1`);
  const widget = page.frameLocator('#w');
  await widget.getByLabel('Agent ID').fill('agent-3');
  await widget.getByLabel('Password').fill('demo');
  await widget.getByRole('button', { name: 'Sign in' }).click();
  await expect(widget.locator('#reg-status')).toHaveText('Registered');
  await expect(widget.getByLabel('Amount')).toHaveValue('999.00');
  await expect(widget.getByLabel('Order reference')).toHaveValue('CRM-42');
  await expect(widget.getByLabel('Customer mobile')).toHaveValue('+919800000002');
  await expect(widget.getByLabel('Merchant ID')).toHaveValue('M-CRM');
});

test('an origin the gateway does not list cannot frame the widget (CSP frame-ancestors)', async ({ page }) => {
  // The same CRM page, served from an origin that is not in WIDGET_EMBED_ORIGINS.
  await page.goto(`${process.env.TONEGATE_E2E_OTHER_ORIGIN}/case/1`);
  // Chromium replaces a frame refused by frame-ancestors with its error page.
  await expect.poll(() => page.frames().find((f) => f !== page.mainFrame())?.url()).toBe('chrome-error://chromewebdata/');
  await expect(page.frameLocator('#w').locator('#login-form')).toHaveCount(0);
});

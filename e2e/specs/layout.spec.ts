import { expect, signIn, test } from '../support/fixtures.js';
import type { Page } from '@playwright/test';

/** Ids of the elements focus visits on `count` presses of Tab from the top of the page. */
async function tabOrder(page: Page, count: number): Promise<string[]> {
  // A click on the top-left corner (the header, before any control) moves the starting point of
  // sequential focus navigation to the top of the page.
  await page.mouse.click(1, 1);
  const seen: string[] = [];
  for (let i = 0; i < count; i++) {
    await page.keyboard.press('Tab');
    seen.push(await page.evaluate(() => document.activeElement?.id || document.activeElement?.tagName || ''));
  }
  return seen;
}

async function horizontalOverflow(page: Page): Promise<number> {
  return page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
}

test.describe('at 360 px wide', () => {
  test.use({ viewport: { width: 360, height: 780 } });

  test('the agent page has no horizontal scroll, signed out or in', async ({ page, snap }) => {
    await page.goto('/agent');
    await expect(page.getByRole('heading', { name: 'Sign in' })).toBeVisible();
    expect(await horizontalOverflow(page)).toBe(0);
    await snap('agent-login-360');
    await signIn(page, 'agent-2', 'demo');
    await expect(page.locator('#reg-status')).toHaveText('Registered');
    await page.getByRole('button', { name: 'Pay by phone' }).click(); // show every error line too
    await expect(page.locator('#amount-error')).toBeVisible();
    expect(await horizontalOverflow(page)).toBe(0);
    await snap('agent-registered-360');
  });

  test('the phone page has no horizontal scroll', async ({ page, snap }) => {
    await page.goto('/phone');
    await expect(page.getByRole('group', { name: 'Keypad' })).toBeVisible();
    expect(await horizontalOverflow(page)).toBe(0);
    await snap('phone-360');
  });
});

test('the agent page works from the keyboard: tab order reaches every control, Enter submits', async ({ page }) => {
  await page.goto('/agent');
  await expect(page.getByRole('heading', { name: 'Sign in' })).toBeVisible();
  expect(await tabOrder(page, 3)).toEqual(['agent-id', 'password', 'sign-in']);

  await page.keyboard.press('Shift+Tab');
  await page.keyboard.press('Shift+Tab');
  await page.keyboard.type('agent-1');
  await page.keyboard.press('Tab');
  await page.keyboard.type('demo');
  await page.keyboard.press('Enter');
  await expect(page.locator('#reg-status')).toHaveText('Registered');
  // After sign-in focus lands in the form, ready to type the amount.
  await expect(page.getByLabel('Amount')).toBeFocused();

  expect(await tabOrder(page, 8)).toEqual(['sign-out', 'amount', 'currency', 'order-ref', 'mobile', 'merchant', 'language', 'pay-submit']);
  // The currency list works from the keyboard too.
  await page.getByLabel('Currency').focus();
  await page.keyboard.press('ArrowDown');
  await expect(page.getByLabel('Currency')).toHaveValue('USD');
  await page.getByLabel('Merchant ID').focus();
  await page.keyboard.press('Enter');
  await expect(page.locator('#amount-error')).toBeVisible();
  await expect(page.getByLabel('Amount')).toBeFocused();
});

test('the phone page works from the keyboard: every key is reachable and typing digits keys them', async ({ page }) => {
  await page.goto('/phone');
  await expect(page.getByRole('group', { name: 'Keypad' })).toBeVisible();
  const order = await tabOrder(page, 15);
  expect(order.slice(0, 2)).toEqual(['dial-to', 'call']);
  expect(order.slice(2, 14)).toEqual(Array(12).fill('BUTTON'));
  await page.locator('body').click();
  await page.keyboard.type('4111#');
  await expect(page.locator('#keyed')).toHaveText('4111#');
});

import type { Page } from '@playwright/test';
import { connect, dotsOn, key, openAgent, openPhone, otpFromInbox, payment, startPayment, step, talkBothWays } from '../support/call-flow.js';
import { expect } from '../support/fixtures.js';
import { test } from '../support/own-gateway.js';

// Inline payments that do not end paid, from real Chromium: what the agent sees (outcome and
// reason), and the call goes on afterwards (both hear each other again).

test.describe.configure({ timeout: 120_000 });
test.use({ ownGatewaySpec: { name: 'outcomes', rtpBase: 41600 } });

/** The customer keys `pan`, expiry and CVV, then the OTP from the phone's inbox. */
async function keyCardAndOtp(agent: Page, phone: Page, pan: string, smsBefore: number): Promise<void> {
  await expect(step(agent, 'pan')).toHaveAttribute('data-status', 'active', { timeout: 30_000 });
  await key(phone, `${pan}#`);
  await expect(step(agent, 'pan')).toHaveAttribute('data-status', 'done');
  await key(phone, '1230');
  await expect(step(agent, 'expiry')).toHaveAttribute('data-status', 'done');
  await key(phone, '123');
  await expect(step(agent, 'otp')).toHaveAttribute('data-status', 'active', { timeout: 20_000 });
  await key(phone, await otpFromInbox(phone, '+919800000001', smsBefore));
}

async function callAndPay(page: Page, phone: Page, tag: string): Promise<{ agent: Page; smsBefore: number }> {
  const agent = await openAgent(page, 'agent-1');
  await connect(agent, phone);
  const smsBefore = await phone.locator('#sms-list li').count();
  await startPayment(agent, payment(`E2E-${tag}-${Date.now()}`));
  return { agent, smsBefore };
}

test('a declined card: the agent sees "Payment declined: do not honour" and the call goes on', async ({ page, context, snap }) => {
  const phone = await openPhone(context);
  const { agent, smsBefore } = await callAndPay(page, phone, 'DECLINE');
  await keyCardAndOtp(agent, phone, '4000000000000002', smsBefore);
  await expect(agent.locator('#outcome')).toHaveText('Payment declined: do not honour.', { timeout: 30_000 });
  await expect(agent.locator('#outcome')).toHaveClass(/outcome-declined/);
  await expect(agent.locator('#card-info')).toContainText('4000 00•• •••• 0002');
  await expect(agent.locator('#muted-banner')).toBeHidden();
  await snap('inline-declined');
  await expect(agent.locator('#call-state')).toContainText('On call with');
  await talkBothWays(agent, phone);
});

test('the provider answers 500 on payment: the agent sees the payment failed with the reason, and the call goes on', async ({ page, context }) => {
  const phone = await openPhone(context);
  const { agent, smsBefore } = await callAndPay(page, phone, 'PG500');
  await keyCardAndOtp(agent, phone, '4000000000000119', smsBefore);
  await expect(agent.locator('#outcome')).toHaveText(/^Payment failed: the payment provider had an error\./, { timeout: 30_000 });
  await expect(agent.locator('#outcome')).toHaveClass(/outcome-failed/);
  await expect(agent.locator('#call-state')).toContainText('On call with');
  await talkBothWays(agent, phone);
});

test.describe('at 360 px wide', () => {
  test.use({ viewport: { width: 360, height: 780 } });

  test('the agent cancels during card entry: "Payment cancelled", the customer is back with the agent', async ({ page, context, snap }) => {
    const phone = await openPhone(context);
    const { agent } = await callAndPay(page, phone, 'CANCEL');
    await expect(step(agent, 'pan')).toHaveAttribute('data-status', 'active', { timeout: 30_000 });
    await key(phone, '411111');
    await expect(dotsOn(agent, 'pan')).toHaveCount(6);
    expect(await agent.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth)).toBe(0);
    await snap('inline-capturing-360');
    await agent.getByRole('button', { name: 'Cancel payment' }).click();
    await expect(agent.locator('#outcome')).toHaveText('Payment cancelled: cancelled by you.');
    await expect(agent.locator('#muted-banner')).toBeHidden();
    await snap('inline-cancelled-360');
    await expect(agent.locator('#call-state')).toContainText('On call with');
    await talkBothWays(agent, phone);
  });
});

import { key, openPhone, otpFromInbox } from '../support/call-flow.js';
import { agentEvents } from '../support/events-socket.js';
import { expect } from '../support/fixtures.js';
import { test } from '../support/own-gateway.js';

// JsSIP interop: the minimal JsSIP agent page (/agent-jssip) registers (JsSIP adds
// +sip.ice itself), answers the /phone customer's call and sends the same REFER as the widget; the
// customer pays. JsSIP answers MD5 digests only and reads the last challenge of a 401,
// so this gateway offers MD5 alone (sip-profiles/jssip/README.md).

test.describe.configure({ timeout: 150_000 });
test.use({ ownGatewaySpec: { name: 'jssip', rtpBase: 42000, env: { SIP_DIGEST_ALGORITHMS: 'MD5' } } });

test('a JsSIP agent registers, answers the /phone customer and hands the call to payment by REFER: paid', async ({ page, context, snap, ownGateway }) => {
  const events = await agentEvents(ownGateway.url, 'agent-1');
  await page.goto('/agent-jssip');
  await page.getByLabel('Agent ID').fill('agent-1');
  await page.getByLabel('Password').fill('demo');
  await page.getByRole('button', { name: 'Sign in' }).click();
  await expect(page.locator('#reg-status')).toHaveText('Registered');

  const phone = await openPhone(context);
  await phone.getByRole('button', { name: 'Call' }).click();
  await expect(page.locator('#call-state')).toContainText('Incoming call from customer-');
  await page.getByRole('button', { name: 'Answer' }).click();
  await expect(page.locator('#call-state')).toContainText('On call with customer-');
  await expect(phone.locator('#phone-status')).toHaveText('Connected');

  const orderRef = `E2E-JSSIP-${Date.now()}`;
  const smsBefore = await phone.locator('#sms-list li').count();
  await page.getByLabel('Order reference').fill(orderRef);
  await page.getByRole('button', { name: 'Pay by phone' }).click();
  await expect(page.locator('#refer-state')).toHaveText('Payment: 100 Trying');

  const field = (name: string) => expect.poll(() => events.messages.some((m) => m.type === 'field.started' && m.field === name), { timeout: 30_000 }).toBe(true);
  await field('pan');
  await key(phone, '4111111111111111#');
  await field('expiry');
  await key(phone, '1230');
  await field('cvv');
  await key(phone, '123');
  await field('otp');
  await key(phone, await otpFromInbox(phone, '+919800000001', smsBefore));

  await expect(page.locator('#refer-state')).toHaveText('Payment: 200 OK', { timeout: 30_000 });
  const started = events.messages.find((m) => m.type === 'session.started' && m.orderRef === orderRef);
  expect(started).toMatchObject({ agentId: 'agent-1', amount: '1499.00', currency: 'INR' });
  expect(events.messages.find((m) => m.type === 'session.ended' && m.sessionId === started?.sessionId)).toMatchObject({ outcome: 'paid', reason: 'approved' });
  await snap('jssip-paid');
  // The call goes on: JsSIP does not hang up on the final NOTIFY.
  await expect(page.locator('#call-state')).toContainText('On call with customer-');
  await expect(phone.locator('#phone-status')).toHaveText('Connected');
  events.close();
});

import { connect, dotsOn, key, openAgent, openPhone, otpFromInbox, payment, snapPage, startPayment, step, talkBothWays } from '../support/call-flow.js';
import { agentEvents } from '../support/events-socket.js';
import { expect } from '../support/fixtures.js';
import { test } from '../support/own-gateway.js';

// The inline payment from real Chromium end to end: the customer on /phone calls support, agent-1
// answers on /agent, hands the call to secure payment (REFER) and watches the masked progress while
// the customer keys the card and the OTP from the phone's SMS inbox; then they talk again.

test.describe.configure({ timeout: 120_000 });
test.use({ ownGatewaySpec: { name: 'pay', rtpBase: 41200 } });

test('customer on /phone pays a Visa keyed on the keypad; the agent sees every step masked and they talk again; agent-2 sees none of it', async ({ page, context, snap, baseURL }) => {
  // Two more /events sockets: agent-1's own (it must see this payment) and agent-2's (nothing of it).
  const mine = await agentEvents(baseURL!, 'agent-1');
  const other = await agentEvents(baseURL!, 'agent-2');
  const agent = await openAgent(page, 'agent-1');
  const phone = await openPhone(context);
  await connect(agent, phone);
  await talkBothWays(agent, phone);

  const smsBefore = await phone.locator('#sms-list li').count();
  const p = payment(`E2E-PAID-${Date.now()}`);
  await startPayment(agent, p);
  await expect(agent.locator('#progress-summary')).toHaveText(`INR 1499.00 · order ${p.orderRef}`);
  // The greeting (who is paying what) plays first; then the card number is asked for.
  await expect(step(agent, 'pan')).toHaveAttribute('data-status', 'active', { timeout: 30_000 });

  await key(phone, '4111111111111111#');
  await expect(dotsOn(agent, 'pan')).toHaveCount(16);
  await expect(step(agent, 'pan')).toHaveAttribute('data-status', 'done');
  await expect(agent.locator('#card-info')).toContainText('Visa');
  await expect(agent.locator('#card-info')).toContainText('4111 11•• •••• 1111');
  await expect(agent.locator('#card-info .badge-ok')).toHaveText('Number valid');
  await snap('inline-capturing');

  await key(phone, '1230');
  await expect(step(agent, 'expiry')).toHaveAttribute('data-status', 'done');
  await key(phone, '123');
  await expect(step(agent, 'cvv')).toHaveAttribute('data-status', 'done');
  await expect(agent.locator('#otp-info')).toHaveText('OTP sent to +91•••••0001');
  await expect(step(agent, 'otp')).toHaveAttribute('data-status', 'active');
  await expect(agent.locator('#muted-banner')).toBeVisible();
  await snap('inline-otp');

  const otp = await otpFromInbox(phone, p.mobile, smsBefore);
  await snapPage(phone, 'phone-sms-otp');
  await key(phone, otp);
  await expect(agent.locator('#outcome')).toHaveText(/^Payment successful, payment ID \S+\.$/, { timeout: 30_000 });
  await expect(agent.locator('#muted-banner')).toBeHidden();
  await snap('inline-paid');

  // The agent page never showed more than first 6 / last 4.
  const text = await agent.locator('body').innerText();
  expect(text).not.toContain('4111111111111111');
  expect(text).not.toContain(otp);
  await expect(agent.locator('#call-state')).toContainText('On call with');
  await talkBothWays(agent, phone);

  // agent-1's socket got the whole session, agent-2's only its own (empty) ready.
  await expect.poll(() => mine.messages.some((m) => m.type === 'session.ended' && m.outcome === 'paid')).toBe(true);
  const sessionId = mine.messages.find((m) => m.type === 'session.started' && m.orderRef === p.orderRef)?.sessionId;
  expect(sessionId).toEqual(expect.any(String));
  expect(other.messages[0]).toMatchObject({ type: 'ready', principal: { kind: 'agent', agentId: 'agent-2' } });
  expect(JSON.stringify(other.messages)).not.toContain(String(sessionId));
  expect(JSON.stringify(other.messages)).not.toContain(p.orderRef);
  expect(other.isOpen()).toBe(true); // it was listening all along
  mine.close();
  other.close();
});

import { connect, hears, key, openAgent, openPhone, payment, startPayment, step, talkBothWays } from '../support/call-flow.js';
import { expect } from '../support/fixtures.js';
import { test } from '../support/own-gateway.js';
import { audioWindow, DTMF_HZ, dtmfSelfTest, pageNow } from '../support/probe.js';

// During the capture the agent hears neither the customer's keys nor the customer, and the customer
// does not hear the agent. Measured on what each Chromium page actually receives (WebAudio analyser
// on the remote track, Goertzel at the eight DTMF frequencies and at the other side's microphone
// sine: AGENT_HZ, CUSTOMER_HZ).

test.describe.configure({ timeout: 120_000 });
test.use({ ownGatewaySpec: { name: 'isolation', rtpBase: 41400 } });

/** A DTMF pair at -20 dBFS per tone reads about 0.1 on the probe: 0.005 is 26 dB below it. */
const DTMF_FLOOR = 0.005;

test('while the customer keys the card the agent hears no DTMF energy and the customer no agent; both come back after', async ({ page, context }) => {
  const agent = await openAgent(page, 'agent-1');
  const phone = await openPhone(context);
  // The detector sees every DTMF pair when there is one (so "none" below means none).
  for (const low of DTMF_HZ.slice(0, 4)) for (const high of DTMF_HZ.slice(4)) expect(await dtmfSelfTest(agent, low, high)).toBeGreaterThan(0.05);

  await connect(agent, phone);
  await talkBothWays(agent, phone);

  await startPayment(agent, payment(`E2E-ISO-${Date.now()}`));
  const agentFrom = await pageNow(agent);
  const phoneFrom = await pageNow(phone);
  await expect(step(agent, 'pan')).toHaveAttribute('data-status', 'active', { timeout: 30_000 });
  await key(phone, '4111111111111111#');
  await expect(step(agent, 'pan')).toHaveAttribute('data-status', 'done');
  await key(phone, '1230');
  await expect(step(agent, 'expiry')).toHaveAttribute('data-status', 'done');
  await key(phone, '123');
  await expect(step(agent, 'cvv')).toHaveAttribute('data-status', 'done');
  const agentTo = await pageNow(agent);
  const phoneTo = await pageNow(phone);

  // The agent's received audio through all of the keying: sampled every 20 ms, no DTMF pair.
  // The window opens when the banner shows, while the last pre-capture audio may still play out, so
  // the customer's voice is judged by its median, DTMF by every sample.
  const heard = await audioWindow(agent, agentFrom, agentTo);
  expect(heard.samples).toBeGreaterThan((agentTo - agentFrom) / 40);
  expect(heard.maxDtmf).toBeLessThan(DTMF_FLOOR);
  expect(heard.medianProbe).toBeLessThan(0.002);
  // The customer heard prompts meanwhile, but never the agent's microphone.
  const customer = await audioWindow(phone, phoneFrom, phoneTo);
  expect(customer.samples).toBeGreaterThan((phoneTo - phoneFrom) / 40);
  expect(customer.maxRms).toBeGreaterThan(0.01); // the prompts
  expect(customer.medianProbe).toBeLessThan(0.002);

  // The agent ends the payment at the OTP; the bridge goes back to normal: they hear each other.
  await expect(agent.locator('#otp-info')).toHaveText('OTP sent to +91•••••0001');
  await agent.getByRole('button', { name: 'Cancel payment' }).click();
  await expect(agent.locator('#outcome')).toHaveText('Payment cancelled: cancelled by you.');
  await hears(phone, (w) => w.medianProbe > 0.02);
  await talkBothWays(agent, phone);
});

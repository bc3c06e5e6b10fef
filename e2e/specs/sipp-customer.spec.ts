import { payScenario } from '../../server/devtools/sipp/pay-scenario.js';
import { freeMediaPort, freePort } from '../../server/devtools/ports.js';
import { runSipp } from '../../server/devtools/sipp/run.js';
import { dotsOn, openAgent, payment, startPayment, step } from '../support/call-flow.js';
import { expect } from '../support/fixtures.js';
import { test } from '../support/own-gateway.js';

// A SIPp customer over UDP (PCMU + telephone-event) keys the card as RFC 2833 events (SIPp's own
// captures, /usr/share/sip-tester/dtmf_2833_*.pcap) while agent-1 follows it in the widget.
// SIPp plays a script and cannot read an SMS inbox, so this file runs its own gateway with a
// fixed DEMO_OTP (the browser specs read theirs from the inbox).

const OTP = '246810';
test.describe.configure({ timeout: 150_000 });
test.use({ ownGatewaySpec: { name: 'sipp', rtpBase: 41800, env: { DEMO_OTP: OTP } } });

test('a SIPp customer keys the card as RFC 2833 events; the agent in the widget sees it paid', async ({ page, snap, ownGateway }) => {
    const agent = await openAgent(page, 'agent-1');
  const scenario = payScenario({
    user: 'agent-1',
    headers: {},
    // After the ACK: time for the agent to hand the call over (the greeting takes type-ahead),
    // the card, expiry and CVV, a pause for the OTP prompt, the OTP; then wait for the agent's BYE.
    steps: [{ pauseMs: 4000 }, { keys: '4111111111111111#' }, { keys: '1230' }, { keys: '123' }, { pauseMs: 8000 }, { keys: OTP }],
    byeTimeoutMs: 90_000,
  });
  const sipp = runSipp({ scenario, target: `127.0.0.1:${ownGateway.sipPort}`, localPort: await freePort(), mediaPort: await freeMediaPort(), timeoutS: 140 });

  await expect(agent.locator('#call-state')).toHaveText('Incoming call from customer');
  await agent.getByRole('button', { name: 'Answer' }).click();
  await expect(agent.locator('#call-state')).toHaveText('On call with customer');
  await startPayment(agent, payment(`E2E-SIPP-${Date.now()}`));

  await expect(dotsOn(agent, 'pan')).toHaveCount(16, { timeout: 30_000 });
  await expect(agent.locator('#card-info')).toContainText('4111 11•• •••• 1111');
  await expect(step(agent, 'cvv')).toHaveAttribute('data-status', 'done', { timeout: 20_000 });
  await expect(agent.locator('#otp-info')).toHaveText('OTP sent to +91•••••0001');
  await expect(agent.locator('#outcome')).toHaveText(/^Payment successful, payment ID \S+\.$/, { timeout: 40_000 });
  await snap('sipp-paid');

  // The call goes on until the agent hangs up; SIPp then gets the gateway's BYE and ends cleanly.
  await expect(agent.locator('#call-state')).toHaveText('On call with customer');
  await agent.getByRole('button', { name: 'Hang up' }).click();
  const r = await sipp.done;
  expect(r.code, r.errors + r.stderr).toBe(0);
  expect(r.successful).toBe(1);
});

import { payHeaders, payScenario } from '../../server/devtools/sipp/pay-scenario.js';
import { freeMediaPort, freePort } from '../../server/devtools/ports.js';
import { runSipp } from '../../server/devtools/sipp/run.js';
import { connect, openAgent, openPhone, payment, talkBothWays } from '../support/call-flow.js';
import { expect } from '../support/fixtures.js';
import { test } from '../support/own-gateway.js';

// Load admission (docs/operations.md, "Overload"): with MAX_CAPTURES=1 and one transfer-mode payment
// already running (a SIPp customer that keys nothing), the agent's Pay by phone is refused with
// 503 + Retry-After before the agent is muted or the customer moved; the widget says when to try
// again and the call goes on, both ways.

test.describe.configure({ timeout: 120_000 });
test.use({ ownGatewaySpec: { name: 'busy', rtpBase: 42400, env: { MAX_CAPTURES: '1', ADMIT_RETRY_AFTER_S: '7', ADMIT_LOOP_LAG_MS: '60000', ADMIT_MEDIA_BUSY: '1' } } });

test('a payment REFER refused for load shows "Payments busy, try again in N s" and the call goes on', async ({ page, context, snap, ownGateway }) => {
  // One capture running: a SIPp customer on sip:pay@ that keys nothing while this test runs.
  const sipp = runSipp({
    scenario: payScenario({ headers: payHeaders(), steps: [{ pauseMs: 90_000 }], byeTimeoutMs: 90_000 }),
    target: `127.0.0.1:${ownGateway.sipPort}`, localPort: await freePort(), mediaPort: await freeMediaPort(), timeoutS: 110,
  });
  const health = async (): Promise<{ status: string; details: { payments: number; reasons?: string[] } }> =>
    (await (await fetch(`${ownGateway.url}/healthz`)).json()) as { status: string; details: { payments: number; reasons?: string[] } };
  await expect.poll(async () => (await health()).details.payments, { timeout: 15_000 }).toBe(1);
  const full = await health();
  expect(full.status).toBe('degraded');
  expect(full.details.reasons?.join('\n')).toContain('1 of 1 payment captures running (MAX_CAPTURES)');

  const agent = await openAgent(page, 'agent-1');
  const phone = await openPhone(context);
  await connect(agent, phone);
  await talkBothWays(agent, phone);

  await agent.getByLabel('Amount').fill('1499.00');
  const p = payment(`E2E-BUSY-${Date.now()}`);
  await agent.getByLabel('Currency').selectOption(p.currency);
  await agent.getByLabel('Order reference').fill(p.orderRef);
  await agent.getByLabel('Customer mobile').fill(p.mobile);
  await agent.getByLabel('Merchant ID').fill(p.merchant);
  await agent.getByRole('button', { name: 'Pay by phone' }).click();
  await expect(agent.locator('#outcome')).toHaveText('Payment could not start: Payments busy, try again in 7 s', { timeout: 15_000 });
  await snap('payments-busy');

  // Nothing moved: the agent is not muted, the customer still talks with the agent, no session began.
  await expect(agent.locator('#muted-banner')).toBeHidden();
  await expect(agent.locator('#call-state')).toContainText('On call with');
  await expect(phone.locator('#phone-status')).toHaveText('Connected');
  await talkBothWays(agent, phone);
  const sessions = (await (await fetch(`${ownGateway.url}/api/sessions?orderRef=${p.orderRef}`, { headers: { authorization: `Bearer ${ownGateway.supervisorToken}` } })).json()) as { sessions: unknown[] };
  expect(sessions.sessions).toHaveLength(0);
  const metrics = await (await fetch(`${ownGateway.url}/metrics`)).text();
  expect(metrics).toMatch(/^tonegate_load_refusals_total\{reason="captures"\} 1$/m);

  await agent.getByRole('button', { name: 'Hang up' }).click();
  sipp.kill();
  await sipp.done;
});

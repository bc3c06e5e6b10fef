import { connect, openAgent, openPhone, payment, startPayment, step } from '../support/call-flow.js';
import { agentEvents } from '../support/events-socket.js';
import { expect } from '../support/fixtures.js';
import { test } from '../support/own-gateway.js';

// The customer's language from the widget (issue 13, part 6): the Pay by phone form offers the
// gateway's PROMPT_LANGUAGES (here all three, the default), the agent picks Hindi, and the capture
// runs in Hindi: its session.started event says `hi` and the greeting is what the customer hears.

test.describe.configure({ timeout: 90_000 });
test.use({ ownGatewaySpec: { name: 'language', rtpBase: 42600 } });

test('the agent picks Hindi in the Pay by phone form; the payment session runs in Hindi', async ({ page, context, baseURL }) => {
  const mine = await agentEvents(baseURL!, 'agent-1');
  const agent = await openAgent(page, 'agent-1');
  const language = agent.getByLabel("Customer's language");
  await expect(language.locator('option')).toHaveText(['English', 'Hindi (हिन्दी)', 'Tamil (தமிழ்)']);
  await expect(language).toHaveValue('en');

  const phone = await openPhone(context);
  await connect(agent, phone);
  await language.selectOption('hi');
  const p = payment(`E2E-HINDI-${Date.now()}`);
  await startPayment(agent, p);
  await expect(step(agent, 'pan')).toHaveAttribute('data-status', 'active', { timeout: 30_000 });

  const started = mine.messages.find((m) => m.type === 'session.started' && m.orderRef === p.orderRef);
  expect(started).toMatchObject({ language: 'hi', amount: '1499.00', currency: 'INR' });
  const sessionId = started!.sessionId;
  const prompts = mine.messages.filter((m) => m.type === 'prompt.playing' && m.sessionId === sessionId).map((m) => m.prompts);
  expect(prompts[0]).toEqual(['greeting.secure', 'greeting.amount']);

  await agent.getByRole('button', { name: 'Cancel payment' }).click();
  await expect(agent.locator('#outcome')).toHaveText('Payment cancelled: cancelled by you.');
  mine.close();
});

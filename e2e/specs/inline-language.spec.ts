import { fileURLToPath } from 'node:url';
import { clipsFor } from '../../server/src/calls/payment/prompt-clips.js';
import type { PromptId, PromptItem } from '../../server/src/capture/index.js';
import { PromptLibrary } from '../../server/src/media/prompts/library.js';
import { connect, openAgent, openPhone, payment, startPayment, step } from '../support/call-flow.js';
import { agentEvents } from '../support/events-socket.js';
import { expect } from '../support/fixtures.js';
import { test } from '../support/own-gateway.js';
import { audioSeries, pageNow, type AudioSample } from '../support/probe.js';

// The customer's language from the widget (docs/operations.md, languages): the Pay by phone form offers the
// gateway's PROMPT_LANGUAGES (here all three, the default), the agent picks Hindi, and the capture
// runs in Hindi: its session.started event says `hi`, and the customer's page hears the Hindi
// greeting: the length of the speech it receives (the probe's 20 ms RMS samples) is the length of
// the Hindi clips the gateway plays, read from the prompt directory the gateway loads, and not
// the English ones'.

const PROMPTS_DIR = fileURLToPath(new URL('../../server/prompts', import.meta.url));
const library = new PromptLibrary(PROMPTS_DIR);

test.describe.configure({ timeout: 90_000 });
test.use({ ownGatewaySpec: { name: 'language', rtpBase: 42600, env: { PROMPTS_DIR } } });

/** RMS above which a 20 ms sample is speech (clips are trimmed below about -40 dBFS, 0.009). */
const VOICED = 0.01;
/** A pause this long ends the prompts: the capture then waits for the first digit (10 s by default). */
const PAUSE_MS = 1500;

/**
 * Seconds of what the customer hears from the greeting to the end of the card-number prompt that
 * follows it (`then`: its ids, from its prompt.playing event), as the gateway plays them: the clips of calls/payment/prompt-clips.ts, with their
 * kept silence at the two ends left out as the page's voiced span leaves it out.
 */
function playedSeconds(language: 'hi' | 'en', amount: string, currency: string, then: readonly PromptId[]): number {
  const greeting: PromptItem[] = ['greeting.secure', 'greeting.amount', { amount, currency }];
  const ids = [...clipsFor({ items: greeting, language }), ...clipsFor({ items: then, language })];
  const pcm = ids.map((id) => library.get(id));
  const samples = pcm.reduce((n, p) => n + p.length, 0);
  const lead = pcm[0]!.findIndex((x) => Math.abs(x) >= 300);
  const last = pcm.at(-1)!;
  let tail = 0;
  while (tail < last.length && Math.abs(last[last.length - 1 - tail]!) < 300) tail++;
  return (samples - lead - tail) / 8000;
}

/**
 * The voiced span the page heard after `from`: from the first speech sample once the agent's voice
 * (its AGENT_HZ sine, which the customer stops hearing when the capture starts) is gone, to the last
 * speech sample before a pause of PAUSE_MS. Undefined until that pause has come.
 */
function voicedSpan(series: AudioSample[]): { start: number; end: number } | undefined {
  const agentGone = series.findIndex((s) => s.probe < 0.02);
  const first = series.findIndex((s, i) => i >= agentGone && agentGone >= 0 && s.rms > VOICED);
  if (first < 0) return undefined;
  let lastVoiced = first;
  for (let i = first; i < series.length; i++) {
    if (series[i]!.rms > VOICED) lastVoiced = i;
    else if (series[i]!.t - series[lastVoiced]!.t >= PAUSE_MS) return { start: series[first]!.t, end: series[lastVoiced]!.t };
  }
  return undefined;
}

test('the agent picks Hindi in the Pay by phone form; the payment runs in Hindi and the customer hears the Hindi greeting', async ({ page, context, baseURL }) => {
  const mine = await agentEvents(baseURL!, 'agent-1');
  const agent = await openAgent(page, 'agent-1');
  const language = agent.getByLabel("Customer's language");
  await expect(language.locator('option')).toHaveText(['English', 'Hindi (हिन्दी)', 'Tamil (தமிழ்)']);
  await expect(language).toHaveValue('en');

  const phone = await openPhone(context);
  await connect(agent, phone);
  await language.selectOption('hi');
  const p = payment(`E2E-HINDI-${Date.now()}`);
  const from = await pageNow(phone);
  await startPayment(agent, p);
  await expect(step(agent, 'pan')).toHaveAttribute('data-status', 'active', { timeout: 30_000 });

  const started = mine.messages.find((m) => m.type === 'session.started' && m.orderRef === p.orderRef);
  expect(started).toMatchObject({ language: 'hi', amount: '1499.00', currency: 'INR' });
  const sessionId = started!.sessionId;
  const prompts = () => mine.messages.filter((m) => m.type === 'prompt.playing' && m.sessionId === sessionId).map((m) => m.prompts);
  await expect.poll(() => prompts().length).toBeGreaterThanOrEqual(2);
  expect(prompts()[0]).toEqual(['greeting.secure', 'greeting.amount']);
  const panPrompt = prompts()[1]! as PromptId[];
  expect(panPrompt[0]).toBe('enter.pan');
  const hindi = playedSeconds('hi', p.amount, p.currency, panPrompt);
  const english = playedSeconds('en', p.amount, p.currency, panPrompt);
  // The two languages' prompts must be far enough apart for the page's measure to tell them apart.
  expect(Math.abs(hindi - english)).toBeGreaterThan(1.5);

  // What the customer's page heard: the greeting and the card-number prompt, then the wait for a digit.
  let span: { start: number; end: number } | undefined;
  await expect
    .poll(async () => (span = voicedSpan(await audioSeries(phone, from, await pageNow(phone)))) !== undefined, { timeout: 40_000, intervals: [500] })
    .toBe(true);
  const heard = (span!.end - span!.start) / 1000;
  const detail = `heard ${heard.toFixed(2)} s; Hindi clips ${hindi.toFixed(2)} s, English ${english.toFixed(2)} s`;
  test.info().annotations.push({ type: 'greeting length', description: detail });
  expect(Math.abs(heard - hindi), detail).toBeLessThan(1);
  expect(Math.abs(heard - english), detail).toBeGreaterThan(1.5);

  await agent.getByRole('button', { name: 'Cancel payment' }).click();
  await expect(agent.locator('#outcome')).toHaveText('Payment cancelled: cancelled by you.');
  mine.close();
});

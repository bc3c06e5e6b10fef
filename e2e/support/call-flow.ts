import { fileURLToPath } from 'node:url';
import type { BrowserContext, Page } from '@playwright/test';
import { expect, signIn } from './fixtures.js';
import { audioWindow, inboundSamples, installProbe, pageNow, type AudioWindow } from './probe.js';

/**
 * The two people of an inline payment as pages of one Chromium: the agent on /agent (its
 * microphone a steady AGENT_HZ sine) and the customer on /phone (a steady CUSTOMER_HZ sine), so
 * each side can tell the other's voice from prompts. Each page probes for the other's frequency.
 *
 * Both lie outside the DTMF bands (697-941, 1209-1633 Hz) by more than the probe's Hann main lobe
 * (47 Hz): a voice reads 0 on the DTMF detector. Chromium's own fake microphone is not used: its
 * beep is a 400 Hz square wave whose harmonics read about 0.01-0.02 there, which a window that
 * starts while pre-capture audio still plays out would count as DTMF energy.
 */
export const AGENT_HZ = 1850;
export const CUSTOMER_HZ = 2400;

export interface Payment {
  amount: string;
  currency: string;
  orderRef: string;
  mobile: string;
  merchant: string;
}

export const payment = (orderRef: string): Payment => ({ amount: '1499.00', currency: 'INR', orderRef, mobile: '+919800000001', merchant: 'M-DEMO-01' });

/** A signed-in, registered agent page (probe listens for the customer). */
export async function openAgent(page: Page, agentId: string, path = '/agent'): Promise<Page> {
  await installProbe(page, { micHz: AGENT_HZ, probeHz: CUSTOMER_HZ });
  await page.goto(path);
  await signIn(page, agentId, 'demo');
  await expect(page.locator('#reg-status')).toHaveText('Registered');
  return page;
}

/** The demo phone page (microphone a CUSTOMER_HZ sine; probe listens for the agent's AGENT_HZ). */
export async function openPhone(context: BrowserContext, path = '/phone'): Promise<Page> {
  const phone = await context.newPage();
  await installProbe(phone, { micHz: CUSTOMER_HZ, probeHz: AGENT_HZ });
  await phone.goto(path);
  await expect(phone.getByRole('group', { name: 'Keypad' })).toBeVisible();
  return phone;
}

/** The phone calls support; the agent answers; both pages say they are connected. */
export async function connect(agent: Page, phone: Page): Promise<void> {
  await phone.getByRole('button', { name: 'Call' }).click();
  await expect(agent.locator('#call-state')).toContainText('Incoming call from');
  await agent.getByRole('button', { name: 'Answer' }).click();
  await expect(agent.locator('#call-state')).toContainText('On call with');
  await expect(phone.locator('#phone-status')).toHaveText('Connected');
}

/** Fills Pay by phone and clicks it; the capture has started when the muted banner shows. */
export async function startPayment(agent: Page, p: Payment): Promise<void> {
  await agent.getByLabel('Amount').fill(p.amount);
  await agent.getByLabel('Currency').selectOption(p.currency);
  await agent.getByLabel('Order reference').fill(p.orderRef);
  await agent.getByLabel('Customer mobile').fill(p.mobile);
  await agent.getByLabel('Merchant ID').fill(p.merchant);
  await agent.getByRole('button', { name: 'Pay by phone' }).click();
  await expect(agent.locator('#muted-banner')).toBeVisible({ timeout: 15_000 });
}

/** Keys `digits` on the phone's keypad (each a click: an RFC 4733 event through RTCDTMFSender). */
export async function key(phone: Page, digits: string): Promise<void> {
  const pad = phone.getByRole('group', { name: 'Keypad' });
  for (const d of digits) await pad.getByRole('button', { name: d === '#' ? 'hash' : d === '*' ? 'star' : d, exact: true }).click();
}

/** The agent's row for a card field (`pan`, `expiry`, `cvv`, `otp`). */
export const step = (agent: Page, field: string) => agent.locator(`#steps li[data-field="${field}"]`);

/** Lit dots of a field on the agent page. */
export const dotsOn = (agent: Page, field: string) => step(agent, field).locator('.dot-on');

/** The OTP the demo provider sent to `mobile`, as the phone page's SMS inbox shows it. */
export async function otpFromInbox(phone: Page, mobile: string, before: number): Promise<string> {
  const items = phone.locator('#sms-list li');
  await expect(items).toHaveCount(before + 1, { timeout: 20_000 });
  const newest = items.first();
  await expect(newest.locator('.sms-meta')).toContainText(mobile);
  const otp = (await newest.locator('mark.sms-otp').textContent()) ?? '';
  expect(otp).toMatch(/^\d{4,8}$/);
  return otp;
}

/** Waits until `page` has heard something in the last `ms` for which `ok` holds (event-driven poll). */
export async function hears(page: Page, ok: (w: AudioWindow) => boolean, ms = 2000): Promise<void> {
  await expect
    .poll(async () => {
      const now = await pageNow(page);
      return ok(await audioWindow(page, now - ms, now));
    }, { timeout: 15_000 })
    .toBe(true);
}

/** Received audio flows both ways: inbound samples grow on both pages, each hears the other. */
export async function talkBothWays(agent: Page, phone: Page): Promise<void> {
  for (const p of [agent, phone]) {
    const before = await inboundSamples(p);
    await expect.poll(() => inboundSamples(p), { timeout: 10_000 }).toBeGreaterThan(before + 8000);
  }
  // Each hears the other's sine.
  await hears(agent, (w) => w.medianProbe > 0.02);
  await hears(phone, (w) => w.medianProbe > 0.02);
}

/** A full-page screenshot of another page than the fixture's (the phone) into e2e/artifacts/screens/. */
export async function snapPage(page: Page, name: string): Promise<void> {
  await page.screenshot({ path: fileURLToPath(new URL(`../artifacts/screens/${name}.png`, import.meta.url)), fullPage: true });
}

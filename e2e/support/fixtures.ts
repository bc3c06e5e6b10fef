import { mkdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { test as base, expect, type Page } from '@playwright/test';

const screens = fileURLToPath(new URL('../artifacts/screens/', import.meta.url));

/** `test` with baseURL pointing at the gateway global-setup.ts started. */
export const test = base.extend<{ snap: (name: string) => Promise<void> }>({
  // eslint-disable-next-line no-empty-pattern -- Playwright fixtures take their dependencies destructured
  baseURL: async ({}, use) => {
    const url = process.env.TONEGATE_E2E_URL;
    if (!url) throw new Error('TONEGATE_E2E_URL is not set: run through e2e/playwright.config.ts (global setup)');
    await use(url);
  },
  /** Saves a full-page screenshot of a main state to e2e/artifacts/screens/<name>.png. */
  snap: async ({ page }, use) => {
    mkdirSync(screens, { recursive: true });
    await use(async (name) => {
      await page.screenshot({ path: `${screens}${name}.png`, fullPage: true });
    });
  },
});
export { expect };

/** Signs in on /agent and waits for the page to say how the SIP registration went. */
export async function signIn(page: Page, agentId: string, password: string): Promise<void> {
  await page.getByLabel('Agent ID').fill(agentId);
  await page.getByLabel('Password').fill(password);
  await page.getByRole('button', { name: 'Sign in' }).click();
}

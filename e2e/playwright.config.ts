import { defineConfig } from '@playwright/test';

/**
 * End-to-end specs in Debian's Chromium (never `npx playwright install`) against a real gateway
 * that global-setup.ts starts on free ports. Flags: fake media
 * devices and loopback ICE for WebRTC, no sandbox (runs as root in CI).
 * Artifacts (traces, failure screenshots, the gateway log, screens/) go to e2e/artifacts/.
 */
export default defineConfig({
  testDir: './specs',
  outputDir: './artifacts/results',
  globalSetup: './global-setup.ts',
  // 2 shared cores and one gateway: one browser at a time keeps timings honest.
  workers: 1,
  fullyParallel: false,
  forbidOnly: true,
  retries: 0,
  timeout: 30_000,
  expect: { timeout: 10_000 },
  reporter: [['list'], ['json', { outputFile: process.env.E2E_JSON ?? '../.test-results/e2e.json' }]],
  use: {
    browserName: 'chromium',
    headless: true,
    viewport: { width: 1280, height: 800 },
    trace: 'retain-on-failure',
    screenshot: 'only-on-failure',
    launchOptions: {
      executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
      args: [
        '--no-sandbox',
        '--disable-gpu',
        '--disable-quic',
        '--no-first-run',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
        '--use-fake-ui-for-media-stream',
        '--use-fake-device-for-media-stream',
        '--allow-loopback-in-peer-connection',
        '--disable-features=WebRtcHideLocalIpsWithMdns',
        '--autoplay-policy=no-user-gesture-required',
      ],
    },
  },
});

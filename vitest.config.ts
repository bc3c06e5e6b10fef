import { defineConfig } from 'vitest/config';

/**
 * Integration files that run one at a time, with nothing else beside them: they measure time
 * (latency, jitter, timers, rate limits, "host too loaded" guards), flood the gateway, or hold
 * many RTP streams in real time, so a neighbour's load would change what they measure. Every
 * other integration file binds its own free ports and runs beside two others: most of their time
 * is spent waiting on real-time audio (a payment call is ~15 s of RTP), not on a core.
 */
export const SERIAL_INTEGRATION = [
  'agents-cluster',
  // Real Chromium, two gateways, Kamailio and SIPp, with a page clock fast-forwarded to a refresh.
  'agents-widget-cluster',
  'did-routing',
  'edge-limits',
  'load-admission',
  'media-latency',
  'media-masking',
  'media-plane',
  'pay-media-timeout',
  'session-timers',
  'sipvicious',
  'sipvicious-production',
  'stuck-calls',
  // Beside two other files its SIP-over-TLS test agent once got no INVITE within 10 s (the SIPp
  // caller's INVITE never reached it; cause not found); alone it passes.
  'tls-sip',
  'trust-boundary',
  'webrtc-chromium',
  'webrtc-media-plane',
].map((name) => `server/test/integration/${name}.test.ts`);

const integration = {
  testTimeout: 120_000,
  hookTimeout: 120_000,
};

export default defineConfig({
  test: {
    projects: [
      {
        test: {
          name: 'unit',
          include: ['server/test/unit/**/*.test.ts', 'agent-widget/test/**/*.test.ts'],
          testTimeout: 20_000,
        },
      },
      {
        test: {
          name: 'integration',
          include: ['server/test/integration/**/*.test.ts'],
          exclude: SERIAL_INTEGRATION,
          ...integration,
          // Real peers on free ports: three files at a time on two cores (they mostly wait).
          maxWorkers: 3,
        },
      },
      {
        test: {
          name: 'integration-serial',
          include: SERIAL_INTEGRATION,
          ...integration,
          fileParallelism: false,
        },
      },
    ],
  },
});

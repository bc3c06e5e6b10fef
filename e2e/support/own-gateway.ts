import { test } from './fixtures.js';
import { startGatewayProcess, type GatewayProcess } from './gateway-process.js';

/**
 * Gives the spec file that calls it a gateway of its own (started before its tests, stopped after),
 * with `env` on top of the usual settings, and points `baseURL` at it. Payment specs use this so
 * what they leave behind (sessions, SMS) never reaches another file's checks. `rtpBase` keeps the
 * RTP ranges of gateways that run at once apart (the shared one uses 41000-41199).
 */
export function ownGateway(name: string, rtpBase: number, env: Record<string, string> = {}): () => GatewayProcess {
  let gw: GatewayProcess | undefined;
  test.beforeAll(async () => {
    gw = await startGatewayProcess({ RTP_PORT_MIN: String(rtpBase), RTP_PORT_MAX: String(rtpBase + 199), ...env }, `gateway-${name}.log`);
  });
  test.afterAll(async () => {
    await gw?.stop();
  });
  test.use({
    // eslint-disable-next-line no-empty-pattern -- Playwright fixtures take their dependencies destructured
    baseURL: async ({}, use) => {
      await use(current().url);
    },
  });
  const current = (): GatewayProcess => {
    if (!gw) throw new Error('the gateway of this file is not started');
    return gw;
  };
  return current;
}

import { test as base } from './fixtures.js';
import { startGatewayProcess, type GatewayProcess } from './gateway-process.js';

/** Which gateway a spec file wants: a log name, the start of its RTP range, extra environment. */
export interface OwnGatewaySpec {
  name: string;
  /** First RTP port; the range is 200 ports (the shared gateway uses 41000-41199). */
  rtpBase: number;
  env?: Record<string, string>;
}

/**
 * `test` for specs that run on a gateway of their own (a worker fixture: started once per file that
 * sets `ownGatewaySpec`, stopped after), with `baseURL` pointing at it. Payment specs use it so the
 * sessions and SMS they leave behind never reach another file's checks.
 */
export const test = base.extend<{ ownGateway: GatewayProcess }, { ownGatewaySpec: OwnGatewaySpec; gatewayProcess: GatewayProcess }>({
  ownGatewaySpec: [{ name: 'own', rtpBase: 41200 }, { scope: 'worker', option: true }],
  gatewayProcess: [
    async ({ ownGatewaySpec: s }, use) => {
      const gw = await startGatewayProcess({ RTP_PORT_MIN: String(s.rtpBase), RTP_PORT_MAX: String(s.rtpBase + 199), ...s.env }, `gateway-${s.name}.log`);
      await use(gw);
      await gw.stop();
    },
    { scope: 'worker' },
  ],
  ownGateway: async ({ gatewayProcess }, use) => {
    await use(gatewayProcess);
  },
  baseURL: async ({ gatewayProcess }, use) => {
    await use(gatewayProcess.url);
  },
});

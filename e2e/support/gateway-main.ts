// A real tonegate gateway for the Playwright specs, on free ports of 127.0.0.1 (the OS picks them),
// in demo mode (embedded demo provider and SMS sink). Run with tsx by global-setup.ts; prints one
// line `TONEGATE_E2E {"httpPort":...,"sipPort":...}` when it listens, logs JSON to stderr, and
// closes on SIGTERM. Settings come from the environment like `npm start` (E2E_* override ports).
import { loadConfig } from '../../server/src/config/load.js';
import { startGateway } from '../../server/src/gateway.js';
import { createLogger } from '../../server/src/observability/logger.js';

const base = loadConfig({
  LOG_LEVEL: 'info',
  RTP_PORT_MIN: '41000',
  RTP_PORT_MAX: '41199',
  // The demo provider's OTP, so SIPp payment scenarios can key it (supervisor.spec.ts).
  DEMO_OTP: '246810',
  ...process.env,
});
const config = { ...base, SIP_PORT: 0, SIP_TLS_PORT: 0, HTTP_PORT: 0, DEMO_PG_PORT: 0, MEDIA_WORKERS: 1 };
const gw = await startGateway(config, createLogger(config.LOG_LEVEL, process.stderr));
process.stdout.write(`TONEGATE_E2E ${JSON.stringify({ httpPort: gw.httpPort, sipPort: gw.sipPort, supervisorToken: gw.supervisorToken, demoOtp: config.DEMO_OTP, tls: gw.tls !== undefined })}\n`);
const stop = (): void => {
  gw.close().then(
    () => process.exit(0),
    () => process.exit(1),
  );
};
process.on('SIGTERM', stop);
process.on('SIGINT', stop);

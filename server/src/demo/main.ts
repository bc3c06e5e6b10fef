/**
 * The demo payment provider on its own: `tsx server/src/demo/main.ts`.
 * Environment: DEMO_PG_PORT (8090), DEMO_PG_HOST (127.0.0.1), DEMO_OTP, LOG_LEVEL.
 */
import { loadConfig } from '../config/load.js';
import { createLogger } from '../observability/logger.js';
import { startDemoProvider } from './provider.js';

const config = loadConfig();
const logger = createLogger(config.LOG_LEVEL);
const provider = await startDemoProvider({
  port: config.DEMO_PG_PORT,
  host: process.env.DEMO_PG_HOST || '127.0.0.1',
  otp: config.DEMO_OTP,
  logger,
});

let stopping = false;
const stop = (signal: string) => {
  if (stopping) return;
  stopping = true;
  logger.info({ signal }, 'stopping demo payment provider');
  void provider.close().then(() => process.exit(0));
};
process.once('SIGINT', () => stop('SIGINT'));
process.once('SIGTERM', () => stop('SIGTERM'));

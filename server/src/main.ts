import { ConfigError, loadConfig } from './config/load.js';
import { createLogger } from './observability/logger.js';
import { startGateway, type Gateway } from './gateway.js';
import type { Config } from './config/schema.js';
import { fileURLToPath } from 'node:url';
import { planSettings } from './config/number-plan.js';
import { loadPlanProfiles, profileEnv } from './handoff/index.js';
import { recordedLanguages } from './calls/payment/recorded-languages.js';
import { applyHeapPolicy } from './observability/heap-policy.js';
import { startPeriodicCompaction } from './observability/heap-compaction.js';

/** What demo mode prints: every address, and the generated tokens (demo secrets only). */
function demoBanner(config: Config, gw: Gateway): string {
  const host = config.SIP_HOST;
  const http = `${gw.tls ? 'https' : 'http'}://${config.HTTP_HOST}:${gw.httpPort}`;
  return (
    [
      '',
      'tonegate is running (demo mode)',
      `  SIP        udp+tcp ${host}:${gw.sipPort}   ws ${http.replace('http', 'ws')}/sip`,
      ...(gw.sipTlsPort !== undefined ? [`  SIP TLS    sips:${host}:${gw.sipTlsPort}   (TLS 1.2+)`] : []),
      `  HTTP       ${http}   (health: ${http}/healthz)`,
      ...(gw.tls
        ? [`  TLS cert   ${gw.tls.reloadable ? config.TLS_CERT_FILE : 'self-signed (TLS_SELF_SIGNED=1)'}  ${gw.tls.current.fingerprint}`]
        : []),
      `  RTP ports  ${config.RTP_PORT_MIN}-${config.RTP_PORT_MAX} on ${config.MEDIA_ADDRESS ?? host}`,
      `  Agents     ${config.AGENTS.map((a) => a.id).join(', ')} (register as sip:<agent>@${host}:${gw.sipPort})`,
      `  Call       sip:support@${host}:${gw.sipPort} rings any free agent, sip:<agent>@... that agent`,
      `  Pay        sip:pay@${host}:${gw.sipPort} with X-Pay-* headers${payDids(config)}`,
      `  REST       ${http}/api/sessions  (Authorization: Bearer ${config.SUPERVISOR_TOKEN ? '<SUPERVISOR_TOKEN>' : gw.supervisorToken})`,
      `  Agent      ${http}/agent  (sign in as an agent above, password ${config.AGENTS.length ? 'from AGENTS (demo: demo)' : '-'})`,
      `  Phone      ${http}/phone  (demo customer: call support, key the card, read the OTP in its SMS inbox)`,
      `  Supervisor ${http}/supervisor  (sign in with the REST bearer token above)`,
      `  Handoffs   POST ${http}/api/handoffs  (Authorization: Bearer ${config.HANDOFF_API_KEY ? '<HANDOFF_API_KEY>' : gw.handoffApiKey})${poolDids(config)}`,
      '',
    ].join('\n') + '\n'
  );
}

/** What production mode prints: addresses and counts, never a secret (docs/security.md). */
function productionBanner(config: Config, gw: Gateway): string {
  const host = config.SIP_HOST;
  const http = `${gw.tls ? 'https' : 'http'}://${config.HTTP_HOST}:${gw.httpPort}`;
  const metrics = config.METRICS_PORT !== undefined ? `http://${config.METRICS_HOST}:${config.METRICS_PORT}/metrics (internal)` : config.METRICS_TOKEN ? `${http}/metrics (bearer METRICS_TOKEN)` : 'not served (set METRICS_HOST/METRICS_PORT or METRICS_TOKEN)';
  return (
    [
      '',
      'tonegate is running (production mode)',
      `  SIP        udp+tcp ${host}:${gw.sipPort}   ws ${http.replace('http', 'ws')}/sip`,
      ...(gw.sipTlsPort !== undefined ? [`  SIP TLS    sips:${host}:${gw.sipTlsPort}   (TLS 1.2+)`] : []),
      `  HTTP       ${http}   (health: ${http}/healthz)`,
      ...(gw.tls ? [`  TLS cert   ${config.TLS_CERT_FILE ?? '-'}  ${gw.tls.current.fingerprint}`] : []),
      `  RTP ports  ${config.RTP_PORT_MIN}-${config.RTP_PORT_MAX} on ${config.MEDIA_ADDRESS ?? host}`,
      `  Agents     ${config.AGENTS.length} configured (hashed)`,
      `  Trusted    ${config.TRUSTED_PEERS.length} peer(s)`,
      `  Provider   ${new URL(config.PAYMENT_API_URL!).origin}`,
      `  Metrics    ${metrics}`,
      '',
    ].join('\n') + '\n'
  );
}

/** The number plan's pay numbers (README, "Routing"), for the banner: `, or sip:+912240000000@...`. */
function payDids(config: Config): string {
  const numbers = planSettings(config).entries.flatMap((e) => (e.kind === 'pay' && e.number !== undefined ? [e.number] : []));
  return numbers.length ? `, or sip:${numbers.slice(0, 3).join('@..., sip:')}@... (number plan)` : '';
}

/** The DID pool (README, "Routing"), for the banner: `; "via": "did" reserves one of +912240000100..+912240000109`. */
function poolDids(config: Config): string {
  const pool = planSettings(config).pool;
  return pool.length ? `; "via": "did" reserves one of ${pool.join(', ')}` : '';
}

/** `npm start`: the gateway; demo mode with embedded defaults unless TONEGATE_MODE=production. */
async function main(): Promise<void> {
  let config;
  try {
    config = loadConfig();
    // The number plan's profiles are files: a missing one is refused here, one line per entry, like the settings.
    const env = profileEnv(config);
    const { problems } = loadPlanProfiles(fileURLToPath(new URL('../../sip-profiles', import.meta.url)), planSettings(config).entries, env);
    // Languages of recorded prompts: their clips (calls/payment/recorded-languages.ts; gateway.ts checks again).
    const promptsDir = config.PROMPTS_DIR ?? fileURLToPath(new URL('../prompts', import.meta.url));
    problems.push(...recordedLanguages(promptsDir, [...new Set([...config.PROMPT_LANGUAGES, config.DEFAULT_LANGUAGE])]).problems);
    if (problems.length) throw new ConfigError(problems);
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`tonegate: ${err.message}\n`);
      process.exit(2);
    }
    throw err;
  }
  const logger = createLogger(config.LOG_LEVEL);
  // Before any load: how the main thread's heap is collected (docs/operations.md, Memory).
  applyHeapPolicy({ growthPercent: config.HEAP_GROWTH_PERCENT, compactEveryGc: config.HEAP_COMPACTION });
  const compaction = !config.HEAP_COMPACTION && config.HEAP_COMPACT_EVERY_S > 0 ? startPeriodicCompaction(config.HEAP_COMPACT_EVERY_S * 1000) : undefined;
  // Production runs the compiled build (npm run build; npm run start:production), not tsx (docs/security.md).
  if (config.TONEGATE_MODE === 'production' && import.meta.url.endsWith('.ts')) {
    logger.warn('production mode from the TypeScript source: run the compiled build instead (npm run build, then npm run start:production)');
  }
  const gw = await startGateway(config, logger);
  process.stdout.write(config.TONEGATE_MODE === 'production' ? productionBanner(config, gw) : demoBanner(config, gw));
  let stopping = false;
  const stop = (sig: string): void => {
    if (stopping) return;
    stopping = true;
    logger.info({ sig }, 'shutting down');
    compaction?.stop();
    gw.close().then(
      () => process.exit(0),
      (err: unknown) => {
        logger.error({ err }, 'shutdown failed');
        process.exit(1);
      },
    );
  };
  // SIGHUP: re-read TLS_CERT_FILE/TLS_KEY_FILE (docs/operations.md); calls and sockets stay up.
  process.on('SIGHUP', () => {
    try {
      gw.reloadCertificates();
    } catch (err) {
      logger.error({ err: err instanceof Error ? err.message : String(err) }, 'tls certificate reload failed; the previous certificate stays in service');
    }
  });
  process.on('SIGINT', () => stop('SIGINT'));
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('unhandledRejection', (err) => logger.error({ err }, 'unhandled rejection'));
}

main().catch((err: unknown) => {
  process.stderr.write(`tonegate failed to start: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});

import type { Config } from '../../config/schema.js';
import { providerPlan, type ProviderSpec } from '../../config/provider-plan.js';
import type { Clock } from '../../lib/clock.js';
import type { Logger } from '../../observability/logger.js';
import { startDemoProvider, type DemoProvider } from '../../demo/index.js';
import { DEFAULT_BREAKER, PaymentProviderClient, READ_POLICY, type OtpModePolicy, type ProviderTimeouts, type RetryPolicy } from '../../providers/index.js';
import { providerAccess, ProviderSettingsError, type ProviderAccess, type ProviderAccessSettings } from '../../providers/access.js';
import { providerChain } from '../../providers/failover.js';
import type { FetchFn } from '../../providers/http.js';
import { ProviderChain, type NamedProvider } from './provider-chain.js';

/** The named payment providers of the configuration, each with its own client, credentials, TLS agent, card key, timeouts, retries and breaker. */
export interface ProviderSet {
  readonly byName: ReadonlyMap<string, NamedProvider>;
  /** The provider of merchants no provider lists. */
  readonly fallback: NamedProvider;
  /** The provider client of one payment: the merchant's provider, then the failover list (./provider-chain.ts). */
  chainFor(merchantId: string, log: Logger, onServe?: (name: string) => void): ProviderChain;
  /** SMS routes in order: the default provider's URL first (the demo provider is also the SMS API). */
  readonly smsUrls: readonly { name: string; baseUrl: string }[];
  /**
   * The fetch of each provider origin with TLS settings of its own (a private CA, a client
   * certificate), so an SMS route on that origin is checked the same way as the provider.
   */
  readonly tlsFetchByOrigin: ReadonlyMap<string, FetchFn>;
  /** The embedded demo provider, when the provider `default` has no URL (demo mode). */
  readonly demo: DemoProvider | undefined;
  close(): Promise<void>;
}

function errorNames(p: ProviderSpec): Partial<Record<keyof ProviderAccessSettings, string>> {
  if (p.where === 'PAYMENT_*') return {};
  return {
    PAYMENT_TLS_CERT_FILE: `${p.where}.tls.certFile`, PAYMENT_TLS_KEY_FILE: `${p.where}.tls.keyFile`, PAYMENT_TLS_CA_FILE: `${p.where}.tls.caFile`,
    PAYMENT_CARD_KEY_FILE: `${p.where}.cardKeyFile`, PAYMENT_CARD_KEY_SHA256: `${p.where}.cardKeySha256`,
  };
}

function timeoutsOf(p: ProviderSpec): Partial<ProviderTimeouts> {
  const t = p.timeouts;
  return {
    ...(t.lookupMs ? { lookupMs: t.lookupMs } : {}), ...(t.otpMs ? { otpMs: t.otpMs } : {}), ...(t.validateMs ? { validateMs: t.validateMs } : {}),
    ...(t.payMs ? { paymentMs: t.payMs } : {}), ...(t.confirmMs ? { confirmMs: t.confirmMs } : {}), ...(t.statusMs ? { statusMs: t.statusMs } : {}),
  };
}

/** The calls that are safe to repeat get the provider's retry settings; the charge keeps PAYMENT_POLICY (providers/pay.ts). */
function readPolicyOf(p: ProviderSpec): RetryPolicy {
  return p.retry ? { ...READ_POLICY, attempts: p.retry.attempts, baseDelayMs: p.retry.baseMs, maxDelayMs: Math.max(p.retry.baseMs, p.retry.maxMs) } : READ_POLICY;
}

export async function createProviders(
  config: Config, logger: Logger, clock: Clock, otpModes: OtpModePolicy,
  fetchFor: ((provider: string, inner?: typeof fetch) => typeof fetch) | undefined, cardEncryption: 'plain' | 'provider-key',
): Promise<ProviderSet> {
  // From the settings themselves (a Config built by hand, or changed after loadConfig, is honoured),
  // with the credentials loadConfig read from the environment.
  const r = providerPlan(config, config.providerSecrets ?? {});
  if (!r.plan) throw new ProviderSettingsError('providers', r.errors.join('; '));
  const plan = r.plan;
  // Every provider's settings first (fail fast, naming the key), before anything starts.
  const accesses: ProviderAccess[] = [];
  try {
    for (const p of plan.providers) {
      const s: ProviderAccessSettings = {
        PAYMENT_API_KEY: p.apiKey?.value, PAYMENT_API_BEARER: p.bearer,
        PAYMENT_TLS_CERT_FILE: p.tls.certFile, PAYMENT_TLS_KEY_FILE: p.tls.keyFile, PAYMENT_TLS_CA_FILE: p.tls.caFile,
        PAYMENT_CARD_KEY_FILE: p.cardKeyFile, PAYMENT_CARD_KEY_SHA256: p.cardKeySha256,
      };
      accesses.push(providerAccess(s, cardEncryption, undefined, errorNames(p)));
    }
  } catch (err) {
    for (const a of accesses) a.close();
    throw err;
  }
  let demo: DemoProvider | undefined;
  if (plan.providers.some((p) => p.url === undefined)) {
    demo = await startDemoProvider({
      port: config.DEMO_PG_PORT, host: '127.0.0.1', logger, ...(config.DEMO_OTP ? { otp: config.DEMO_OTP } : {}),
      ...(config.DEMO_NO_ANSWER_SETTLE_S !== undefined ? { noAnswerSettleMs: config.DEMO_NO_ANSWER_SETTLE_S * 1000 } : {}),
    });
  }
  const byName = new Map<string, NamedProvider>();
  const urls = new Map<string, string>();
  plan.providers.forEach((p, i) => {
    const access = accesses[i]!;
    const baseUrl = p.url ?? demo!.url;
    urls.set(p.name, baseUrl);
    // The single provider keeps its historical name in logs and metrics.
    const name = p.name === 'default' ? 'payment' : p.name;
    const client = new PaymentProviderClient({
      name, baseUrl, logger, clock, otpModes, cardEncryption: access.cardEncryption,
      fetch: fetchFor ? fetchFor(name, access.fetch) : access.fetch,
      ...(access.apiKeyHeader ? { apiKeyHeader: access.apiKeyHeader, apiKeyHeaderName: p.apiKey?.header ?? 'x-api-key' } : {}),
      ...(access.bearer ? { apiKey: access.bearer } : {}),
      timeouts: timeoutsOf(p),
      readPolicy: readPolicyOf(p),
      statusPolicy: readPolicyOf(p),
      ...(p.breaker ? { breaker: { ...DEFAULT_BREAKER, failureThreshold: p.breaker.failures, windowMs: p.breaker.windowSeconds * 1000, cooldownMs: p.breaker.openSeconds * 1000 } } : {}),
    });
    byName.set(p.name, { name: p.name, client });
  });
  const tlsFetchByOrigin = new Map<string, FetchFn>();
  plan.providers.forEach((p, i) => {
    const origin = p.url ? new URL(p.url).origin : undefined;
    // The first provider of an origin wins (the default is first).
    if (origin && (p.tls.caFile || p.tls.certFile) && !tlsFetchByOrigin.has(origin)) tlsFetchByOrigin.set(origin, accesses[i]!.fetch);
  });
  const merchants = new Map(plan.providers.flatMap((p) => p.merchants.map((m) => [m, p.name] as const)));
  const fallback = byName.get(plan.defaultName)!;
  const order = [plan.defaultName, ...plan.failover, ...byName.keys()];
  // One route per distinct URL: `primary` (the default provider's), then `via-<provider>` in failover order.
  const smsUrls = [...new Set(order.map((n) => urls.get(n)!))].map((baseUrl, i) => ({ name: i === 0 ? 'primary' : `via-${[...urls].find(([, u]) => u === baseUrl)![0]}`, baseUrl }));
  return {
    byName,
    fallback,
    chainFor: (merchantId, log, onServe) =>
      new ProviderChain(providerChain(merchantId, { merchants, defaultName: plan.defaultName, failover: plan.failover }).map((n) => byName.get(n)!), log.child({ merchantId }), onServe),
    smsUrls,
    tlsFetchByOrigin,
    demo,
    close: async () => {
      for (const a of accesses) a.close();
      await demo?.close();
    },
  };
}

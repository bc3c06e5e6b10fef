import type { Config } from '../../config/schema.js';
import type { Clock } from '../../lib/clock.js';
import type { Logger } from '../../observability/logger.js';
import type { DemoProvider } from '../../demo/index.js';
import { DLT_MAX_VAR_LENGTH, parseMerchantOtpModes, SmsClient, type DltProblem, type PaymentProviderClient } from '../../providers/index.js';
import { DEMO_SMS } from '../../config/sms.js';
import { smsRoutes, smsTemplates, type SmsTemplates } from './sms-setup.js';
import { fetchByOrigin, keepAliveFetch } from '../../providers/keepalive-fetch.js';
import type { TransactionLimits } from '../../handoff/index.js';
import type { OtpSmsTemplate, ReceiptSmsTemplate } from '../../capture/port.js';
import type { CaptureConfig } from '../../capture/index.js';
import type { CapturePayments } from '../../capture/port.js';
import type { NamedProvider } from './provider-chain.js';
import { createProviders } from './providers-setup.js';
import { allowedBrands, captureOverrides } from '../../config/capture-policy.js';

/** The demo OTP SMS as registered on the DLT platform (config/sms.ts DEMO_SMS; a deployment sets its own in `sms:`). */
export const DEMO_OTP_TEMPLATE: OtpSmsTemplate = smsTemplates(DEMO_SMS, { defaultLanguage: 'en', receipts: false }).forLanguage('en').otp;

/** The demo receipt SMS (DLT kind `receipt`), sent after `paid` when RECEIPT_SMS=on. */
export const DEMO_RECEIPT_TEMPLATE: ReceiptSmsTemplate = smsTemplates(DEMO_SMS, { defaultLanguage: 'en', receipts: true }).forLanguage('en').receipt!;

/**
 * Limits the SMS templates put on the transaction: a field that fills a `{#var#}` of a template
 * may carry at most 30 characters (DLT), so a longer one is refused at the handoff (400 with a
 * Warning naming it), not after the customer has keyed the card. `t`: an OTP template, or the
 * vars of every template in use (sms-setup.ts).
 */
export function smsFieldLimits(t: { readonly vars: readonly string[] }): TransactionLimits {
  const why = `it fills a variable of the DLT-registered SMS, at most ${DLT_MAX_VAR_LENGTH} characters`;
  const limit = { max: DLT_MAX_VAR_LENGTH, why };
  return {
    maxLength: {
      ...(t.vars.includes('orderRef') ? { orderRef: limit } : {}),
      ...(t.vars.includes('merchantId') ? { merchantId: limit } : {}),
    },
  };
}

export interface Payments {
  /** The default provider's client (transaction lookups; the only one with the single-provider settings). */
  payment: PaymentProviderClient;
  /** Every named provider (config/provider-plan.ts), by name. */
  providers: ReadonlyMap<string, NamedProvider>;
  /** The provider client of one payment: the merchant's provider, with failover before any charge (./provider-chain.ts). */
  paymentFor?: (merchantId: string, log: Logger, onServe?: (provider: string) => void) => CapturePayments;
  sms: SmsClient;
  /** The OTP template of the default language. */
  otpTemplate: OtpSmsTemplate;
  /** The templates per language (`sms:` in the configuration, else the demo ones: sms-setup.ts). */
  smsTemplates?: SmsTemplates;
  /** Capture policy for a merchant: the file's `capture:` section with its merchant overrides (config/capture-policy.ts). */
  captureConfig?: (merchantId: string) => Partial<CaptureConfig>;
  /** Capture settings every payment uses on top of the merchant's (the gateway sets the card velocity check: docs/security.md). */
  readonly capture?: Partial<CaptureConfig>;
  /** The receipt SMS after `paid`; undefined when RECEIPT_SMS is off. */
  receiptTemplate: ReceiptSmsTemplate | undefined;
  /** The embedded demo provider, when PAYMENT_API_URL is unset. */
  demo: DemoProvider | undefined;
  /** The prompt languages a handoff may ask for (`prompts.languages`). */
  languages?: readonly string[];
  /** The clip ids of the languages of recorded prompts (./recorded-languages.ts), for their optional clips. */
  readonly recordedClips?: ReadonlySet<string>;
  close(): Promise<void>;
}

export interface PaymentsOptions {
  /** The fetch each provider client uses (metrics time them); default the global fetch. */
  readonly fetchFor?: (provider: string, inner?: typeof fetch) => typeof fetch;
  /** The configured SIP profile's (providers/access.ts adds the pinned key settings). */
  readonly cardEncryption?: 'plain' | 'provider-key';
  /** An SMS refused before sending because it does not fit its DLT template (counted in /metrics). */
  readonly onSmsRefused?: (problem: DltProblem) => void;
  /** See {@link Payments.recordedClips}. */
  readonly recordedClips?: ReadonlySet<string>;
  /** See {@link Payments.capture}. */
  readonly capture?: Partial<CaptureConfig>;
}

/**
 * Payment provider and SMS clients: one client per named provider (./providers-setup.ts); in demo
 * mode, without a provider URL, the demo provider runs embedded on DEMO_PG_PORT.
 */
export async function createPayments(config: Config, logger: Logger, clock: Clock, options: PaymentsOptions = {}): Promise<Payments> {
  const { fetchFor, cardEncryption = 'plain', onSmsRefused } = options;
  const otpModes = { default: config.OTP_MODE, merchants: config.OTP_MODE_MERCHANTS ? parseMerchantOtpModes(config.OTP_MODE_MERCHANTS) : undefined };
  const set = await createProviders(config, logger, clock, otpModes, fetchFor, cardEncryption); // fails fast on bad settings
  // The SMS routes' keep-alive connections (providers/keepalive-fetch.ts); closed with the payments.
  // A route on a provider's origin goes through that provider's agent (its private CA and client
  // certificate); any other origin is checked against the system CAs.
  const smsAgent = keepAliveFetch();
  const smsInner = fetchByOrigin(set.tlsFetchByOrigin, smsAgent.fetch);
  const smsFetch = fetchFor ? fetchFor('sms', smsInner) : smsInner;
  // The file's DLT routes when given (config/sms.ts); otherwise the providers' own SMS endpoints in
  // failover order, so an OTP SMS still goes out while the default provider is down.
  const routes = config.sms?.routes ? smsRoutes(config.sms, set.smsUrls[0]!.baseUrl) : [...set.smsUrls];
  const sms = new SmsClient({ routes, logger, clock, fetch: smsFetch, ...(onSmsRefused ? { onRefused: onSmsRefused } : {}) });
  const templates = smsTemplates(config.sms, { defaultLanguage: config.DEFAULT_LANGUAGE, receipts: config.RECEIPT_SMS === 'on' });
  const own = templates.forLanguage(config.DEFAULT_LANGUAGE);
  return {
    languages: config.PROMPT_LANGUAGES,
    payment: set.fallback.client,
    providers: set.byName,
    paymentFor: (merchantId, log, onServe) => set.chainFor(merchantId, log, onServe),
    sms,
    otpTemplate: own.otp,
    smsTemplates: templates,
    captureConfig: (merchantId) => ({
      ...captureOverrides(config.capture, merchantId),
      ...(config.capture ? { allowedBrands: (m: string) => allowedBrands(config.capture, m) } : {}),
    }),
    receiptTemplate: own.receipt,
    demo: set.demo,
    ...(options.recordedClips ? { recordedClips: options.recordedClips } : {}),
    ...(options.capture ? { capture: options.capture } : {}),
    close: async () => {
      smsAgent.close();
      await set.close();
    },
  };
}

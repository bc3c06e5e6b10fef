import type { Config } from '../../config/schema.js';
import type { Clock } from '../../lib/clock.js';
import type { Logger } from '../../observability/logger.js';
import type { DemoProvider } from '../../demo/index.js';
import { DLT_MAX_VAR_LENGTH, parseMerchantOtpModes, SmsClient, type PaymentProviderClient } from '../../providers/index.js';
import { keepAliveFetch } from '../../providers/keepalive-fetch.js';
import type { TransactionLimits } from '../../handoff/index.js';
import type { OtpSmsTemplate, ReceiptSmsTemplate } from '../../capture/port.js';
import type { CaptureConfig } from '../../capture/index.js';
import type { CapturePayments } from '../../capture/port.js';
import type { NamedProvider } from './provider-chain.js';
import { createProviders } from './providers-setup.js';
import { allowedBrands, captureOverrides } from '../../config/capture-policy.js';

/**
 * The OTP SMS as registered on the DLT platform (TRAI TCCCPR 2018): PE ID, header (sender ID) and
 * content template with `{#var#}` placeholders. Demo values; a deployment sets its own.
 */
export const DEMO_OTP_TEMPLATE: OtpSmsTemplate = {
  template: {
    templateId: '1107161234567890123',
    peId: '1101159876543210987',
    senderId: 'TNGATE',
    text: '{#var#} is your OTP to pay {#var#} {#var#} for order {#var#}. Do not share it. - Tonegate',
  },
  vars: ['otp', 'currency', 'amount', 'orderRef'],
};

/** The receipt SMS (DLT kind `receipt`), sent after `paid` when RECEIPT_SMS=on. Demo values. */
export const DEMO_RECEIPT_TEMPLATE: ReceiptSmsTemplate = {
  template: {
    templateId: '1107161234567890124',
    peId: '1101159876543210987',
    senderId: 'TNGATE',
    text: 'Payment of {#var#} {#var#} received for order {#var#}, card ending {#var#}. Ref {#var#}. - Tonegate',
  },
  vars: ['currency', 'amount', 'orderRef', 'last4', 'paymentId'],
};

/**
 * Limits the OTP SMS puts on the transaction: a field that fills a `{#var#}` of the template may
 * carry at most 30 characters (DLT), so a longer one is refused at the handoff (400 with a Warning
 * naming it), not after the customer has keyed the card.
 */
export function smsFieldLimits(t: OtpSmsTemplate): TransactionLimits {
  const why = `it fills a variable of the DLT-registered OTP SMS, at most ${DLT_MAX_VAR_LENGTH} characters`;
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
  otpTemplate: OtpSmsTemplate;
  /** Capture policy for a merchant: the file's `capture:` section with its merchant overrides (config/capture-policy.ts). */
  captureConfig?: (merchantId: string) => Partial<CaptureConfig>;
  /** Capture settings every payment uses on top of the merchant's (the gateway sets the card velocity check: docs/security.md). */
  capture?: Partial<CaptureConfig>;
  /** The receipt SMS after `paid`; undefined when RECEIPT_SMS is off. */
  receiptTemplate: ReceiptSmsTemplate | undefined;
  /** The embedded demo provider, when PAYMENT_API_URL is unset. */
  demo: DemoProvider | undefined;
  close(): Promise<void>;
}

/**
 * Payment provider and SMS clients: one client per named provider (./providers-setup.ts); in demo
 * mode, without a provider URL, the demo provider runs embedded on DEMO_PG_PORT.
 * `fetchFor`: the fetch each provider client uses (metrics time them); default the global fetch.
 * `cardEncryption`: the configured SIP profile's (providers/access.ts adds the pinned key settings).
 */
export async function createPayments(
  config: Config, logger: Logger, clock: Clock, fetchFor?: (provider: string, inner?: typeof fetch) => typeof fetch, cardEncryption: 'plain' | 'provider-key' = 'plain',
): Promise<Payments> {
  const otpModes = { default: config.OTP_MODE, merchants: config.OTP_MODE_MERCHANTS ? parseMerchantOtpModes(config.OTP_MODE_MERCHANTS) : undefined };
  const set = await createProviders(config, logger, clock, otpModes, fetchFor, cardEncryption); // fails fast on bad settings
  // The SMS routes' keep-alive connections (providers/keepalive-fetch.ts); closed with the payments.
  const smsAgent = keepAliveFetch();
  const smsFetch = fetchFor ? fetchFor('sms', smsAgent.fetch) : smsAgent.fetch;
  const sms = new SmsClient({ routes: [...set.smsUrls], logger, clock, fetch: smsFetch });
  return {
    payment: set.fallback.client,
    providers: set.byName,
    paymentFor: (merchantId, log, onServe) => set.chainFor(merchantId, log, onServe),
    sms,
    otpTemplate: DEMO_OTP_TEMPLATE,
    captureConfig: (merchantId) => ({
      ...captureOverrides(config.capture, merchantId),
      ...(config.capture ? { allowedBrands: (m: string) => allowedBrands(config.capture, m) } : {}),
    }),
    receiptTemplate: config.RECEIPT_SMS === 'on' ? DEMO_RECEIPT_TEMPLATE : undefined,
    demo: set.demo,
    close: async () => {
      smsAgent.close();
      await set.close();
    },
  };
}

import type { Config } from '../../config/schema.js';
import type { Clock } from '../../lib/clock.js';
import type { Logger } from '../../observability/logger.js';
import { startDemoProvider, type DemoProvider } from '../../demo/index.js';
import { DLT_MAX_VAR_LENGTH, PaymentProviderClient, SmsClient } from '../../providers/index.js';
import type { TransactionLimits } from '../../handoff/index.js';
import type { OtpSmsTemplate } from '../../capture/port.js';
import type { CaptureConfig } from '../../capture/config.js';

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
  payment: PaymentProviderClient;
  sms: SmsClient;
  otpTemplate: OtpSmsTemplate;
  /** The embedded demo provider, when PAYMENT_API_URL is unset. */
  demo: DemoProvider | undefined;
  /** Capture settings every payment call uses (the gateway sets the card velocity check: docs/security.md). */
  capture?: Partial<CaptureConfig>;
  close(): Promise<void>;
}

/** Payment provider and SMS clients; in demo mode the demo provider runs embedded on DEMO_PG_PORT. */
/** `fetchFor`: the fetch each provider client uses (metrics time them); default the global fetch. */
export async function createPayments(config: Config, logger: Logger, clock: Clock, fetchFor?: (provider: string) => typeof fetch): Promise<Payments> {
  let demo: DemoProvider | undefined;
  let baseUrl = config.PAYMENT_API_URL;
  if (!baseUrl) {
    demo = await startDemoProvider({ port: config.DEMO_PG_PORT, host: '127.0.0.1', logger, ...(config.DEMO_OTP ? { otp: config.DEMO_OTP } : {}) });
    baseUrl = demo.url;
  }
  const payment = new PaymentProviderClient({ baseUrl, logger, clock, ...(fetchFor ? { fetch: fetchFor('payment') } : {}) });
  const sms = new SmsClient({ routes: [{ name: 'primary', baseUrl }], logger, clock, ...(fetchFor ? { fetch: fetchFor('sms') } : {}) });
  return {
    payment,
    sms,
    otpTemplate: DEMO_OTP_TEMPLATE,
    demo,
    close: async () => {
      await demo?.close();
    },
  };
}

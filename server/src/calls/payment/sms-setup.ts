import { DEMO_SMS, type SmsSettings, type SmsTemplateConfig } from '../../config/sms.js';
import type { OtpSmsTemplate, OtpTemplateVar, ReceiptSmsTemplate, ReceiptTemplateVar } from '../../capture/port.js';
import type { Language } from '../../handoff/index.js';
import type { SmsRoute } from '../../providers/sms-client.js';

/**
 * The SMS the gateway sends, from the configuration's `sms:` section (config/sms.ts, checked at
 * start) or the demo registration: the DLT templates per kind and language, and the routes.
 */
export interface SmsTemplates {
  /** The templates of a call in `language`: its own, else the default language's, else the first one configured. */
  forLanguage(language: Language | undefined): { otp: OtpSmsTemplate; receipt: ReceiptSmsTemplate | undefined };
  /** Everything any template fills from the transaction (the handoff limits those to 30 characters). */
  readonly vars: readonly string[];
}

function pick<T>(byLang: Partial<Record<Language, T>> | undefined, lang: Language | undefined, fallback: Language): T | undefined {
  if (!byLang) return undefined;
  return (lang ? byLang[lang] : undefined) ?? byLang[fallback] ?? Object.values(byLang).find((t) => t !== undefined);
}

export function smsTemplates(s: SmsSettings = DEMO_SMS, o: { defaultLanguage: Language; receipts: boolean }): SmsTemplates {
  const dlt = (t: SmsTemplateConfig) => ({ templateId: t.templateId, peId: s.peId, senderId: s.header, text: t.text });
  const all = [...Object.values(s.templates.otp), ...(o.receipts ? Object.values(s.templates.receipt ?? {}) : [])].filter((t) => t !== undefined);
  return {
    forLanguage(language) {
      const otp = pick(s.templates.otp, language, o.defaultLanguage);
      if (!otp) throw new RangeError('sms.templates.otp: no template'); // the config check makes sure there is one
      const receipt = o.receipts ? pick(s.templates.receipt, language, o.defaultLanguage) : undefined;
      return {
        otp: { template: dlt(otp), vars: otp.vars as readonly OtpTemplateVar[] },
        receipt: receipt ? { template: dlt(receipt), vars: receipt.vars as readonly ReceiptTemplateVar[] } : undefined,
      };
    },
    vars: [...new Set(all.flatMap((t) => t.vars))],
  };
}

/** The routes in the order tried; unset: one route to the payment provider (demo: the embedded SMS sink). */
export function smsRoutes(s: SmsSettings | undefined, providerUrl: string): SmsRoute[] {
  if (!s?.routes) return [{ name: 'primary', baseUrl: providerUrl }];
  return s.routes.map((r) => ({
    name: r.name, baseUrl: r.url, kind: r.kind, timeoutMs: r.timeoutMs,
    ...(r.auth ? { apiKey: r.auth.key, authScheme: r.auth.scheme } : {}),
  }));
}

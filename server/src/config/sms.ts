import { readFileSync } from 'node:fs';
import { z } from 'zod/v4';
import { LANGUAGE_CODE, type PromptLanguage } from '../contract/events.js';
import { countPlaceholders, DLT_MAX_VAR_LENGTH, DLT_VAR, encodingOf, isUcs2, otherPlaceholders, PART_LIMITS, smsSize } from '../lib/sms-text.js';

/**
 * The configuration file's `sms:` section (docs/operations.md, "SMS under DLT"): the DLT
 * registration (PE ID, header), the SMS routes in the order they are tried, and per message kind
 * and language the registered template (ID and approved text) with what fills each `{#var#}`.
 * Every template is checked here, at start: a bad one refuses the start naming its key.
 */

/** What may fill a `{#var#}` of each kind of message (never the card: the receipt's last 4 digits only). */
export const SMS_VARS = {
  otp: ['otp', 'amount', 'currency', 'orderRef', 'merchantId'],
  receipt: ['last4', 'amount', 'currency', 'orderRef', 'merchantId', 'paymentId'],
} as const;
export type SmsKind = keyof typeof SMS_VARS;

/**
 * The longest value of each variable, for the worst-case message length: the OTP is 4-8 digits
 * (providers/schemas.ts), an amount at most 12 digits, a point and 2 decimals (handoff/), the
 * currency ISO 4217; order reference and merchant id are refused longer than 30 at the handoff
 * when a template carries them, and a longer payment id is refused at send time.
 */
const VAR_MAX: Record<string, number> = { otp: 8, amount: 15, currency: 3, last4: 4, orderRef: DLT_MAX_VAR_LENGTH, merchantId: DLT_MAX_VAR_LENGTH, paymentId: DLT_MAX_VAR_LENGTH };

const dltId = (what: string) => z.string().regex(/^\d{12,19}$/, `a DLT ${what}: 12-19 digits`);

const template = <K extends SmsKind>(kind: K) =>
  z.strictObject({
    templateId: dltId('content template ID'),
    text: z.string().min(1).max(1000).meta({ description: 'The approved text exactly as registered, variables as {#var#}.' }),
    vars: z.array(z.enum(SMS_VARS[kind])).min(1).meta({ description: `What fills each {#var#}, in order: ${SMS_VARS[kind].join(', ')}.` }),
  });
/** Templates by prompt language code: en, hi, ta or a language of recorded prompts. */
const perLanguage = <K extends SmsKind>(kind: K) =>
  z.record(z.string().regex(LANGUAGE_CODE, 'a language code: 2-3 lower-case letters (ISO 639)'), template(kind)).meta({ description: 'By language code (en, hi, ta or a language of recorded prompts).' });

const LOOPBACK = /^(127\.\d+\.\d+\.\d+|localhost|\[::1\])$/;
const routeSchema = z.strictObject({
  name: z.string().regex(/^[a-z0-9-]{1,32}$/, 'a name of [a-z0-9-]'),
  url: z.url().refine((u) => { const url = new URL(u); return url.protocol === 'https:' || (url.protocol === 'http:' && LOOPBACK.test(url.hostname)); }, 'must be https: (http: only to a loopback address)'),
  kind: z.enum(['tonegate-json']).default('tonegate-json').meta({ description: 'tonegate-json: POST <url>/v1/sms with {to, senderId, peId, templateId, text} (docs/provider-api.openapi.yaml).' }),
  auth: z
    .strictObject({
      scheme: z.enum(['bearer', 'x-api-key']).default('bearer'),
      secretEnv: z.string().regex(/^[A-Z][A-Z0-9_]{0,63}$/, 'an environment variable name').meta({ description: 'The variable (or <NAME>_FILE) that holds the key; never the key itself.' }),
    })
    .optional(),
  timeoutMs: z.number().int().min(100).max(60_000).default(5_000),
});

export const smsSectionSchema = z
  .strictObject({
    peId: dltId('Principal Entity ID').meta({ description: 'Principal Entity ID of the DLT registration.' }),
    header: z.string().regex(/^[A-Za-z0-9]{6}$/, 'a DLT header: 6 letters or digits').meta({ description: 'Header (sender ID) the templates are registered under.' }),
    maxParts: z.number().int().min(1).max(10).default(3).meta({ description: 'Most parts a message may take at its longest (GSM-7 153, UCS-2 67 characters per part).' }),
    routes: z.array(routeSchema).min(1).max(8).optional().meta({ description: 'SMS gateways in the order tried; unset: the payment provider (demo: the embedded sink).' }),
    templates: z.strictObject({ otp: perLanguage('otp'), receipt: perLanguage('receipt').optional() }),
  })
  .superRefine((s, ctx) => {
    const names = s.routes?.map((r) => r.name) ?? [];
    names.forEach((n, i) => { if (names.indexOf(n) !== i) ctx.addIssue({ code: 'custom', message: `repeats route ${names.indexOf(n)} (${n})`, path: ['routes', i, 'name'] }); });
    for (const kind of ['otp', 'receipt'] as const) {
      for (const lang of Object.keys(s.templates[kind] ?? {})) {
        const t = s.templates[kind]?.[lang];
        if (!t) continue;
        for (const [field, message] of templateProblems(kind, t, s.maxParts)) ctx.addIssue({ code: 'custom', message, path: ['templates', kind, lang, field] });
      }
    }
  })
  .meta({ description: 'SMS under DLT: registration, routes and templates; unset: the demo registration and templates.' });

export type SmsSection = z.output<typeof smsSectionSchema>;
export interface SmsTemplateConfig { readonly templateId: string; readonly text: string; readonly vars: readonly string[] }

/**
 * What is wrong with one template, `[field, message]` each: placeholders other than `{#var#}`,
 * placeholders and vars that disagree, the OTP missing or twice in an OTP message, characters
 * UCS-2 cannot carry, and a worst-case message (every variable at its longest) above `maxParts`.
 */
export function templateProblems(kind: SmsKind, t: SmsTemplateConfig, maxParts: number): [string, string][] {
  const out: [string, string][] = [];
  const other = otherPlaceholders(t.text);
  if (other.length) out.push(['text', `has ${other.join(', ')}: only ${DLT_VAR} placeholders are supported`]);
  const n = countPlaceholders(t.text);
  if (n !== t.vars.length) out.push(['vars', `${t.vars.length} vars for ${n} ${DLT_VAR} placeholders in the text`]);
  if (kind === 'otp' && t.vars.filter((v) => v === 'otp').length !== 1) out.push(['vars', 'an OTP message carries otp exactly once']);
  if (!isUcs2(t.text)) out.push(['text', 'has a character outside UCS-2 (an emoji?): SMS cannot carry it']);
  if (out.length) return out;
  const encoding = encodingOf(t.text.split(DLT_VAR).join(''));
  const longest = t.text.split(DLT_VAR).reduce((acc, piece, i) => acc + (i > 0 ? 'x'.repeat(VAR_MAX[t.vars[i - 1]!] ?? DLT_MAX_VAR_LENGTH) : '') + piece, '');
  const size = smsSize(longest, encoding);
  if (size.parts > maxParts) {
    const { single, multi } = PART_LIMITS[encoding];
    out.push(['text', `renders up to ${size.units} ${encoding === 'gsm7' ? 'GSM-7 septets' : 'UCS-2 characters'} (${single} in one part, ${multi} per part beyond): ${size.parts} parts, more than sms.maxParts (${maxParts})`]);
  }
  return out;
}

/** A route with its key read from the environment. */
export interface SmsRouteConfig {
  readonly name: string;
  readonly url: string;
  readonly kind: 'tonegate-json';
  readonly timeoutMs: number;
  readonly auth?: { readonly scheme: 'bearer' | 'x-api-key'; readonly key: string };
}
export interface SmsSettings extends Omit<SmsSection, 'routes'> {
  readonly routes?: readonly SmsRouteConfig[];
}

/**
 * The parsed section with each route's key read from its variable or `<NAME>_FILE`, plus the
 * checks that need other settings: the default language has an OTP template, and a receipt
 * template exists when receipt SMS are on. One line per problem, naming the key.
 */
export function resolveSms(raw: unknown, env: NodeJS.ProcessEnv, o: { defaultLanguage: PromptLanguage; receipts: boolean }): { sms?: SmsSettings; errors: string[] } {
  const s = smsSectionSchema.parse(raw);
  const errors: string[] = [];
  if (!s.templates.otp[o.defaultLanguage]) errors.push(`sms.templates.otp.${o.defaultLanguage}: required: the OTP template of the default language (prompts.defaultLanguage)`);
  if (o.receipts && !s.templates.receipt?.[o.defaultLanguage]) errors.push(`sms.templates.receipt.${o.defaultLanguage}: required when receipts.sms is on`);
  const routes = s.routes?.map((r, i): SmsRouteConfig => {
    const base = { name: r.name, url: r.url, kind: r.kind, timeoutMs: r.timeoutMs };
    if (!r.auth) return base;
    const name = r.auth.secretEnv;
    const at = `sms.routes.${i}.auth.secretEnv`;
    const value = env[name];
    const file = env[`${name}_FILE`];
    let key: string | undefined;
    if (value && file) errors.push(`${at}: set either ${name} or ${name}_FILE, not both`);
    else if (value) key = value;
    else if (file) {
      try {
        key = readFileSync(file, 'utf8').replace(/\r?\n$/, '');
        if (!key) errors.push(`${at}: ${name}_FILE ${file} is empty`);
      } catch (err) {
        errors.push(`${at}: ${name}_FILE: cannot read ${file} (${(err as NodeJS.ErrnoException).code ?? 'error'})`);
      }
    } else errors.push(`${at}: ${name} (or ${name}_FILE) is not set`);
    return key ? { ...base, auth: { scheme: r.auth.scheme, key } } : base;
  });
  const { routes: _unresolved, ...rest } = s;
  return { sms: { ...rest, ...(routes ? { routes } : {}) }, errors };
}

/**
 * The demo registration: the values the gateway used before `sms:` existed, so demo mode sends
 * exactly the same messages (an English template of each kind; other languages fall back to it).
 */
export const DEMO_SMS: SmsSettings = {
  peId: '1101159876543210987',
  header: 'TNGATE',
  maxParts: 3,
  templates: {
    otp: {
      en: {
        templateId: '1107161234567890123',
        text: '{#var#} is your OTP to pay {#var#} {#var#} for order {#var#}. Do not share it. - Tonegate',
        vars: ['otp', 'currency', 'amount', 'orderRef'],
      },
    },
    receipt: {
      en: {
        templateId: '1107161234567890124',
        text: 'Payment of {#var#} {#var#} received for order {#var#}, card ending {#var#}. Ref {#var#}. - Tonegate',
        vars: ['currency', 'amount', 'orderRef', 'last4', 'paymentId'],
      },
    },
  },
};

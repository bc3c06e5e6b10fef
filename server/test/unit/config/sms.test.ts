import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { configProblems, yamlFiles } from './config-problems.js';
import { loadConfig } from '../../../src/config/load.js';
import { DEMO_SMS, templateProblems, type SmsKind } from '../../../src/config/sms.js';
import { smsSize } from '../../../src/lib/sms-text.js';
import { smsRoutes, smsTemplates } from '../../../src/calls/payment/sms-setup.js';
import { DEMO_OTP_TEMPLATE, DEMO_RECEIPT_TEMPLATE } from '../../../src/calls/payment/setup.js';

const { dir, file } = yamlFiles('sms');
const problems = configProblems;

const OTP_EN = "{ templateId: '1107000000000000001', text: '{#var#} is your OTP for order {#var#}. - Shop', vars: [otp, orderRef] }";
const section = (extra = '', otp = `      en: ${OTP_EN}\n`) =>
  `sms:\n  peId: '1201000000000000001'\n  header: SHOPIN\n${extra}  templates:\n    otp:\n${otp}`;

const DEVANAGARI = 'आपका ओटीपी है, कृपया इसे किसी के साथ साझा न करें';
const TAMIL = 'உங்கள் ஒருமுறை கடவுச்சொல், யாருடனும் பகிர வேண்டாம்';

describe('templateProblems: each template checked at start', () => {
  it.each<[string, SmsKind, { text: string; vars: string[] }, number, string[]]>([
    ['the demo OTP template', 'otp', DEMO_SMS.templates.otp.en! as never, 3, []],
    ['the demo receipt template', 'receipt', DEMO_SMS.templates.receipt!.en! as never, 3, []],
    ['more vars than placeholders', 'otp', { text: 'OTP {#var#}', vars: ['otp', 'orderRef'] }, 3, ['vars: 2 vars for 1 {#var#} placeholders in the text']],
    ['fewer vars than placeholders', 'otp', { text: '{#var#} {#var#} OTP', vars: ['otp'] }, 3, ['vars: 1 vars for 2 {#var#} placeholders in the text']],
    ['an OTP message without the OTP', 'otp', { text: 'Order {#var#}', vars: ['orderRef'] }, 3, ['vars: an OTP message carries otp exactly once']],
    ['an OTP message with the OTP twice', 'otp', { text: '{#var#} {#var#}', vars: ['otp', 'otp'] }, 3, ['vars: an OTP message carries otp exactly once']],
    ['another DLT placeholder kind', 'otp', { text: '{#var#} is your OTP {#url#}', vars: ['otp'] }, 3, ['text: has {#url#}: only {#var#} placeholders are supported']],
    ['a misspelt placeholder', 'otp', { text: '{#var#} is your OTP {#var}', vars: ['otp'] }, 3, ['text: has {#var}: only {#var#} placeholders are supported']],
    ['an emoji (not UCS-2)', 'otp', { text: '{#var#} is your OTP 🙂', vars: ['otp'] }, 3, ['text: has a character outside UCS-2 (an emoji?): SMS cannot carry it']],
    // GSM-7: 160 septets in one part; the OTP at its longest is 8.
    ['GSM-7, 160 septets at most: one part', 'otp', { text: `{#var#}${'a'.repeat(152)}`, vars: ['otp'] }, 1, []],
    ['GSM-7, 161 septets: two parts', 'otp', { text: `{#var#}${'a'.repeat(153)}`, vars: ['otp'] }, 1, ['text: renders up to 161 GSM-7 septets (160 in one part, 153 per part beyond): 2 parts, more than sms.maxParts (1)']],
    ['GSM-7 extension characters count twice', 'otp', { text: `{#var#}${'€'.repeat(77)}`, vars: ['otp'] }, 1, ['text: renders up to 162 GSM-7 septets (160 in one part, 153 per part beyond): 2 parts, more than sms.maxParts (1)']],
    ['GSM-7, 306 septets: two parts of 153', 'otp', { text: `{#var#}${'a'.repeat(298)}`, vars: ['otp'] }, 2, []],
    ['GSM-7, 307 septets: three parts', 'otp', { text: `{#var#}${'a'.repeat(299)}`, vars: ['otp'] }, 2, ['text: renders up to 307 GSM-7 septets (160 in one part, 153 per part beyond): 3 parts, more than sms.maxParts (2)']],
    ['Hindi is UCS-2: 70 characters in one part', 'otp', { text: `{#var#}${'क'.repeat(62)}`, vars: ['otp'] }, 1, []],
    ['Hindi is UCS-2: 71 characters are two parts', 'otp', { text: `{#var#}${'क'.repeat(63)}`, vars: ['otp'] }, 1, ['text: renders up to 71 UCS-2 characters (70 in one part, 67 per part beyond): 2 parts, more than sms.maxParts (1)']],
    ['Tamil is UCS-2: 134 characters are two parts of 67', 'otp', { text: `{#var#}${'த'.repeat(126)}`, vars: ['otp'] }, 2, []],
    ['Tamil is UCS-2: 135 characters are three parts', 'otp', { text: `{#var#}${'த'.repeat(127)}`, vars: ['otp'] }, 2, ['text: renders up to 135 UCS-2 characters (70 in one part, 67 per part beyond): 3 parts, more than sms.maxParts (2)']],
    ['one non-GSM-7 character makes the whole message UCS-2', 'otp', { text: `{#var#} ₹${'a'.repeat(70)}`, vars: ['otp'] }, 1, ['text: renders up to 80 UCS-2 characters (70 in one part, 67 per part beyond): 2 parts, more than sms.maxParts (1)']],
    ['variables count at their longest (order reference: 30)', 'otp', { text: `{#var#}{#var#}${'a'.repeat(122)}`, vars: ['otp', 'orderRef'] }, 1, []],
    ['variables count at their longest, one over', 'otp', { text: `{#var#}{#var#}${'a'.repeat(123)}`, vars: ['otp', 'orderRef'] }, 1, ['text: renders up to 161 GSM-7 septets (160 in one part, 153 per part beyond): 2 parts, more than sms.maxParts (1)']],
  ])('%s', (_name, kind, t, maxParts, expected) => {
    expect(templateProblems(kind, { templateId: '1107000000000000001', ...t }, maxParts).map(([f, m]) => `${f}: ${m}`)).toEqual(expected);
  });

  it('Devanagari and Tamil text is UCS-2, English GSM-7', () => {
    expect(smsSize(DEVANAGARI).encoding).toBe('ucs2');
    expect(smsSize(TAMIL).encoding).toBe('ucs2');
    expect(smsSize('Your OTP is 123456').encoding).toBe('gsm7');
  });
});

describe('sms: in the configuration file', () => {
  it('without it, the demo registration and templates, exactly as before (one route: the provider)', () => {
    const c = loadConfig({});
    expect(c.sms).toBeUndefined();
    const t = smsTemplates(c.sms, { defaultLanguage: 'en', receipts: true });
    expect(t.forLanguage('hi')).toEqual({ otp: DEMO_OTP_TEMPLATE, receipt: DEMO_RECEIPT_TEMPLATE });
    expect(DEMO_OTP_TEMPLATE).toEqual({
      template: { templateId: '1107161234567890123', peId: '1101159876543210987', senderId: 'TNGATE', text: '{#var#} is your OTP to pay {#var#} {#var#} for order {#var#}. Do not share it. - Tonegate' },
      vars: ['otp', 'currency', 'amount', 'orderRef'],
    });
    expect(smsRoutes(c.sms, 'http://127.0.0.1:8090')).toEqual([{ name: 'primary', baseUrl: 'http://127.0.0.1:8090' }]);
  });

  it('reads PE ID, header, routes with their keys from the environment, and templates per language', () => {
    const keyFile = join(dir, 'key-b');
    writeFileSync(keyFile, 'key-from-file\n');
    const p = file(
      section(
        "  routes:\n    - { name: a, url: 'https://sms-a.example', auth: { secretEnv: SMS_A_KEY } }\n    - { name: b, url: 'http://127.0.0.1:9000', kind: tonegate-json, auth: { scheme: x-api-key, secretEnv: SMS_B_KEY }, timeoutMs: 800 }\n",
        `      en: ${OTP_EN}\n      hi: { templateId: '1107000000000000002', text: '{#var#} ${DEVANAGARI}', vars: [otp] }\n`,
      ),
    );
    const c = loadConfig({ TONEGATE_CONFIG: p, SMS_A_KEY: 'key-a', SMS_B_KEY_FILE: keyFile });
    expect(smsRoutes(c.sms, 'unused')).toEqual([
      { name: 'a', baseUrl: 'https://sms-a.example', kind: 'tonegate-json', timeoutMs: 5000, apiKey: 'key-a', authScheme: 'bearer' },
      { name: 'b', baseUrl: 'http://127.0.0.1:9000', kind: 'tonegate-json', timeoutMs: 800, apiKey: 'key-from-file', authScheme: 'x-api-key' },
    ]);
    const t = smsTemplates(c.sms, { defaultLanguage: 'en', receipts: false });
    expect(t.forLanguage('hi').otp.template).toEqual({ templateId: '1107000000000000002', peId: '1201000000000000001', senderId: 'SHOPIN', text: `{#var#} ${DEVANAGARI}` });
    expect(t.forLanguage('ta').otp.template.templateId).toBe('1107000000000000001'); // no Tamil template: the default language's
    expect(t.forLanguage('en')).toMatchObject({ otp: { vars: ['otp', 'orderRef'] }, receipt: undefined });
    expect(t.vars).toEqual(['otp', 'orderRef']);
  });

  it('a template for a language of recorded prompts (any language code) is taken; what is no code is refused', () => {
    const c = loadConfig({ TONEGATE_CONFIG: file(section('', `      en: ${OTP_EN}\n      mr: { templateId: '1107000000000000009', text: '{#var#} हा तुमचा OTP आहे', vars: [otp] }\n`)) });
    expect(smsTemplates(c.sms, { defaultLanguage: 'en', receipts: false }).forLanguage('mr').otp.template.templateId).toBe('1107000000000000009');
    expect(problems({ TONEGATE_CONFIG: file(section('', `      en: ${OTP_EN}\n      mr-IN: ${OTP_EN}\n`)) })).toEqual([expect.stringMatching(/^sms\.templates\.otp\.mr-IN: /)]);
  });

  it.each<[string, string, Record<string, string>, string[]]>([
    ['a bad template refuses the start naming its key path', section('', "      en: { templateId: '1107000000000000001', text: 'OTP {#var#} {#var#}', vars: [otp] }\n"), {}, ['sms.templates.otp.en.vars: 1 vars for 2 {#var#} placeholders in the text']],
    ['a var unknown for the kind', section('', "      en: { templateId: '1107000000000000001', text: '{#var#} {#var#}', vars: [otp, last4] }\n"), {}, [expect.stringMatching(/^sms\.templates\.otp\.en\.vars\.1: /) as unknown as string]],
    ['a Hindi template too long for maxParts', section('  maxParts: 1\n', `      en: ${OTP_EN}\n      hi: { templateId: '1107000000000000002', text: '{#var#} ${DEVANAGARI} ${DEVANAGARI}', vars: [otp] }\n`), {}, [`sms.templates.otp.hi.text: renders up to ${8 + 2 + 2 * DEVANAGARI.length} UCS-2 characters (70 in one part, 67 per part beyond): 2 parts, more than sms.maxParts (1)`]],
    ['a bad PE ID and header', section().replace("'1201000000000000001'", "'12AB'").replace('SHOPIN', 'SHOP'), {}, [expect.stringMatching(/^sms\.peId: /) as unknown as string, expect.stringMatching(/^sms\.header: /) as unknown as string]],
    ['no OTP template in the default language', section('', "      hi: { templateId: '1107000000000000002', text: '{#var#} OTP', vars: [otp] }\n"), {}, ['sms.templates.otp.en: required: the OTP template of the default language (prompts.defaultLanguage)']],
    ['receipts on without a receipt template', section() + 'receipts:\n  sms: on\n', {}, ['sms.templates.receipt.en: required when receipts.sms is on']],
    ['a route key not set', section("  routes:\n    - { name: a, url: 'https://sms-a.example', auth: { secretEnv: SMS_A_KEY } }\n"), {}, ['sms.routes.0.auth.secretEnv: SMS_A_KEY (or SMS_A_KEY_FILE) is not set']],
    ['a route key set twice', section("  routes:\n    - { name: a, url: 'https://sms-a.example', auth: { secretEnv: SMS_A_KEY } }\n"), { SMS_A_KEY: 'x', SMS_A_KEY_FILE: '/nonexistent' }, ['sms.routes.0.auth.secretEnv: set either SMS_A_KEY or SMS_A_KEY_FILE, not both']],
    ['plain http to another host', section("  routes:\n    - { name: a, url: 'http://sms.example' }\n"), {}, ['sms.routes.0.url: must be https: (http: only to a loopback address)']],
    ['two routes of one name', section("  routes:\n    - { name: a, url: 'https://sms-a.example' }\n    - { name: a, url: 'https://sms-b.example' }\n"), {}, ['sms.routes.1.name: repeats route 0 (a)']],
    ['a kind we do not speak', section("  routes:\n    - { name: a, url: 'https://sms-a.example', kind: smpp }\n"), {}, [expect.stringMatching(/^sms\.routes\.0\.kind: /) as unknown as string]],
    ['a key in the file', section("  routes:\n    - { name: a, url: 'https://sms-a.example', apiKey: abc }\n"), {}, [expect.stringMatching(/^sms\.routes\.0\.apiKey: (is|looks like) a secret/) as unknown as string]],
  ])('%s', (_name, text, env, expected) => {
    expect(problems({ TONEGATE_CONFIG: file(text), ...env })).toEqual(expected);
  });
});

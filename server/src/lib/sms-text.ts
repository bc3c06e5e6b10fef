/**
 * SMS text under India's DLT rules (TRAI, Telecom Commercial Communications Customer Preference
 * Regulations 2018) and the GSM character sets: what a registered template is, how long its
 * messages get and in which encoding. Pure functions: config/ checks templates with them at start,
 * providers/dlt.ts renders and matches messages with them at send time.
 */

/** The DLT placeholder of a variable part of a registered template. */
export const DLT_VAR = '{#var#}';

/**
 * Longest value one `{#var#}` may carry: 30 characters ("The variable's actual value while
 * sending an SMS will be a maximum of 30 characters for both English and Unicode", DLT FAQ,
 * docs.localmail.io/regulations/everything-to-know-about-dlt-india/frequenty-asked-questions).
 * Some aggregators allow more (MSG91 says 40); 30 is the common floor, so it is what we enforce.
 */
export const DLT_MAX_VAR_LENGTH = 30;

/**
 * GSM 7-bit default alphabet (3GPP TS 23.038 §6.2.1) without ESC, plus its extension table
 * (§6.2.1.1: form feed, ^ { } \ [ ~ ] | €), which takes two septets each.
 */
const GSM7_BASIC =
  '@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !"#¤%&\'()*+,-./0123456789:;<=>?' +
  '¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà';
const GSM7_EXTENSION = '\f^{}\\[~]|€';
const BASIC = new Set(GSM7_BASIC);
const EXTENSION = new Set(GSM7_EXTENSION);

export function isGsm7(text: string): boolean {
  for (const ch of text) if (!BASIC.has(ch) && !EXTENSION.has(ch)) return false;
  return true;
}

/** Septets the text takes in GSM-7 (extension characters count 2). */
export function gsm7Septets(text: string): number {
  let n = 0;
  for (const ch of text) n += EXTENSION.has(ch) ? 2 : 1;
  return n;
}

/** UCS-2 (3GPP TS 23.038 §6.2.3) carries the Basic Multilingual Plane only: no emoji, no astral characters. */
export function isUcs2(text: string): boolean {
  for (const ch of text) if (ch.codePointAt(0)! > 0xffff) return false;
  return true;
}

export type SmsEncoding = 'gsm7' | 'ucs2';

/** GSM-7 when every character is in it; else UCS-2 (Devanagari, Tamil, ...). */
export function encodingOf(text: string): SmsEncoding {
  return isGsm7(text) ? 'gsm7' : 'ucs2';
}

/**
 * Per-part limits: 140 octets of user data (3GPP TS 23.040 §9.2.3.24) are 160 septets or 70 UCS-2
 * characters; a concatenated message's 6-octet header (§9.2.3.24.1) leaves 153 and 67 per part.
 */
export const PART_LIMITS: Readonly<Record<SmsEncoding, { readonly single: number; readonly multi: number }>> = {
  gsm7: { single: 160, multi: 153 },
  ucs2: { single: 70, multi: 67 },
};

export interface SmsSize {
  readonly encoding: SmsEncoding;
  /** Septets (GSM-7) or 16-bit characters (UCS-2). */
  readonly units: number;
  readonly parts: number;
}

/** How long the text is on the air and in how many parts, in `encoding` (default: the text's own). */
export function smsSize(text: string, encoding: SmsEncoding = encodingOf(text)): SmsSize {
  const units = encoding === 'gsm7' ? gsm7Septets(text) : text.length;
  const { single, multi } = PART_LIMITS[encoding];
  return { encoding, units, parts: units <= single ? 1 : Math.ceil(units / multi) };
}

export function countPlaceholders(text: string): number {
  return text.split(DLT_VAR).length - 1;
}

/** Placeholders other than `{#var#}` (DLT's `{#numeric#}`, `{#url#}`, ... kinds, or typos); tonegate fills `{#var#}` only. */
export function otherPlaceholders(text: string): string[] {
  return [...text.split(DLT_VAR).join('').matchAll(/\{#[^}]*#?\}?/g)].map((m) => m[0]);
}

const escapeRegex = (s: string): string => s.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');

/**
 * The registered template as the operators' scrubbing sees it: the fixed text exactly, each
 * `{#var#}` any run of up to 30 characters on one line.
 */
export function dltTemplateRegex(text: string): RegExp {
  return new RegExp(`^${text.split(DLT_VAR).map(escapeRegex).join(`.{0,${DLT_MAX_VAR_LENGTH}}`)}$`, 'u');
}

/** Whether a rendered message matches its registered template. */
export function matchesDltTemplate(templateText: string, rendered: string): boolean {
  return dltTemplateRegex(templateText).test(rendered);
}

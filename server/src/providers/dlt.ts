import { SensitiveDigits } from '../security/sensitive-digits.js';
import { ProviderError } from './errors.js';

/**
 * India's DLT rules for commercial SMS (TRAI, Telecom Commercial Communications Customer Preference
 * Regulations 2018): every message names the registered Principal Entity ID (PE ID), the header
 * (sender ID) and the content template ID, and its text must be the approved template with each
 * `{#var#}` placeholder filled. Operators scrub messages that do not match, so we refuse them
 * before sending.
 */
export const DLT_VAR = '{#var#}';

/**
 * Longest value one `{#var#}` may carry: 30 characters ("The variable's actual value while
 * sending an SMS will be a maximum of 30 characters for both English and Unicode", DLT FAQ,
 * docs.localmail.io/regulations/everything-to-know-about-dlt-india/frequenty-asked-questions).
 * Some aggregators allow more (MSG91 says 40); 30 is the common floor, so it is what we enforce.
 */
export const DLT_MAX_VAR_LENGTH = 30;

export interface DltTemplate {
  /** DLT content template ID (numeric, 12-19 digits as issued by the operator portals). */
  readonly templateId: string;
  /** Principal Entity ID (numeric, as issued at entity registration). */
  readonly peId: string;
  /** Header: 6 characters (TRAI: alphabetic for transactional/service, numeric for promotional). */
  readonly senderId: string;
  /** The approved text, placeholders as `{#var#}`. */
  readonly text: string;
}

/** A variable: plain text, or sensitive digits (the OTP) revealed only into the rendered text. */
export type DltVar = string | SensitiveDigits;

export type DltProblem = 'var-too-long' | 'count-mismatch' | 'charset' | 'bad-template';

/** An SMS refused before sending. The message names the problem and index, never a value. */
export class DltError extends ProviderError {
  constructor(
    readonly problem: DltProblem,
    readonly index?: number,
  ) {
    super('dlt-invalid', false, { provider: 'sms' });
    this.name = 'DltError';
    this.message = `${this.message}: ${problem}${index !== undefined ? ` (variable ${index + 1})` : ''}`;
  }
}

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

export function countPlaceholders(text: string): number {
  return text.split(DLT_VAR).length - 1;
}

/** Throws {@link DltError}('bad-template') unless the template's IDs and text are well-formed. */
export function validateDltTemplate(t: DltTemplate): void {
  const ok =
    /^\d{12,19}$/.test(t.templateId) &&
    /^\d{12,19}$/.test(t.peId) &&
    /^[A-Za-z0-9]{6}$/.test(t.senderId) &&
    t.text.length > 0 &&
    isGsm7(t.text.split(DLT_VAR).join(''));
  if (!ok) throw new DltError('bad-template');
}

/**
 * Fills the template's `{#var#}` placeholders in order. Refuses (throws {@link DltError}) a
 * malformed template, a variable count that differs from the placeholders, a variable longer
 * than {@link DLT_MAX_VAR_LENGTH}, and any character outside GSM-7 (we send GSM-7 only; a Unicode
 * template would need UCS-2 and its own registration).
 */
export function renderDlt(template: DltTemplate, vars: readonly DltVar[]): string {
  validateDltTemplate(template);
  const pieces = template.text.split(DLT_VAR);
  if (pieces.length - 1 !== vars.length) throw new DltError('count-mismatch');
  const values = vars.map((v, i) => {
    const s = typeof v === 'string' ? v : v.revealForProvider();
    if (s.length > DLT_MAX_VAR_LENGTH) throw new DltError('var-too-long', i);
    if (!isGsm7(s)) throw new DltError('charset', i);
    return s;
  });
  let out = pieces[0]!;
  for (let i = 0; i < values.length; i++) out += values[i]! + pieces[i + 1]!;
  return out;
}

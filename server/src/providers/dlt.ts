import { SensitiveDigits } from '../security/sensitive-digits.js';
import { ProviderError } from './errors.js';
import { DLT_MAX_VAR_LENGTH, DLT_VAR, encodingOf, isGsm7, isUcs2, matchesDltTemplate, otherPlaceholders } from '../lib/sms-text.js';

/**
 * India's DLT rules for commercial SMS (TRAI, Telecom Commercial Communications Customer Preference
 * Regulations 2018): every message names the registered Principal Entity ID (PE ID), the header
 * (sender ID) and the content template ID, and its text must be the approved template with each
 * `{#var#}` placeholder filled. Operators scrub messages that do not match, so we refuse them
 * before sending. The character-set and length rules are in lib/sms-text.ts.
 */
export { DLT_MAX_VAR_LENGTH, DLT_VAR, countPlaceholders, gsm7Septets, isGsm7 } from '../lib/sms-text.js';

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

export type DltProblem = 'var-too-long' | 'count-mismatch' | 'charset' | 'bad-template' | 'template-mismatch';

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

/** Throws {@link DltError}('bad-template') unless the template's IDs and text are well-formed. */
export function validateDltTemplate(t: DltTemplate): void {
  const ok =
    /^\d{12,19}$/.test(t.templateId) &&
    /^\d{12,19}$/.test(t.peId) &&
    /^[A-Za-z0-9]{6}$/.test(t.senderId) &&
    t.text.length > 0 &&
    isUcs2(t.text) &&
    otherPlaceholders(t.text).length === 0;
  if (!ok) throw new DltError('bad-template');
}

/**
 * Fills the template's `{#var#}` placeholders in order. Refuses (throws {@link DltError}) a
 * malformed template, a variable count that differs from the placeholders, a variable longer
 * than {@link DLT_MAX_VAR_LENGTH}, and a variable the template's encoding cannot carry (a GSM-7
 * template takes GSM-7 values only: one outside it would turn the message into UCS-2 and change
 * its length; a UCS-2 template, e.g. Hindi or Tamil, takes the Basic Multilingual Plane).
 */
export function renderDlt(template: DltTemplate, vars: readonly DltVar[]): string {
  validateDltTemplate(template);
  const pieces = template.text.split(DLT_VAR);
  if (pieces.length - 1 !== vars.length) throw new DltError('count-mismatch');
  const gsm7 = encodingOf(template.text) === 'gsm7';
  const values = vars.map((v, i) => {
    const s = typeof v === 'string' ? v : v.revealForProvider();
    if (s.length > DLT_MAX_VAR_LENGTH) throw new DltError('var-too-long', i);
    if (gsm7 ? !isGsm7(s) : !isUcs2(s)) throw new DltError('charset', i);
    return s;
  });
  let out = pieces[0]!;
  for (let i = 0; i < values.length; i++) out += values[i]! + pieces[i + 1]!;
  return out;
}

/**
 * The last gate before a message leaves: the rendered text must match its registered template (the
 * template as a regular expression, each `{#var#}` up to 30 characters on one line), or it is never
 * sent (throws {@link DltError}('template-mismatch')).
 */
export function assertMatchesTemplate(template: DltTemplate, rendered: string): void {
  if (!matchesDltTemplate(template.text, rendered)) throw new DltError('template-mismatch');
}

import { LANGUAGE_CODE, type BuiltinLanguage, type PromptLanguage } from '../../../server/src/contract/events.js';

/** How the form names each prompt language: in English and in the language itself. */
export const LANGUAGE_LABELS: Readonly<Record<BuiltinLanguage, string>> = {
  en: 'English',
  hi: 'Hindi (हिन्दी)',
  ta: 'Tamil (தமிழ்)',
};

export interface LanguageChoice {
  readonly options: readonly { readonly code: PromptLanguage; readonly label: string }[];
  readonly selected: PromptLanguage;
}

const isLanguage = (v: unknown): v is PromptLanguage => typeof v === 'string' && LANGUAGE_CODE.test(v);

/** A language of recorded prompts (any other code the gateway offers): its English name and the code, e.g. "Marathi (mr)". */
function labelOf(code: PromptLanguage): string {
  if (code in LANGUAGE_LABELS) return LANGUAGE_LABELS[code as BuiltinLanguage];
  let name: string | undefined;
  try {
    name = new Intl.DisplayNames(['en'], { type: 'language' }).of(code);
  } catch {
    name = undefined;
  }
  return name && name !== code ? `${name} (${code})` : code;
}

/**
 * The customer's language choices of the Pay by phone form, from `GET /api/widget-config`
 * (`languages`, `defaultLanguage`): the offered language codes (built in or recorded), in the gateway's order,
 * each once; the default preselected when offered, else the first. A gateway that sends none (an
 * older one) gets English only, what the form always sent before.
 */
export function languageChoice(languages: unknown, defaultLanguage: unknown): LanguageChoice {
  const codes = [...new Set(Array.isArray(languages) ? languages.filter(isLanguage) : [])];
  const offered = codes.length ? codes : (['en'] as PromptLanguage[]);
  const selected = isLanguage(defaultLanguage) && offered.includes(defaultLanguage) ? defaultLanguage : offered[0]!;
  return { options: offered.map((code) => ({ code, label: labelOf(code) })), selected };
}

/** The form's value as a language code the gateway accepts (anything else: the preselected one). */
export function chosenLanguage(value: string, choice: LanguageChoice): PromptLanguage {
  return choice.options.some((o) => o.code === value) ? (value as PromptLanguage) : choice.selected;
}

import { PROMPT_LANGUAGES, type PromptLanguage } from '../../../server/src/contract/events.js';

/** How the form names each prompt language: in English and in the language itself. */
export const LANGUAGE_LABELS: Readonly<Record<PromptLanguage, string>> = {
  en: 'English',
  hi: 'Hindi (हिन्दी)',
  ta: 'Tamil (தமிழ்)',
};

export interface LanguageChoice {
  readonly options: readonly { readonly code: PromptLanguage; readonly label: string }[];
  readonly selected: PromptLanguage;
}

const isLanguage = (v: unknown): v is PromptLanguage => typeof v === 'string' && (PROMPT_LANGUAGES as readonly string[]).includes(v);

/**
 * The customer's language choices of the Pay by phone form, from `GET /api/widget-config`
 * (`languages`, `defaultLanguage`): the offered codes the widget knows, in the gateway's order,
 * each once; the default preselected when offered, else the first. A gateway that sends none (an
 * older one) gets English only, what the form always sent before.
 */
export function languageChoice(languages: unknown, defaultLanguage: unknown): LanguageChoice {
  const codes = [...new Set(Array.isArray(languages) ? languages.filter(isLanguage) : [])];
  const offered = codes.length ? codes : (['en'] as PromptLanguage[]);
  const selected = isLanguage(defaultLanguage) && offered.includes(defaultLanguage) ? defaultLanguage : offered[0]!;
  return { options: offered.map((code) => ({ code, label: LANGUAGE_LABELS[code] })), selected };
}

/** The form's value as a language code the gateway accepts (anything else: the preselected one). */
export function chosenLanguage(value: string, choice: LanguageChoice): PromptLanguage {
  return choice.options.some((o) => o.code === value) ? (value as PromptLanguage) : choice.selected;
}

import { amountToWords, numberToWords } from '../../capture/amount-words.js';
import { PROMPTS, type PromptId, type PromptItem, type PromptSpec } from '../../capture/prompts.js';
import { isBuiltinLanguage, type BuiltinLanguage } from '../../contract/events.js';
import type { Language } from '../../handoff/index.js';

/**
 * Prompts are played by concatenating recorded clips: one clip per catalogue
 * sentence, sentences with `{n}` cut in two around it, and one clip per word of a spoken number or
 * amount. Clip ids are file-safe: `<lang>/<prompt-id>`, `<lang>/<prompt-id>.1|.2`, `<lang>/w-<word>`.
 */
export function wordClipId(lang: Language, word: string): string {
  return `${lang}/w-${/^[a-z]+$/.test(word) ? word : Buffer.from(word, 'utf8').toString('hex')}`;
}

const words = (text: string): string[] => text.replace(/[.,]/g, ' ').split(/[\s-]+/).filter(Boolean);

/**
 * A language of recorded prompts (docs/operations.md, "A language of recorded prompts") has no
 * number words: it reads a number digit by digit (`<lang>/digit-0` ... `digit-9`), an amount's
 * minor units after `<lang>/point` when not zero, then the currency's own clip
 * (`<lang>/currency-<iso code in lower case>`) when it recorded one (`recorded`: its clip ids).
 */
const digitClips = (lang: Language, digits: string): string[] => [...digits].map((d) => `${lang}/digit-${d}`);
function recordedAmount(lang: Language, amount: string, currency: string, recorded: ReadonlySet<string> | undefined): string[] {
  const [units = '0', minor = ''] = amount.split('.');
  const out = digitClips(lang, String(Number(units)));
  if (/[1-9]/.test(minor)) out.push(`${lang}/point`, ...digitClips(lang, minor));
  const ccy = `${lang}/currency-${currency.toLowerCase()}`;
  if (recorded?.has(ccy)) out.push(ccy);
  return out;
}

/**
 * The clip ids to play, in order, for a capture prompt. `recorded`: the clip ids a language of
 * recorded prompts has (recorded-languages.ts), for its optional currency clips.
 */
export function clipsFor(spec: Pick<PromptSpec, 'items' | 'language'>, recorded?: ReadonlySet<string>): string[] {
  const lang = spec.language;
  const builtin = isBuiltinLanguage(lang) ? lang : undefined;
  const out: string[] = [];
  for (const item of spec.items as readonly PromptItem[]) {
    if (typeof item === 'string') out.push(`${lang}/${item}`);
    else if ('id' in item) {
      out.push(`${lang}/${item.id}.1`);
      if (builtin) for (const w of words(numberToWords(item.n, builtin))) out.push(wordClipId(lang, w));
      else out.push(...digitClips(lang, String(item.n)));
      out.push(`${lang}/${item.id}.2`);
    } else if (builtin) {
      for (const w of words(amountToWords(item.amount, item.currency, builtin))) out.push(wordClipId(lang, w));
    } else out.push(...recordedAmount(lang, item.amount, item.currency, recorded));
  }
  return out;
}

/** The clips a language of recorded prompts must have: every catalogue clip, the ten digits and `point`. */
export function recordedClipIds(lang: Language): string[] {
  const ids: string[] = [];
  for (const [id, texts] of Object.entries(PROMPTS) as [PromptId, Record<BuiltinLanguage, string>][]) {
    if (texts.en.includes('{n}')) ids.push(`${lang}/${id}.1`, `${lang}/${id}.2`);
    else ids.push(`${lang}/${id}`);
  }
  return [...ids, ...digitClips(lang, '0123456789'), `${lang}/point`];
}

/** Every clip's id and the text to speak, for `npm run prompts`. `numbers` lists the words to record. */
export function clipCatalogue(lang: BuiltinLanguage, extraWords: readonly string[]): Map<string, string> {
  const m = new Map<string, string>();
  for (const [id, texts] of Object.entries(PROMPTS) as [PromptId, Record<BuiltinLanguage, string>][]) {
    const t = texts[lang];
    const i = t.indexOf('{n}');
    if (i < 0) m.set(`${lang}/${id}`, t);
    else {
      m.set(`${lang}/${id}.1`, t.slice(0, i).trim());
      m.set(`${lang}/${id}.2`, t.slice(i + 3).trim());
    }
  }
  for (const w of extraWords) for (const x of words(w)) m.set(wordClipId(lang, x), x);
  return m;
}

/** The words any amount or count can use, per language (0-99, hundreds, scales, currency units). */
export function numberWords(lang: BuiltinLanguage): string[] {
  const out = new Set<string>();
  for (let n = 0; n < 100; n++) for (const w of words(numberToWords(n, lang))) out.add(w);
  // Tamil words change with what follows (நூறு / நூற்று, ஆயிரம் / ஆயிரத்து) and fuse thousands
  // (ஐயாயிரம்): every hundred, thousand and lakh count, alone and followed by more, covers them.
  const forms: number[] = [];
  for (let h = 1; h < 10; h++) forms.push(h * 100, h * 100 + 1);
  for (let q = 1; q < 100; q++) forms.push(q * 1000, q * 1000 + 1, q * 100_000, q * 100_000 + 1);
  forms.push(10_000_000, 10_100_000);
  for (const n of forms) for (const w of words(numberToWords(n, lang))) out.add(w);
  for (const n of [100, 1000, 100_000, 10_000_000, 1_000_000, 1_000_000_000]) {
    for (const w of words(numberToWords(n, lang, 'indian'))) out.add(w);
    for (const w of words(numberToWords(n, lang, 'international'))) out.add(w);
  }
  for (const ccy of ['INR', 'USD', 'EUR', 'GBP', 'AED', 'SGD']) {
    for (const a of ['1.00', '2.00', '1.01', '2.50']) for (const w of words(amountToWords(a, ccy, lang))) out.add(w);
  }
  return [...out];
}

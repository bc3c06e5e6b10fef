/**
 * Amounts as words for the prompt engine (espeak-ng reads words more clearly than digit strings).
 *
 * Choice, documented for the prompt designers:
 * - English uses the Indian system (thousand, lakh = 10^5, crore = 10^7) for INR, as Indian English
 *   speakers say rupee amounts ("one lakh twenty thousand rupees"), and the international system
 *   (thousand, million, billion) for every other currency. No "and" inside the number, as in the
 *   contract's example "one thousand four hundred ninety-nine rupees".
 * - Hindi always uses the Indian system (हज़ार, लाख, करोड़) with the irregular 1-99 words, from
 *   Wikipedia "Hindustani numerals" (standard Devanagari spellings).
 * - Tamil: Indian system always, in ./amount-words-ta.ts (joining forms, fused thousands).
 * - The minor unit follows "and"/"और" ("fifty paise"); Tamil puts the two side by side ("நூறு
 *   ரூபாய் ஐம்பது பைசா"); none when it is zero or the currency has none.
 */
import type { BuiltinLanguage } from '../contract/events.js';
import { taAdjectival, tamilNumber } from './amount-words-ta.js';

/** The languages with number words (a language of recorded prompts reads numbers digit by digit: calls/payment/prompt-clips.ts). */
export type WordsLanguage = BuiltinLanguage;

const EN_ONES = ['zero', 'one', 'two', 'three', 'four', 'five', 'six', 'seven', 'eight', 'nine', 'ten', 'eleven', 'twelve', 'thirteen', 'fourteen', 'fifteen', 'sixteen', 'seventeen', 'eighteen', 'nineteen'];
const EN_TENS = ['', '', 'twenty', 'thirty', 'forty', 'fifty', 'sixty', 'seventy', 'eighty', 'ninety'];

// 0..99 in Hindi: irregular, so a table.
const HI_0_99 = (
  'शून्य एक दो तीन चार पाँच छह सात आठ नौ दस ग्यारह बारह तेरह चौदह पंद्रह सोलह सत्रह अठारह उन्नीस ' +
  'बीस इक्कीस बाईस तेईस चौबीस पच्चीस छब्बीस सत्ताईस अट्ठाईस उनतीस तीस इकतीस बत्तीस तैंतीस चौंतीस पैंतीस छत्तीस सैंतीस अड़तीस उनतालीस ' +
  'चालीस इकतालीस बयालीस तैंतालीस चवालीस पैंतालीस छियालीस सैंतालीस अड़तालीस उनचास पचास इक्यावन बावन तिरेपन चौवन पचपन छप्पन सत्तावन अट्ठावन उनसठ ' +
  'साठ इकसठ बासठ तिरेसठ चौंसठ पैंसठ छियासठ सड़सठ अड़सठ उनहत्तर सत्तर इकहत्तर बहत्तर तिहत्तर चौहत्तर पचहत्तर छिहत्तर सतहत्तर अठहत्तर उन्यासी ' +
  'अस्सी इक्यासी बयासी तिरासी चौरासी पचासी छियासी सत्तासी अट्ठासी नवासी नब्बे इक्यानबे बानबे तिरानबे चौरानबे पचानबे छियानबे सत्तानबे अट्ठानबे निन्यानबे'
).split(' ');

function below100(n: number, lang: 'en' | 'hi'): string {
  if (lang === 'hi') return HI_0_99[n]!;
  if (n < 20) return EN_ONES[n]!;
  const t = EN_TENS[Math.floor(n / 10)]!;
  return n % 10 ? `${t}-${EN_ONES[n % 10]}` : t;
}

function below1000(n: number, lang: 'en' | 'hi'): string {
  const h = Math.floor(n / 100);
  const r = n % 100;
  const parts: string[] = [];
  if (h) parts.push(`${below100(h, lang)} ${lang === 'hi' ? 'सौ' : 'hundred'}`);
  if (r || !h) parts.push(below100(r, lang));
  return parts.join(' ');
}

type Scale = readonly (readonly [number, string])[];
const INDIAN_EN: Scale = [[1e7, 'crore'], [1e5, 'lakh'], [1e3, 'thousand']];
const INDIAN_HI: Scale = [[1e7, 'करोड़'], [1e5, 'लाख'], [1e3, 'हज़ार']];
const INTERNATIONAL: Scale = [[1e9, 'billion'], [1e6, 'million'], [1e3, 'thousand']];

/**
 * A non-negative integer (below 10^15) as words. `system` applies to English; Hindi is always
 * Indian. Crores above 99 are themselves spelt in the same system ("one thousand crore").
 */
export function numberToWords(n: number, lang: WordsLanguage, system: 'indian' | 'international' = 'indian'): string {
  if (!Number.isInteger(n) || n < 0 || n >= 1e15) throw new RangeError('numberToWords takes an integer in 0..10^15-1');
  if (lang === 'ta') return tamilNumber(n);
  if (n < 1000) return below1000(n, lang);
  const scale = lang === 'hi' ? INDIAN_HI : system === 'indian' ? INDIAN_EN : INTERNATIONAL;
  const parts: string[] = [];
  let rest = n;
  for (const [unit, word] of scale) {
    const q = Math.floor(rest / unit);
    if (q) {
      parts.push(`${q < 1000 && unit !== scale[0]![0] ? below1000(q, lang) : numberToWords(q, lang, system)} ${word}`);
      rest %= unit;
    }
  }
  if (rest) parts.push(below1000(rest, lang));
  return parts.join(' ');
}

interface CurrencyWords {
  readonly major: readonly [string, string];
  readonly minor: readonly [string, string];
}
const both = (w: string): readonly [string, string] => [w, w];
const CURRENCY: Readonly<Record<string, Record<WordsLanguage, CurrencyWords>>> = {
  INR: { en: { major: ['rupee', 'rupees'], minor: ['paisa', 'paise'] }, hi: { major: ['रुपया', 'रुपये'], minor: ['पैसा', 'पैसे'] }, ta: { major: both('ரூபாய்'), minor: both('பைசா') } },
  USD: { en: { major: ['dollar', 'dollars'], minor: ['cent', 'cents'] }, hi: { major: ['डॉलर', 'डॉलर'], minor: ['सेंट', 'सेंट'] }, ta: { major: both('டாலர்'), minor: both('சென்ட்') } },
  EUR: { en: { major: ['euro', 'euros'], minor: ['cent', 'cents'] }, hi: { major: ['यूरो', 'यूरो'], minor: ['सेंट', 'सेंट'] }, ta: { major: both('யூரோ'), minor: both('சென்ட்') } },
  GBP: { en: { major: ['pound', 'pounds'], minor: ['penny', 'pence'] }, hi: { major: ['पाउंड', 'पाउंड'], minor: ['पेंस', 'पेंस'] }, ta: { major: both('பவுண்டு'), minor: both('பென்ஸ்') } },
  AED: { en: { major: ['dirham', 'dirhams'], minor: ['fils', 'fils'] }, hi: { major: ['दिरहम', 'दिरहम'], minor: ['फ़िल्स', 'फ़िल्स'] }, ta: { major: both('திர்ஹாம்'), minor: both('ஃபில்ஸ்') } },
};
const AND: Readonly<Record<WordsLanguage, string>> = { en: ' and', hi: ' और', ta: '' };

/**
 * `1499.00 INR` -> "one thousand four hundred ninety-nine rupees" / "एक हज़ार चार सौ निन्यानबे रुपये".
 * Other currencies fall back to the code spelt letter by letter ("eighty-nine U S D").
 */
export function amountToWords(amount: string, currency: string, lang: WordsLanguage): string {
  const m = /^(\d{1,12})(?:\.(\d{1,2}))?$/.exec(amount);
  if (!m) throw new RangeError('amount must be a decimal with at most 2 decimals');
  const major = Number(m[1]);
  const minor = Number((m[2] ?? '').padEnd(2, '0'));
  const system = currency === 'INR' ? 'indian' : 'international';
  const names = CURRENCY[currency]?.[lang];
  const pick = (pair: readonly [string, string], n: number) => (n === 1 ? pair[0] : pair[1]);
  const code = currency.split('').join(' ');
  // Tamil: a count before a noun is adjectival (ஒரு ரூபாய்).
  const count = (n: number): string => (lang === 'ta' ? taAdjectival(numberToWords(n, lang, system)) : numberToWords(n, lang, system));
  const majorWords = `${count(major)} ${names ? pick(names.major, major) : code}`;
  if (!minor) return majorWords;
  const minorWords = names ? `${count(minor)} ${pick(names.minor, minor)}` : numberToWords(minor, lang, system);
  if (!major) return names ? minorWords : `${minorWords} ${code}`; // "fifty paise"
  return `${majorWords}${AND[lang]} ${minorWords}`;
}

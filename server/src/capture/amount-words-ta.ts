/**
 * Tamil numbers as words for spoken amounts, Indian system (ஆயிரம், லட்சம், கோடி), written as
 * separate words so that an amount is a sequence of recorded word clips (calls/payment/prompt-clips.ts).
 *
 * Tamil joins a number to what follows it, so most words have two forms: the standalone one
 * (நூறு "hundred", ஆயிரம் "thousand") and the joining one used when more follows (நூற்று ஐந்து
 * "hundred and five", ஆயிரத்து நூறு "one thousand one hundred"). Choices, for the prompt designers:
 * - 21..99: joining tens + unit as two words (இருபத்து ஒன்று), the formal written form; the fused
 *   spoken form (இருபத்தொன்று) would need a clip per number.
 * - Thousands are fused with their last unit (இரண்டாயிரம், ஐயாயிரம், இருபத்து ஐயாயிரம்), as they
 *   are always said; plain 1000 is ஆயிரம். Lakhs and crores take the adjectival one (ஒரு லட்சம்,
 *   இருபத்து ஒரு கோடி), and so does a count before a currency (ஒரு ரூபாய்).
 * Spellings: Tamil Lexicon / Wikipedia "Tamil numerals".
 */
const UNITS = ['பூஜ்ஜியம்', 'ஒன்று', 'இரண்டு', 'மூன்று', 'நான்கு', 'ஐந்து', 'ஆறு', 'ஏழு', 'எட்டு', 'ஒன்பது'];
const TEENS = ['பத்து', 'பதினொன்று', 'பன்னிரண்டு', 'பதின்மூன்று', 'பதினான்கு', 'பதினைந்து', 'பதினாறு', 'பதினேழு', 'பதினெட்டு', 'பத்தொன்பது'];
const TENS = ['', '', 'இருபது', 'முப்பது', 'நாற்பது', 'ஐம்பது', 'அறுபது', 'எழுபது', 'எண்பது', 'தொண்ணூறு'];
const TENS_JOIN = ['', '', 'இருபத்து', 'முப்பத்து', 'நாற்பத்து', 'ஐம்பத்து', 'அறுபத்து', 'எழுபத்து', 'எண்பத்து', 'தொண்ணூற்று'];
const HUNDREDS = ['', 'நூறு', 'இருநூறு', 'முந்நூறு', 'நானூறு', 'ஐந்நூறு', 'அறுநூறு', 'எழுநூறு', 'எண்ணூறு', 'தொள்ளாயிரம்'];
const HUNDREDS_JOIN = ['', 'நூற்று', 'இருநூற்று', 'முந்நூற்று', 'நானூற்று', 'ஐந்நூற்று', 'அறுநூற்று', 'எழுநூற்று', 'எண்ணூற்று', 'தொள்ளாயிரத்து'];
/** 1..19 thousand, and the round tens, fused with ஆயிரம் (index = the count of thousands). */
const THOUSANDS: Readonly<Record<number, string>> = {
  1: 'ஓராயிரம்', 2: 'இரண்டாயிரம்', 3: 'மூவாயிரம்', 4: 'நான்காயிரம்', 5: 'ஐயாயிரம்', 6: 'ஆறாயிரம்', 7: 'ஏழாயிரம்', 8: 'எட்டாயிரம்', 9: 'ஒன்பதாயிரம்',
  10: 'பத்தாயிரம்', 11: 'பதினோராயிரம்', 12: 'பன்னிரண்டாயிரம்', 13: 'பதின்மூன்றாயிரம்', 14: 'பதினான்காயிரம்', 15: 'பதினைந்தாயிரம்',
  16: 'பதினாறாயிரம்', 17: 'பதினேழாயிரம்', 18: 'பதினெட்டாயிரம்', 19: 'பத்தொன்பதாயிரம்',
  20: 'இருபதாயிரம்', 30: 'முப்பதாயிரம்', 40: 'நாற்பதாயிரம்', 50: 'ஐம்பதாயிரம்', 60: 'அறுபதாயிரம்', 70: 'எழுபதாயிரம்', 80: 'எண்பதாயிரம்', 90: 'தொண்ணூறாயிரம்',
};

/** ஒன்று -> ஒரு when the number qualifies a noun that follows (a scale word, a currency). */
export function taAdjectival(words: string): string {
  return words.endsWith('ஒன்று') ? `${words.slice(0, -'ஒன்று'.length)}ஒரு` : words;
}

/** Standalone -ம் / -று words take their joining form when more of the number follows. */
function join(word: string): string {
  if (word.endsWith('ம்')) return `${word.slice(0, -1 * 'ம்'.length)}த்து`; // ஆயிரம் -> ஆயிரத்து, லட்சம் -> லட்சத்து
  if (word === 'கோடி') return 'கோடியே';
  return word;
}

function below100(n: number, more: boolean): string {
  if (n < 10) return UNITS[n]!;
  if (n < 20) return TEENS[n - 10]!;
  const t = Math.floor(n / 10);
  const u = n % 10;
  if (u) return `${TENS_JOIN[t]} ${UNITS[u]}`;
  return more ? TENS_JOIN[t]! : TENS[t]!;
}

function below1000(n: number): string {
  const h = Math.floor(n / 100);
  const r = n % 100;
  if (!h) return below100(r, false);
  return r ? `${HUNDREDS_JOIN[h]} ${below100(r, false)}` : HUNDREDS[h]!;
}

/** 1..99 thousand as words ending in a fused thousand (இருபத்து ஐயாயிரம்). */
function thousands(q: number): string {
  if (q === 1) return 'ஆயிரம்';
  const exact = THOUSANDS[q];
  if (exact) return exact;
  return `${TENS_JOIN[Math.floor(q / 10)]} ${THOUSANDS[q % 10]}`;
}

/** A non-negative integer (below 10^15) in Tamil words, Indian system. */
export function tamilNumber(n: number): string {
  if (n < 1000) return below1000(n);
  const parts: string[] = [];
  let rest = n;
  const crore = Math.floor(rest / 1e7);
  if (crore) parts.push(`${taAdjectival(tamilNumber(crore))} கோடி`);
  rest %= 1e7;
  const lakh = Math.floor(rest / 1e5);
  if (lakh) parts.push(`${taAdjectival(below100(lakh, false))} லட்சம்`);
  rest %= 1e5;
  const th = Math.floor(rest / 1e3);
  if (th) parts.push(thousands(th));
  rest %= 1e3;
  if (rest) parts.push(below1000(rest));
  // Every scale word but the last takes its joining form: ஆயிரத்து நானூற்று ..., ஒரு கோடியே ஐந்து லட்சம்.
  return parts.map((p, i) => (i < parts.length - 1 ? p.replace(/(\S+)$/, (w) => join(w)) : p)).join(' ');
}

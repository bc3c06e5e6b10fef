import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { PROMPTS, type PromptId } from '../../../../src/capture/prompts.js';
import { clipCatalogue, clipsFor, numberWords, wordClipId } from '../../../../src/calls/payment/prompt-clips.js';

const DIR = resolve(import.meta.dirname, '../../../../prompts');
const LANGS = ['en', 'hi', 'ta'] as const;

describe('prompt clips', () => {
  it.each(LANGS)('every catalogue prompt of %s maps to clips that npm run prompts has recorded', (lang) => {
    const catalogue = clipCatalogue(lang, numberWords(lang));
    for (const id of Object.keys(PROMPTS) as PromptId[]) {
      const clips = clipsFor({ language: lang, items: [PROMPTS[id][lang].includes('{n}') ? { id, n: 6 } : id] });
      for (const c of clips) {
        expect(catalogue.has(c), `${c} not in the catalogue`).toBe(true);
        expect(existsSync(resolve(DIR, `${c}.wav`)), `${c}.wav missing: run npm run prompts`).toBe(true);
      }
    }
  });

  it.each(LANGS)('amounts from 0.50 to 99,99,999.99 INR in %s are spoken with recorded word clips only', (lang) => {
    const catalogue = clipCatalogue(lang, numberWords(lang));
    for (const amount of ['0.50', '1.00', '7.05', '19.99', '1499.00', '20000.00', '123456.78', '9999999.99', '100000.00']) {
      for (const c of clipsFor({ language: lang, items: [{ amount, currency: 'INR' }] })) {
        expect(catalogue.has(c), `${amount}: ${c} not in the catalogue`).toBe(true);
        expect(existsSync(resolve(DIR, `${c}.wav`)), `${c}.wav missing`).toBe(true);
      }
    }
  });

  it('the spoken order of 1499.00 INR in English is one thousand four hundred ninety nine rupees', () => {
    expect(clipsFor({ language: 'en', items: [{ amount: '1499.00', currency: 'INR' }] })).toEqual(
      ['one', 'thousand', 'four', 'hundred', 'ninety', 'nine', 'rupees'].map((w) => wordClipId('en', w)),
    );
  });

  it('a prompt with a number is cut around it: "Please enter the" three "digit security code"', () => {
    expect(clipsFor({ language: 'en', items: [{ id: 'enter.cvv', n: 3 }] })).toEqual(['en/enter.cvv.1', 'en/w-three', 'en/enter.cvv.2']);
  });

  it('a Tamil greeting of 1,49,999.00 INR: the greeting clips, then the amount word by word in Indian numbering', () => {
    const clips = clipsFor({ language: 'ta', items: ['greeting.secure', 'greeting.amount', { amount: '149999.00', currency: 'INR' }] });
    const words = ['ஒரு', 'லட்சத்து', 'நாற்பத்து', 'ஒன்பதாயிரத்து', 'தொள்ளாயிரத்து', 'தொண்ணூற்று', 'ஒன்பது', 'ரூபாய்'];
    expect(clips).toEqual(['ta/greeting.secure', 'ta/greeting.amount', ...words.map((w) => wordClipId('ta', w))]);
    // The text each clip was rendered from (npm run prompts), read back in order: what the customer hears.
    const catalogue = clipCatalogue('ta', numberWords('ta'));
    expect(clips.map((c) => catalogue.get(c)).join(' ')).toBe(
      'நீங்கள் இப்போது பாதுகாப்பான கட்டண இணைப்பில் இருக்கிறீர்கள். நீங்கள் அழுத்தும் எண்களை உங்கள் முகவரால் கேட்க முடியாது. ' +
        'நீங்கள் செலுத்த வேண்டிய தொகை ஒரு லட்சத்து நாற்பத்து ஒன்பதாயிரத்து தொள்ளாயிரத்து தொண்ணூற்று ஒன்பது ரூபாய்',
    );
    for (const c of clips) expect(existsSync(resolve(DIR, `${c}.wav`)), `${c}.wav missing`).toBe(true);
  });

  it('Tamil crores and lakhs: 2,15,00,000.50 INR', () => {
    const catalogue = clipCatalogue('ta', numberWords('ta'));
    const text = clipsFor({ language: 'ta', items: [{ amount: '21500000.50', currency: 'INR' }] }).map((c) => catalogue.get(c));
    expect(text.join(' ')).toBe('இரண்டு கோடியே பதினைந்து லட்சம் ரூபாய் ஐம்பது பைசா');
  });

  it('Hindi words get file-safe ids', () => {
    expect(wordClipId('hi', 'सौ')).toMatch(/^hi\/w-[0-9a-f]+$/);
  });
});

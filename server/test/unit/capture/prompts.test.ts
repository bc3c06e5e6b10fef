import { describe, expect, it } from 'vitest';
import { amountToWords, numberToWords, PROMPTS, promptIds, renderPrompt, type PromptItem } from '../../../src/capture/index.js';

describe('amounts in words', () => {
  const cases: [string, string, string, string][] = [
    ['1499.00', 'INR', 'one thousand four hundred ninety-nine rupees', 'एक हज़ार चार सौ निन्यानबे रुपये'],
    ['1.00', 'INR', 'one rupee', 'एक रुपया'],
    ['0.50', 'INR', 'fifty paise', 'पचास पैसे'],
    ['250.50', 'INR', 'two hundred fifty rupees and fifty paise', 'दो सौ पचास रुपये और पचास पैसे'],
    ['149900.75', 'INR', 'one lakh forty-nine thousand nine hundred rupees and seventy-five paise', 'एक लाख उनचास हज़ार नौ सौ रुपये और पचहत्तर पैसे'],
    ['12000000', 'INR', 'one crore twenty lakh rupees', 'एक करोड़ बीस लाख रुपये'],
    ['89.99', 'USD', 'eighty-nine dollars and ninety-nine cents', 'नवासी डॉलर और निन्यानबे सेंट'],
    ['12000000', 'USD', 'twelve million dollars', 'एक करोड़ बीस लाख डॉलर'],
    ['5', 'KWD', 'five K W D', 'पाँच K W D'],
  ];
  it.each(cases)('%s %s', (amount, currency, en, hi) => {
    expect(amountToWords(amount, currency, 'en')).toBe(en);
    expect(amountToWords(amount, currency, 'hi')).toBe(hi);
  });

  const tamil: [string, string, string][] = [
    ['1499.00', 'INR', 'ஆயிரத்து நானூற்று தொண்ணூற்று ஒன்பது ரூபாய்'],
    ['1.00', 'INR', 'ஒரு ரூபாய்'],
    ['0.50', 'INR', 'ஐம்பது பைசா'],
    ['250.50', 'INR', 'இருநூற்று ஐம்பது ரூபாய் ஐம்பது பைசா'],
    ['5000.00', 'INR', 'ஐயாயிரம் ரூபாய்'],
    ['25000.00', 'INR', 'இருபத்து ஐயாயிரம் ரூபாய்'],
    ['149900.75', 'INR', 'ஒரு லட்சத்து நாற்பத்து ஒன்பதாயிரத்து தொள்ளாயிரம் ரூபாய் எழுபத்து ஐந்து பைசா'],
    ['2100000', 'INR', 'இருபத்து ஒரு லட்சம் ரூபாய்'],
    ['12000000', 'INR', 'ஒரு கோடியே இருபது லட்சம் ரூபாய்'],
    ['12000000', 'USD', 'ஒரு கோடியே இருபது லட்சம் டாலர்'],
    ['89.99', 'USD', 'எண்பத்து ஒன்பது டாலர் தொண்ணூற்று ஒன்பது சென்ட்'],
  ];
  it.each(tamil)('Tamil (Indian numbering always): %s %s', (amount, currency, ta) => {
    expect(amountToWords(amount, currency, 'ta')).toBe(ta);
  });

  it('Tamil numbers take their joining form when more follows (நூறு / நூற்று, ஆயிரம் / ஆயிரத்து)', () => {
    expect([100, 105, 1000, 1100, 900, 901, 100_000, 1_000_000_000].map((n) => numberToWords(n, 'ta'))).toEqual([
      'நூறு', 'நூற்று ஐந்து', 'ஆயிரம்', 'ஆயிரத்து நூறு', 'தொள்ளாயிரம்', 'தொள்ளாயிரத்து ஒன்று', 'ஒரு லட்சம்', 'நூறு கோடி',
    ]);
  });

  it('Hindi 1-99 are the irregular words, not composed', () => {
    expect([11, 25, 49, 59, 69, 79, 89, 99].map((n) => numberToWords(n, 'hi'))).toEqual(['ग्यारह', 'पच्चीस', 'उनचास', 'उनसठ', 'उनहत्तर', 'उन्यासी', 'नवासी', 'निन्यानबे']);
  });

  it('large crores recurse, and bad input is refused', () => {
    expect(numberToWords(1_000_000_000, 'en')).toBe('one hundred crore');
    expect(numberToWords(1_000_000_000, 'en', 'international')).toBe('one billion');
    expect(() => numberToWords(-1, 'en')).toThrow(RangeError);
    expect(() => amountToWords('1.234', 'INR', 'en')).toThrow(RangeError);
  });
});

describe('prompt catalogue', () => {
  it('every prompt has English, Hindi and Tamil text, and {n} only where a number is given', () => {
    for (const [id, t] of Object.entries(PROMPTS)) {
      expect(t.en.length, id).toBeGreaterThan(0);
      expect(/[\u0900-\u097f]/.test(t.hi), id).toBe(true);
      expect(t.en.includes('{n}'), id).toBe(t.hi.includes('{n}'));
      expect(/[\u0b80-\u0bff]/.test(t.ta), id).toBe(true); // Tamil script
      expect(t.en.includes('{n}'), id).toBe(t.ta.includes('{n}'));
    }
  });

  it('renders a spec with numbers and amounts in words, in either language', () => {
    const items: PromptItem[] = ['greeting.amount', { amount: '1499.00', currency: 'INR' }, { id: 'enter.cvv', n: 4 }];
    expect(renderPrompt(items, 'en')).toBe(
      'You are paying one thousand four hundred ninety-nine rupees. Please enter the four digit security code of your card.',
    );
    expect(renderPrompt(items, 'hi')).toContain('चार अंकों का सुरक्षा कोड');
    expect(promptIds(items)).toEqual(['greeting.amount', 'enter.cvv']);
  });
});

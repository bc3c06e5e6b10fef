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
  it('every prompt has English and Hindi text, and {n} only where a number is given', () => {
    for (const [id, t] of Object.entries(PROMPTS)) {
      expect(t.en.length, id).toBeGreaterThan(0);
      expect(/[\u0900-\u097f]/.test(t.hi), id).toBe(true);
      expect(t.en.includes('{n}'), id).toBe(t.hi.includes('{n}'));
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

import { describe, expect, it } from 'vitest';
import { handoffHeaders } from '../src/softphone/refer.js';
import { chosenLanguage, languageChoice } from '../src/ui/languages.js';

const codes = (c: ReturnType<typeof languageChoice>) => c.options.map((o) => o.code);

describe('the Pay by phone form offers the gateway\'s prompt languages', () => {
  it.each([
    ['all three, English preselected', ['en', 'hi', 'ta'], 'en', ['en', 'hi', 'ta'], 'en'],
    ['the gateway\'s order, its default preselected', ['ta', 'en'], 'ta', ['ta', 'en'], 'ta'],
    ['a default not offered: the first offered', ['hi', 'ta'], 'en', ['hi', 'ta'], 'hi'],
    ['what is no language code, and repeats, dropped', ['hi', 'fr-IN', 'hi', 7, 'TA', 'ta'], 'hi', ['hi', 'ta'], 'hi'],
    ['a language of recorded prompts (any code the gateway offers) kept in its place', ['en', 'mr', 'hi'], 'mr', ['en', 'mr', 'hi'], 'mr'],
    ['an older gateway without languages: English only, as before', undefined, undefined, ['en'], 'en'],
    ['nothing usable offered: English only', ['x1'], 'x1', ['en'], 'en'],
  ] as const)('%s', (_name, languages, def, offered, selected) => {
    const c = languageChoice(languages, def);
    expect(codes(c)).toEqual(offered);
    expect(c.selected).toBe(selected);
  });

  it('labels name each language in English and in itself; a recorded one by its English name and code', () => {
    expect(languageChoice(['en', 'hi', 'ta'], 'en').options.map((o) => o.label)).toEqual(['English', 'Hindi (हिन्दी)', 'Tamil (தமிழ்)']);
    expect(languageChoice(['mr', 'qqq'], 'mr').options.map((o) => o.label)).toEqual(['Marathi (mr)', 'qqq']);
  });

  it('the chosen language goes into X-Pay-Language; a value not offered falls back to the preselected one', () => {
    const c = languageChoice(['en', 'hi'], 'en');
    expect(chosenLanguage('hi', c)).toBe('hi');
    expect(chosenLanguage('ta', c)).toBe('en'); // not offered by this gateway
    expect(chosenLanguage('', c)).toBe('en');
    const h = handoffHeaders({ amount: '10.00', currency: 'INR', merchantId: 'M', orderRef: 'O', customerMobile: '+919800000001', agentId: 'agent-1', language: chosenLanguage('hi', c) });
    expect(h).toContain('X-Pay-Language: hi');
  });
});

import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { clipsFor, recordedClipIds } from '../../../../src/calls/payment/prompt-clips.js';
import { recordedLanguages } from '../../../../src/calls/payment/recorded-languages.js';
import { PROMPTS } from '../../../../src/capture/index.js';

/** A prompt directory with a language `lang` holding the clips `ids` (any content: only names are checked). */
function promptsDir(lang: string, ids: readonly string[]): string {
  const dir = mkdtempSync(join(tmpdir(), 'tg-recorded-'));
  mkdirSync(join(dir, lang));
  for (const id of ids) writeFileSync(join(dir, `${id}.wav`), 'RIFF');
  return dir;
}

describe('languages of recorded prompts: the start check', () => {
  const all = recordedClipIds('mr');

  it('needs every catalogue clip (split around {n}), the ten digits and point', () => {
    expect(all).toContain('mr/greeting.secure');
    expect(all).toContain('mr/attempts.left.1');
    expect(all).toContain('mr/attempts.left.2');
    expect(all).not.toContain('mr/attempts.left');
    expect(all.filter((id) => id.startsWith('mr/digit-'))).toHaveLength(10);
    expect(all).toContain('mr/point');
    expect(all).toHaveLength(Object.keys(PROMPTS).length + Object.values(PROMPTS).filter((t) => t.en.includes('{n}')).length + 11);
  });

  it('a complete directory passes, and its optional currency clips are listed; built-in languages are not looked for', () => {
    const dir = promptsDir('mr', [...all, 'mr/currency-inr']);
    const r = recordedLanguages(dir, ['en', 'mr', 'hi']);
    expect(r.problems).toEqual([]);
    expect(r.clips.has('mr/currency-inr')).toBe(true);
    expect(r.clips.has('mr/enter.pan')).toBe(true);
  });

  it('a missing clip refuses the start, naming the language, the folder and the clip', () => {
    const dir = promptsDir('mr', all.filter((id) => id !== 'mr/enter.cvv.1' && id !== 'mr/digit-7'));
    expect(recordedLanguages(dir, ['en', 'mr']).problems).toEqual([
      `prompts.languages: mr: 2 recorded clip(s) missing in ${join(dir, 'mr')}: enter.cvv.1, digit-7 (.wav, 8 kHz 16-bit mono)`,
    ]);
  });

  it('no folder at all refuses the start', () => {
    const dir = mkdtempSync(join(tmpdir(), 'tg-recorded-'));
    expect(recordedLanguages(dir, ['fr']).problems).toEqual([
      `prompts.languages: fr is not built in (en, hi, ta) and ${join(dir, 'fr')} cannot be read (ENOENT): a language of recorded prompts needs its clips there`,
    ]);
  });
});

describe('clipsFor a language of recorded prompts', () => {
  it('reads the amount digit by digit, the minor units after point when not zero, then the currency clip it has', () => {
    const recorded = new Set(['mr/currency-inr']);
    expect(clipsFor({ items: ['greeting.amount', { amount: '125000.50', currency: 'INR' }], language: 'mr' }, recorded)).toEqual([
      'mr/greeting.amount', 'mr/digit-1', 'mr/digit-2', 'mr/digit-5', 'mr/digit-0', 'mr/digit-0', 'mr/digit-0', 'mr/point', 'mr/digit-5', 'mr/digit-0', 'mr/currency-inr',
    ]);
    // No USD clip recorded: the digits only; no minor units spoken when they are zero.
    expect(clipsFor({ items: [{ amount: '7.00', currency: 'USD' }], language: 'mr' }, recorded)).toEqual(['mr/digit-7']);
  });

  it('a count between the two halves of its sentence', () => {
    expect(clipsFor({ items: [{ id: 'attempts.left', n: 2 }], language: 'mr' })).toEqual(['mr/attempts.left.1', 'mr/digit-2', 'mr/attempts.left.2']);
  });

  it('built-in languages are unchanged: number words', () => {
    expect(clipsFor({ items: [{ amount: '1.00', currency: 'INR' }], language: 'en' })).toEqual(['en/w-one', 'en/w-rupee']);
  });
});

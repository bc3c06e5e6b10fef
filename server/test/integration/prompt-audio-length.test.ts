import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import { amountToWords, renderPrompt, type PromptItem } from '../../src/capture/index.js';
import { clipsFor } from '../../src/calls/payment/prompt-clips.js';
import { renderSpeech } from '../../src/media/prompts/espeak.js';
import { PromptLibrary } from '../../src/media/prompts/library.js';
import { trimSilence } from '../../src/media/prompts/wav.js';

/**
 * The greeting says the amount right, by audio length (README, "Tests"; clips made by npm run prompts): for
 * 1,25,000.50 INR and for 1 INR, in Hindi, Tamil and English,
 *
 * - the rendered text (capture/prompts.ts renderPrompt) spoken whole by the real renderer
 *   (media/prompts/espeak.ts: espeak-ng + sox), and
 * - what the gateway plays: the clips of calls/payment/prompt-clips.ts clipsFor, read from the
 *   shipped server/prompts as the media workers load them (media/prompts/library.ts),
 *
 * must have lengths that agree with each other, grow with the amount by about what the extra words
 * take to say, and differ from the other language's. Each amount word's clip is rendered again and
 * must be as long as the shipped one (the clip says that word, in that language).
 */
const PROMPTS_DIR = fileURLToPath(new URL('../../prompts', import.meta.url));
const LANGS = ['hi', 'ta', 'en'] as const;
type Lang = (typeof LANGS)[number];
const BIG = '125000.50';
const ONE = '1.00';
const greeting = (amount: string): PromptItem[] => ['greeting.secure', 'greeting.amount', { amount, currency: 'INR' }];
const words = (text: string): number => text.replace(/[.,]/g, ' ').split(/[\s-]+/).filter(Boolean).length;
const seconds = (pcm: Int16Array): number => pcm.length / 8000;

const library = new PromptLibrary(PROMPTS_DIR);
/** Seconds of speech per language and amount: the whole text rendered now, and the gateway's clips. */
const spoken: Record<Lang, Record<string, { text: number; clips: number; ids: string[] }>> = { hi: {}, ta: {}, en: {} };

beforeAll(async () => {
  for (const lang of LANGS) {
    for (const amount of [BIG, ONE]) {
      const items = greeting(amount);
      const ids = clipsFor({ items, language: lang });
      const missing = ids.filter((id) => !library.has(id));
      expect(missing, `${lang} ${amount}`).toEqual([]);
      spoken[lang][amount] = {
        text: seconds(await renderSpeech(renderPrompt(items, lang), lang)),
        clips: ids.reduce((s, id) => s + seconds(library.get(id)), 0),
        ids,
      };
    }
  }
}, 120_000);

describe.each(['hi', 'ta'] as const)('the %s greeting of 1,25,000.50 INR, by audio length', (lang) => {
  it('the clips the gateway plays last as long as the whole rendered text (within 20 %)', () => {
    for (const amount of [BIG, ONE]) {
      const { text, clips } = spoken[lang][amount]!;
      expect(Math.abs(clips - text) / text, `${amount}: clips ${clips.toFixed(2)} s, text ${text.toFixed(2)} s`).toBeLessThan(0.2);
    }
  });

  it('is longer than the greeting of 1 INR by what the extra words take (0.25-0.9 s a word), both rendered and played', () => {
    const extra = words(amountToWords(BIG, 'INR', lang)) - words(amountToWords(ONE, 'INR', lang));
    expect(extra).toBeGreaterThanOrEqual(4);
    for (const kind of ['text', 'clips'] as const) {
      const perWord = (spoken[lang][BIG]![kind] - spoken[lang][ONE]![kind]) / extra;
      expect(perWord, `${kind}: ${perWord.toFixed(3)} s a word over ${extra} words`).toBeGreaterThan(0.25);
      expect(perWord, kind).toBeLessThan(0.9);
    }
  });

  it('each amount word clip is as long as the word rendered now (within 5 %): it says that word', async () => {
    const amountIds = clipsFor({ items: [{ amount: BIG, currency: 'INR' }], language: lang });
    const texts = amountToWords(BIG, 'INR', lang).replace(/[.,]/g, ' ').split(/[\s-]+/).filter(Boolean);
    expect(amountIds).toHaveLength(texts.length);
    for (const [i, id] of amountIds.entries()) {
      // As npm run prompts renders a word (scripts/make-prompts.ts): 160 words a minute, 30 ms of silence kept.
      const fresh = seconds(trimSilence(await renderSpeech(texts[i]!, lang, { speed: 160 }), 30));
      const shipped = seconds(library.get(id));
      expect(Math.abs(fresh - shipped) / fresh, `${id} (${texts[i]}): shipped ${shipped.toFixed(3)} s, rendered ${fresh.toFixed(3)} s`).toBeLessThan(0.05);
    }
  }, 60_000);

  it('differs from the English greeting of the same amount: other clips, and its own text fits its clips better than the English text', () => {
    const own = spoken[lang][BIG]!;
    const en = spoken.en[BIG]!;
    expect(own.ids.filter((id) => en.ids.includes(id))).toEqual([]);
    expect(Math.abs(own.clips - own.text)).toBeLessThan(Math.abs(own.clips - en.text));
    expect(Math.abs(own.clips - en.clips), `${own.clips.toFixed(2)} s against English ${en.clips.toFixed(2)} s`).toBeGreaterThan(0.3);
  });
});

/**
 * `npm run prompts`: renders every prompt clip in English, Hindi and Tamil with espeak-ng + sox (Debian)
 * into server/prompts/<lang>/<clip>.wav (8 kHz, 16-bit mono), the files the media workers load.
 * Reproducible: same text, voices and tool versions give the same files. Clips are trimmed of
 * leading/trailing silence (words keep 30 ms, sentences 120 ms) so concatenated amounts flow.
 * Options: --check (exit 1 if a clip is missing, render nothing), --lang en|hi|ta.
 */
import { mkdirSync, writeFileSync, existsSync, readdirSync, rmSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { clipCatalogue, numberWords } from '../server/src/calls/payment/prompt-clips.js';
import { renderSpeech } from '../server/src/media/prompts/espeak.js';
import { encodeWav, trimSilence } from '../server/src/media/prompts/wav.js';
import { PROMPT_LANGUAGES as LANGUAGES, type BuiltinLanguage as Language } from '../server/src/contract/events.js';

const OUT = resolve(import.meta.dirname, '../server/prompts');
const args = process.argv.slice(2);
const check = args.includes('--check');
const langs = (args.includes('--lang') ? [args[args.indexOf('--lang') + 1]] : [...LANGUAGES]) as Language[];
if (langs.some((l) => !(LANGUAGES as readonly string[]).includes(l))) throw new Error(`--lang takes one of ${LANGUAGES.join(', ')}`);

async function main(): Promise<void> {
  let missing = 0;
  let bytes = 0;
  let seconds = 0;
  for (const lang of langs) {
    const clips = clipCatalogue(lang, numberWords(lang));
    if (check) {
      for (const id of clips.keys()) if (!existsSync(join(OUT, `${id}.wav`))) missing++;
      continue;
    }
    // Start clean so clips that left the catalogue do not linger.
    if (existsSync(join(OUT, lang))) for (const f of readdirSync(join(OUT, lang))) rmSync(join(OUT, lang, f));
    const jobs = [...clips.entries()];
    let next = 0;
    const worker = async (): Promise<void> => {
      while (next < jobs.length) {
        const [id, text] = jobs[next++]!;
        const isWord = id.includes('/w-');
        const pcm = trimSilence(await renderSpeech(text, lang, { speed: isWord ? 160 : 150 }), isWord ? 30 : 120);
        const wav = encodeWav(pcm);
        const file = join(OUT, `${id}.wav`);
        mkdirSync(dirname(file), { recursive: true });
        writeFileSync(file, wav);
        bytes += wav.length;
        seconds += pcm.length / 8000;
      }
    };
    await Promise.all([worker(), worker()]);
    process.stdout.write(`${lang}: ${clips.size} clips\n`);
  }
  if (check) {
    process.stdout.write(missing ? `prompts: ${missing} clip(s) missing; run npm run prompts\n` : 'prompts: all clips present\n');
    process.exit(missing ? 1 : 0);
  }
  process.stdout.write(`prompts: ${(bytes / 1024 / 1024).toFixed(2)} MiB, ${seconds.toFixed(0)} s of audio in ${OUT}\n`);
}

main().catch((err: unknown) => {
  process.stderr.write(`prompts failed: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});

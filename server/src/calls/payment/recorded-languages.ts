import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { isBuiltinLanguage } from '../../contract/events.js';
import { recordedClipIds } from './prompt-clips.js';

/** The clip files the media workers load (media/prompts/library.ts). */
const CLIP_FILE = /^(.+)\.(wav|raw|sln|s16)$/i;

/**
 * Languages of recorded prompts (docs/operations.md, "A language of recorded prompts"): a
 * configured language code other than the built-in en, hi, ta, given only as files in
 * `<prompts dir>/<code>/`, no text, no voice, no code. At start each must have every clip a capture
 * may play (prompt-clips.ts recordedClipIds: the catalogue, `digit-0` ... `digit-9`, `point`), or
 * the start is refused with one line per language naming what is missing. Returns the clip ids each
 * has (its optional `currency-<code>` clips among them) for clipsFor.
 */
export function recordedLanguages(dir: string, languages: readonly string[]): { clips: ReadonlySet<string>; problems: string[] } {
  const clips = new Set<string>();
  const problems: string[] = [];
  for (const lang of languages.filter((l) => !isBuiltinLanguage(l))) {
    let files: string[];
    try {
      files = readdirSync(join(dir, lang));
    } catch (err) {
      problems.push(`prompts.languages: ${lang} is not built in (en, hi, ta) and ${join(dir, lang)} cannot be read (${(err as NodeJS.ErrnoException).code ?? 'error'}): a language of recorded prompts needs its clips there`);
      continue;
    }
    const have = new Set(files.map((f) => CLIP_FILE.exec(f)?.[1]).filter((n) => n !== undefined).map((n) => `${lang}/${n}`));
    const missing = recordedClipIds(lang).filter((id) => !have.has(id));
    if (missing.length) {
      const names = missing.map((id) => id.slice(lang.length + 1));
      problems.push(`prompts.languages: ${lang}: ${missing.length} recorded clip(s) missing in ${join(dir, lang)}: ${names.slice(0, 12).join(', ')}${names.length > 12 ? ', ...' : ''} (.wav, 8 kHz 16-bit mono)`);
    }
    for (const id of have) clips.add(id);
  }
  return { clips, problems };
}

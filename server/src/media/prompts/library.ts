/**
 * Prompt audio by id, loaded once per media worker from a directory tree of 8 kHz 16-bit mono
 * files: `<dir>/<lang>/<name>.wav` (or `.raw` / `.sln` / `.s16`: headerless signed 16-bit
 * little-endian). The id is the path below the directory without the extension, with `/`
 * separators: `server/prompts/en/enter-card.wav` -> `en/enter-card`. A file that cannot be read
 * is reported in `errors` and skipped; a missing directory gives an empty library.
 */
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { extname, join, relative, sep } from 'node:path';
import { parseWav, rawToPcm } from './wav.js';

const RAW = new Set(['.raw', '.sln', '.s16']);

export class PromptNotFoundError extends Error {
  readonly code = 'PROMPT_NOT_FOUND';
  constructor(id: string, dir: string | undefined, size: number) {
    super(`prompt "${id}" not found (${size} prompts loaded from ${dir ?? 'no prompt directory'})`);
    this.name = 'PromptNotFoundError';
  }
}

export class PromptLibrary {
  private readonly prompts = new Map<string, Int16Array>();
  readonly errors: { file: string; error: string }[] = [];

  constructor(readonly dir?: string) {
    if (dir) this.scan(dir);
  }

  get size(): number {
    return this.prompts.size;
  }

  ids(): string[] {
    return [...this.prompts.keys()].sort();
  }

  has(id: string): boolean {
    return this.prompts.has(id);
  }

  /** The prompt's samples; throws PromptNotFoundError. */
  get(id: string): Int16Array {
    const p = this.prompts.get(id);
    if (!p) throw new PromptNotFoundError(id, this.dir, this.prompts.size);
    return p;
  }

  /** Add or replace a prompt (tests, generated audio). */
  set(id: string, pcm: Int16Array): void {
    this.prompts.set(id, pcm);
  }

  private scan(dir: string): void {
    let entries: string[];
    try {
      entries = readdirSync(dir);
    } catch {
      return; // no directory: no prompts
    }
    for (const name of entries.sort()) {
      const path = join(dir, name);
      let isDir: boolean;
      try {
        isDir = statSync(path).isDirectory();
      } catch {
        continue;
      }
      if (isDir) {
        this.scan(path);
        continue;
      }
      const ext = extname(name).toLowerCase();
      if (ext !== '.wav' && !RAW.has(ext)) continue;
      const id = relative(this.dir!, path).slice(0, -ext.length).split(sep).join('/');
      try {
        const buf = readFileSync(path);
        this.prompts.set(id, ext === '.wav' ? parseWav(buf) : rawToPcm(buf));
      } catch (err) {
        this.errors.push({ file: path, error: err instanceof Error ? err.message : String(err) });
      }
    }
  }
}

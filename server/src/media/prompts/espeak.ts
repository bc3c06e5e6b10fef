/**
 * Speech for prompts from espeak-ng, resampled by sox to what the media plane plays: 8 kHz,
 * 16-bit, mono (Debian packages espeak-ng and sox). The text is passed as an argument, never
 * through a shell. sox: high-pass at 100 Hz (the telephone band starts at 300 Hz; this removes
 * only rumble), resample, and normalise the peak to -3 dBFS, so prompts come out at a steady
 * level whatever the voice.
 */
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { rawToPcm } from './wav.js';

const run = promisify(execFile);

export interface SpeechOptions {
  /** espeak-ng voice; default 'en-us' for English, 'hi' for Hindi, 'ta' for Tamil. */
  voice?: string;
  /** Words per minute (espeak-ng -s), default 150. */
  speed?: number;
  /** Pitch 0-99 (espeak-ng -p), default 50. */
  pitch?: number;
}

export async function renderSpeech(text: string, lang: 'en' | 'hi' | 'ta', opts: SpeechOptions = {}): Promise<Int16Array> {
  if (text.trim() === '') throw new RangeError('renderSpeech: empty text');
  const dir = await mkdtemp(join(tmpdir(), 'tonegate-speech-'));
  try {
    const wav = join(dir, 'speech.wav');
    const raw = join(dir, 'speech.raw');
    const voice = opts.voice ?? (lang === 'en' ? 'en-us' : lang); // espeak-ng voices hi, ta
    await run('espeak-ng', ['-v', voice, '-s', String(opts.speed ?? 150), '-p', String(opts.pitch ?? 50), '-w', wav, '--', text]);
    await run('sox', ['-V1', wav, '-t', 'raw', '-r', '8000', '-e', 'signed-integer', '-b', '16', '-c', '1', '-L', raw, 'highpass', '100', 'gain', '-n', '-3']);
    return rawToPcm(await readFile(raw));
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

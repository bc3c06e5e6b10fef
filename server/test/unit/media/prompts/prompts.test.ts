import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { renderSpeech } from '../../../../src/media/prompts/espeak.js';
import { PromptLibrary, PromptNotFoundError } from '../../../../src/media/prompts/library.js';
import { PromptPlayer, type PromptResult } from '../../../../src/media/prompts/player.js';
import { WavError, encodeWav, parseWav } from '../../../../src/media/prompts/wav.js';

const dir = mkdtempSync(join(tmpdir(), 'tonegate-prompts-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const ramp = (n: number, from = 0): Int16Array => Int16Array.from({ length: n }, (_, i) => from + i);

describe('WAV and the prompt library', () => {
  it('round-trips 8 kHz mono PCM WAV and refuses other formats with a reason', () => {
    const pcm = Int16Array.from([0, 1, -1, 32767, -32768, 1234]);
    expect([...parseWav(encodeWav(pcm))]).toEqual([...pcm]);
    const stereo = encodeWav(pcm);
    stereo.writeUInt16LE(2, 22);
    expect(() => parseWav(stereo)).toThrow(/2 channel/);
    const wide = encodeWav(pcm);
    wide.writeUInt32LE(16000, 24);
    expect(() => parseWav(wide)).toThrow(WavError);
    expect(() => parseWav(Buffer.from('RIFF....WAVEjunk'))).toThrow(/no data chunk/);
    expect(() => parseWav(Buffer.from('hello'))).toThrow(/RIFF/);
  });

  it('loads <lang>/<id>.wav and .raw files by id, reports bad files, and names a missing id clearly', () => {
    mkdirSync(join(dir, 'en'));
    mkdirSync(join(dir, 'hi'));
    writeFileSync(join(dir, 'en', 'enter-card.wav'), encodeWav(ramp(800)));
    const raw = Buffer.alloc(320);
    for (let i = 0; i < 160; i++) raw.writeInt16LE(i - 80, 2 * i);
    writeFileSync(join(dir, 'hi', 'enter-card.raw'), raw);
    writeFileSync(join(dir, 'en', 'broken.wav'), Buffer.from('RIFFxxxxWAVE'));
    writeFileSync(join(dir, 'en', 'notes.txt'), 'ignored');
    const lib = new PromptLibrary(dir);
    expect(lib.ids()).toEqual(['en/enter-card', 'hi/enter-card']);
    expect(lib.get('en/enter-card')).toHaveLength(800);
    expect(lib.get('hi/enter-card')[0]).toBe(-80);
    expect(lib.errors).toHaveLength(1);
    expect(lib.errors[0]!.file).toMatch(/broken\.wav$/);
    expect(() => lib.get('en/nope')).toThrow(PromptNotFoundError);
    expect(() => lib.get('en/nope')).toThrow(/prompt "en\/nope" not found \(2 prompts loaded from /);
    expect(new PromptLibrary(join(dir, 'missing')).size).toBe(0);
  });
});

describe('prompt player', () => {
  function player() {
    const ended: [number, PromptResult][] = [];
    const p = new PromptPlayer((id, r) => ended.push([id, r]));
    const out = new Int16Array(160);
    const play = (frames: number): number[] => {
      const got: number[] = [];
      for (let i = 0; i < frames; i++) {
        out.fill(-7);
        if (p.render(out)) got.push(...out);
      }
      return got;
    };
    return { p, ended, play };
  }

  it('plays items back to back, queued requests in order, and reports done exactly once each', () => {
    const { p, ended, play } = player();
    p.enqueue(1, [{ pcm: ramp(200, 1) }, { silence: 40 }, { pcm: ramp(100, 1000) }], false);
    p.enqueue(2, [{ pcm: ramp(50, 5000) }], true);
    const got = play(5);
    expect(got.slice(0, 200)).toEqual([...ramp(200, 1)]);
    expect(got.slice(200, 240).every((x) => x === 0)).toBe(true);
    expect(got.slice(240, 340)).toEqual([...ramp(100, 1000)]);
    expect(got.slice(340, 390)).toEqual([...ramp(50, 5000)]);
    expect(got.slice(390, 480).every((x) => x === 0)).toBe(true);
    expect(ended).toEqual([[1, 'done'], [2, 'done']]);
    expect(p.playing).toBe(false);
  });

  it('barge-in ends only a barge-in request; stop ends everything', () => {
    const { p, ended, play } = player();
    p.enqueue(1, [{ pcm: ramp(1600) }], false);
    p.enqueue(2, [{ pcm: ramp(1600) }], true);
    p.enqueue(3, [{ pcm: ramp(1600) }], true);
    play(2);
    expect(p.bargeIn()).toBe(false);
    play(9);
    expect(p.bargeIn()).toBe(true);
    expect(ended).toEqual([[1, 'done'], [2, 'barged']]);
    p.stop();
    expect(ended).toEqual([[1, 'done'], [2, 'barged'], [3, 'stopped']]);
    expect(play(1)).toEqual([]);
  });
});

describe('espeak-ng + sox speech', () => {
  it.each(['en', 'hi', 'ta'] as const)('renders %s text to 8 kHz 16-bit audio at a sensible level', async (lang) => {
    const pcm = await renderSpeech(lang === 'en' ? 'Please enter your card number' : 'कृपया अपना कार्ड नंबर दर्ज करें', lang);
    expect(pcm.length / 8000).toBeGreaterThan(1);
    expect(pcm.length / 8000).toBeLessThan(6);
    const peak = pcm.reduce((m, x) => Math.max(m, Math.abs(x)), 0);
    expect(peak).toBeGreaterThan(20000); // normalised to -3 dBFS
    expect(peak).toBeLessThan(24000);
  }, 20_000);
});

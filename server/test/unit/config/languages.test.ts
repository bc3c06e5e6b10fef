import { describe, expect, it } from 'vitest';
import { configProblems } from './config-problems.js';
import express from 'express';
import type { AddressInfo } from 'node:net';
import { staticRouter, type WidgetConfig } from '../../../src/api/static.js';
import { loadConfig } from '../../../src/config/load.js';

const problems = configProblems;

describe('prompt language settings', () => {
  it('default: English, Hindi and Tamil offered, English the default', () => {
    const c = loadConfig({});
    expect(c.PROMPT_LANGUAGES).toEqual(['en', 'hi', 'ta']);
    expect(c.DEFAULT_LANGUAGE).toBe('en');
  });

  it('DEFAULT_LANGUAGE=ta and PROMPT_LANGUAGES=ta,en are taken, in that order', () => {
    const c = loadConfig({ DEFAULT_LANGUAGE: 'ta', PROMPT_LANGUAGES: 'ta, en' });
    expect(c.PROMPT_LANGUAGES).toEqual(['ta', 'en']);
    expect(c.DEFAULT_LANGUAGE).toBe('ta');
  });

  it.each([
    // fr alone is a code a language of recorded prompts may have (its clips are checked at start: recorded-languages.test.ts).
    [{ PROMPT_LANGUAGES: 'en,fr-IN' }, 'PROMPT_LANGUAGES'],
    [{ PROMPT_LANGUAGES: 'en,FR' }, 'PROMPT_LANGUAGES'],
    [{ PROMPT_LANGUAGES: 'en,en' }, 'PROMPT_LANGUAGES'],
    [{ DEFAULT_LANGUAGE: 'hi', PROMPT_LANGUAGES: 'en,ta' }, 'DEFAULT_LANGUAGE'],
    [{ DEFAULT_LANGUAGE: 'fr' }, 'DEFAULT_LANGUAGE'],
  ])('%o is refused, naming %s', (env, name) => {
    const out = problems(env);
    expect(out.some((p) => p.startsWith(name)), out.join('\n')).toBe(true);
  });

  it('GET /api/widget-config tells the widget the offered languages and the default', async () => {
    const app = express().use(staticRouter({ distDir: '/nonexistent', sipHost: '127.0.0.1', embedOrigins: [], demo: true, languages: ['hi', 'ta'], defaultLanguage: 'ta' }));
    const server = app.listen(0, '127.0.0.1');
    await new Promise((r) => server.once('listening', r));
    try {
      const res = await fetch(`http://127.0.0.1:${(server.address() as AddressInfo).port}/api/widget-config`);
      const body = (await res.json()) as WidgetConfig;
      expect(body).toMatchObject({ languages: ['hi', 'ta'], defaultLanguage: 'ta' });
    } finally {
      server.close();
    }
  });
});

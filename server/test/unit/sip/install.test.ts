import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

/**
 * Installing tonegate changes nothing under node_modules: no install-time script, and sip.js's
 * generated parser is the file sip.js publishes (the hot header fields are read by
 * server/src/sip/message/hot-headers.ts; the rest goes to that parser as it is). An older install
 * rewrote sip.js's grammar.js in place and kept the original as grammar.orig.js; a node_modules
 * left from it fails here: run `npm ci`.
 */
const REPO = resolve(import.meta.dirname, '../../../..');
const pegDir = join(dirname(createRequire(import.meta.url).resolve('sip.js/package.json')), 'lib/grammar/pegjs/dist');

describe('install leaves node_modules as published', () => {
  it('has no install-time script', () => {
    const pkg = JSON.parse(readFileSync(join(REPO, 'package.json'), 'utf8')) as { scripts: Record<string, string> };
    for (const hook of ['preinstall', 'install', 'postinstall', 'prepare', 'preprepare', 'postprepare', 'prepublish']) {
      expect(pkg.scripts[hook], hook).toBeUndefined();
    }
    expect(existsSync(join(REPO, 'scripts/patch-sipjs-grammar.mjs'))).toBe(false);
  });

  it("keeps sip.js's generated parser as published", () => {
    expect(readdirSync(pegDir).sort()).toEqual(['grammar.d.ts', 'grammar.js']);
    const grammar = readFileSync(join(pegDir, 'grammar.js'), 'utf8');
    expect(grammar).not.toContain('tonegate');
    // sip.js 0.21 publishes peggy's size-optimised output: the bytecode is decoded inside peg$parse.
    expect(grammar).toMatch(/function peg\$parse\(input, options\) \{\n\s+options = options !== undefined \? options : \{\};/);
  });
});

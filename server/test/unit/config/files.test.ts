import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { parseConfigText } from '../../../src/config/file.js';
import { configJsonSchema, configJsonSchemaText } from '../../../src/config/json-schema.js';
import { SETTING_NAMES, SETTINGS } from '../../../src/config/schema.js';

/**
 * The committed companions of the configuration schema: docs/config.schema.json (generated, for
 * editors) and config/example.yaml (every key, commented) must follow the zod schema.
 */
const repo = fileURLToPath(new URL('../../../../', import.meta.url));
const read = (p: string): string => readFileSync(`${repo}${p}`, 'utf8');
const example = read('config/example.yaml');

interface JsonSchema {
  properties?: Record<string, JsonSchema>;
  additionalProperties?: JsonSchema | boolean;
  anyOf?: JsonSchema[];
  type?: string;
}

/** Every leaf key path the schema allows; a record's values are under `*`. */
function leafPaths(s: JsonSchema, prefix: string[] = []): string[] {
  if (s.properties) return Object.entries(s.properties).flatMap(([k, v]) => leafPaths(v, [...prefix, k]));
  if (s.type === 'object' && typeof s.additionalProperties === 'object') return leafPaths(s.additionalProperties, [...prefix, '*']);
  return [prefix.join('.')];
}

/** Every leaf key path of a parsed YAML value; merchant ids and the SMS templates' language codes become `*`. */
const RECORDS = /^(capture\.merchants|sms\.templates\.(otp|receipt))$/;
function keysOf(v: unknown, prefix: string[] = []): string[] {
  if (v === null || typeof v !== 'object' || Array.isArray(v)) return [prefix.join('.')];
  return Object.entries(v).flatMap(([k, x]) => keysOf(x, [...prefix, RECORDS.test(prefix.join('.')) ? '*' : k]));
}

/** The example with its commented-out `# key: value` lines switched on. */
const uncommented = example.replace(/^(\s*)# ([a-zA-Z][a-zA-Z0-9]*: .*)$/gm, '$1$2');

describe('docs/config.schema.json', () => {
  it('is the JSON Schema generated from the zod schema (run npm run config:schema after a change)', () => {
    expect(read('docs/config.schema.json')).toBe(configJsonSchemaText());
  });

  it('has a key for every non-secret setting and none for a secret', () => {
    const paths = leafPaths(configJsonSchema() as JsonSchema);
    for (const name of SETTING_NAMES) {
      const key = SETTINGS[name].file;
      if (key) expect(paths, name).toContain(key);
    }
    expect(paths.join(' ')).not.toMatch(/agents|token|apiKey|hmac/i);
  });
});

describe('config/example.yaml', () => {
  it('is a valid configuration as shipped', () => {
    expect(parseConfigText(example, 'config/example.yaml').errors).toEqual([]);
  });

  it('is still valid with every commented-out key switched on', () => {
    expect(uncommented).not.toBe(example);
    expect(parseConfigText(uncommented, 'config/example.yaml').errors).toEqual([]);
  });

  it('covers every key of the schema, set or commented out', () => {
    const documented = new Set(keysOf(parse(uncommented)));
    // A merchant override takes the keys of `capture:` itself ("each takes the keys above"), so it
    // is covered by them; the example still shows an override.
    const required = leafPaths(configJsonSchema() as JsonSchema).map((p) => p.replace(/^capture\.merchants\.\*\./, 'capture.'));
    expect(required).toContain('capture.fields.otp.maxAttempts');
    expect(required.filter((p) => !documented.has(p))).toEqual([]);
    expect([...documented].some((p) => p.startsWith('capture.merchants.*.fields.'))).toBe(true);
  });

  it('names the environment variable of every setting it documents', () => {
    for (const name of SETTING_NAMES) expect(example, name).toContain(SETTINGS[name].file ? `[${name}]` : name);
  });
});

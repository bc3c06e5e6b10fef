import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigError, loadConfig } from '../../../src/config/load.js';

/** The lines loadConfig refuses `env` with ([] when it loads): what the config tests compare. */
export function configProblems(env: Record<string, string>): string[] {
  try {
    loadConfig(env);
  } catch (err) {
    if (err instanceof ConfigError) return err.issues;
    throw err;
  }
  return [];
}

/** A fresh temporary folder and a writer of numbered YAML files in it, for TONEGATE_CONFIG. */
export function yamlFiles(prefix: string): { dir: string; file: (text: string) => string } {
  const dir = mkdtempSync(join(tmpdir(), `tg-${prefix}-`));
  let n = 0;
  const file = (text: string): string => {
    const p = join(dir, `c${n++}.yaml`);
    writeFileSync(p, text);
    return p;
  };
  return { dir, file };
}

/**
 * Runs many generated DTMF cases through our detector and the spandsp oracle in one pass each:
 * cases are laid end to end with 300 ms of silence after each, and every reported digit is
 * credited to the case whose window holds the sample at which it was reported.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { GoertzelDtmfDetector, type InbandDigit, type InbandDigitEnd } from '../../../src/media/dtmf/index.js';
import { ms } from '../../../devtools/dsp/generator.js';
import { spandspDetect } from '../../../devtools/dsp/spandsp.js';

export interface DetectionCase {
  name: string;
  /** Digits a Q.24-conforming receiver must report ('' = none). */
  expected: string;
  pcm: Int16Array;
}

export interface CaseResult {
  case: string;
  expected: string;
  ours: string;
  spandsp: string;
}

export interface OursRun {
  digits: InbandDigit[];
  ends: InbandDigitEnd[];
  detector: GoertzelDtmfDetector;
}

/** Our detector over `pcm`, fed in `chunk`-sample frames, flushed with 100 ms of silence. */
export function runOurs(pcm: Int16Array, chunk = 160): OursRun {
  const digits: InbandDigit[] = [];
  const ends: InbandDigitEnd[] = [];
  const detector = new GoertzelDtmfDetector({ onDigit: (d) => digits.push(d), onEnd: (e) => ends.push(e) });
  for (let i = 0; i < pcm.length; i += chunk) detector.push(pcm, i, Math.min(chunk, pcm.length - i));
  detector.push(new Int16Array(ms(100)));
  return { digits, ends, detector };
}

export function runCases(cases: DetectionCase[]): CaseResult[] {
  const gap = ms(300);
  const starts: number[] = [];
  let total = 0;
  for (const c of cases) {
    starts.push(total);
    total += c.pcm.length + gap;
  }
  const all = new Int16Array(total);
  cases.forEach((c, i) => all.set(c.pcm, starts[i]!));
  const results: CaseResult[] = cases.map((c) => ({ case: c.name, expected: c.expected, ours: '', spandsp: '' }));
  const slot = (at: number): number => {
    let i = 0;
    while (i + 1 < starts.length && at > starts[i + 1]!) i++;
    return i;
  };
  for (const d of runOurs(all).digits) results[slot(d.detectedAtSample)]!.ours += d.digit;
  const oracle = spandspDetect(all);
  oracle.digits.split('').forEach((d, k) => (results[slot(oracle.at[k]!)]!.spandsp += d));
  return results;
}

const RESULTS_DIR = '.test-results';

/** Write a JSON report under .test-results/ (created if needed). */
export function writeReport(file: string, data: unknown): string {
  mkdirSync(RESULTS_DIR, { recursive: true });
  const path = join(RESULTS_DIR, file);
  writeFileSync(path, JSON.stringify(data, null, 2) + '\n');
  return path;
}

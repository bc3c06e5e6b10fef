/**
 * The spandsp oracle: builds spandsp-dtmf.c once (gcc ... -lspandsp, Debian libspandsp-dev)
 * into a cache directory keyed by the source's hash, and runs it on PCM.
 */
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const SOURCE = join(dirname(fileURLToPath(import.meta.url)), 'spandsp-dtmf.c');

export function spandspOracleBinary(): string {
  const src = readFileSync(SOURCE);
  const hash = createHash('sha256').update(src).digest('hex').slice(0, 16);
  const dir = join(tmpdir(), 'tonegate-dsp-cache');
  const bin = join(dir, `spandsp-dtmf-${hash}`);
  if (existsSync(bin)) return bin;
  mkdirSync(dir, { recursive: true });
  const tmp = `${bin}.${process.pid}.tmp`;
  execFileSync('gcc', ['-O2', '-Wall', '-o', tmp, SOURCE, '-lspandsp', '-lm'], { stdio: ['ignore', 'ignore', 'pipe'] });
  renameSync(tmp, bin); // atomic: parallel test files may race to build it
  return bin;
}

export interface OracleResult {
  digits: string;
  /** Sample index (end of the 10 ms chunk) at which spandsp reported each digit. */
  at: number[];
}

const asBuffer = (pcm: Int16Array): Buffer => Buffer.from(pcm.buffer, pcm.byteOffset, pcm.byteLength);

/** Run spandsp's dtmf_rx (default parameters) over `pcm`. */
export function spandspDetect(pcm: Int16Array): OracleResult {
  const out = execFileSync(spandspOracleBinary(), [], { input: asBuffer(pcm), maxBuffer: 64 << 20 }).toString();
  const result: OracleResult = { digits: '', at: [] };
  for (const line of out.split('\n')) {
    const m = /^D (.) (\d+)$/.exec(line);
    if (m) {
      result.digits += m[1];
      result.at.push(Number(m[2]));
    }
  }
  return result;
}

/** Time spandsp's dtmf_rx over `pcm` `repeats` times: samples per second (C, -O2). */
export function spandspThroughput(pcm: Int16Array, repeats: number): { samplesPerSecond: number; digits: number } {
  const out = execFileSync(spandspOracleBinary(), ['-b', String(repeats)], { input: asBuffer(pcm), maxBuffer: 1 << 20 }).toString();
  const m = /^B (\d+) (\d+)/m.exec(out);
  if (!m) throw new Error(`unexpected oracle output: ${out}`);
  return { samplesPerSecond: Number(m[1]), digits: Number(m[2]) };
}

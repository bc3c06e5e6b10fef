import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import {
  ALAW_DECODE,
  ALAW_TO_ULAW,
  DBM0_RMS,
  ULAW_DECODE,
  ULAW_TO_ALAW,
  alawDecode,
  alawEncode,
  alawToUlaw,
  dbm0ForRms,
  decodeAlaw,
  decodeUlaw,
  encodeAlaw,
  encodeUlaw,
  transcode,
  ulawDecode,
  ulawEncode,
  ulawToAlaw,
} from '../../../../src/media/g711/index.js';
import { alawEncodeReference, ulawEncodeReference } from '../../../../src/media/g711/g711.js';

const allSamples = (): Int16Array => {
  const a = new Int16Array(65536);
  for (let i = 0; i < 65536; i++) a[i] = i - 32768;
  return a;
};

/** Magnitude order of codes: positive codes from smallest to largest. */
const ulawByValue = (): number[] => [...Array(256).keys()].sort((x, y) => ULAW_DECODE[x]! - ULAW_DECODE[y]!);

describe('G.711 µ-law (ITU-T G.711 Table 2)', () => {
  it('decodes the reference points: 0xFF = 0, 0x7F = 0, 0x80 = +32124, 0x00 = -32124', () => {
    expect(ulawDecode(0xff)).toBe(0);
    expect(ulawDecode(0x7f)).toBe(0);
    expect(ulawDecode(0x80)).toBe(32124);
    expect(ulawDecode(0x00)).toBe(-32124);
    expect(ulawDecode(0xfe)).toBe(8);
    expect(ulawDecode(0x7e)).toBe(-8);
  });

  it('every code re-encodes to itself except 0x7F (negative zero), which becomes 0xFF', () => {
    const mismatched: number[] = [];
    for (let c = 0; c < 256; c++) if (ulawEncode(ulawDecode(c)) !== c) mismatched.push(c);
    expect(mismatched).toEqual([0x7f]);
    expect(ulawEncode(ulawDecode(0x7f))).toBe(0xff);
  });

  it('decoding is odd-symmetric and monotonic in code order within each sign', () => {
    for (let i = 0; i < 128; i++) expect(ULAW_DECODE[0x7f ^ i]! + ULAW_DECODE[0xff ^ i]!).toBe(0);
    for (let i = 1; i < 128; i++) expect(ULAW_DECODE[0xff ^ i]!).toBeGreaterThan(ULAW_DECODE[0xff ^ (i - 1)]!);
  });

  it('encoding is monotonic non-decreasing in the decoded value over all 65536 inputs', () => {
    let last = -Infinity;
    let violations = 0;
    for (let x = -32768; x < 32768; x++) {
      const v = ulawDecode(ulawEncode(x));
      if (v < last) violations++;
      last = v;
    }
    expect(violations).toBe(0);
  });

  it('the table encoder equals the segment-search reference for every 16-bit input', () => {
    const src = allSamples();
    const dst = new Uint8Array(src.length);
    encodeUlaw(src, dst);
    for (let i = 0; i < src.length; i++) if (dst[i] !== ulawEncodeReference(src[i]!)) throw new Error(`at ${src[i]}`);
  });

  it('the digital milliwatt (G.711 Table 5) decodes to 0 dBm0 within 0.01 dB', () => {
    const dm = Uint8Array.from([0x1e, 0x0b, 0x0b, 0x1e, 0x9e, 0x8b, 0x8b, 0x9e]);
    const pcm = new Int16Array(8);
    decodeUlaw(dm, pcm);
    const rms = Math.sqrt(pcm.reduce((s, v) => s + v * v, 0) / 8);
    expect(Math.abs(dbm0ForRms(rms))).toBeLessThan(0.01);
    expect(DBM0_RMS).toBeCloseTo(16020.7, 1);
  });

  it('quantisation error is at most half the local step plus the 2-bit truncation', () => {
    const order = ulawByValue().map((c) => ULAW_DECODE[c]!);
    for (let x = -32000; x <= 32000; x += 3) {
      const v = ulawDecode(ulawEncode(x));
      const k = order.indexOf(v);
      const step = Math.max(order[Math.min(k + 1, 255)]! - v, v - order[Math.max(k - 1, 0)]!);
      expect(Math.abs(v - x)).toBeLessThanOrEqual(step / 2 + 4);
    }
  });
});

describe('G.711 A-law (ITU-T G.711 Table 1)', () => {
  it('decodes the reference points: 0xD5 = +8, 0x55 = -8, 0xAA = +32256, 0x2A = -32256', () => {
    expect(alawDecode(0xd5)).toBe(8);
    expect(alawDecode(0x55)).toBe(-8);
    expect(alawDecode(0xaa)).toBe(32256);
    expect(alawDecode(0x2a)).toBe(-32256);
  });

  it('every one of the 256 codes re-encodes to itself (A-law has no negative zero)', () => {
    for (let c = 0; c < 256; c++) expect(alawEncode(alawDecode(c))).toBe(c);
  });

  it('decoding is odd-symmetric and monotonic; the table encoder equals the reference', () => {
    for (let i = 0; i < 128; i++) expect(ALAW_DECODE[0x55 ^ i]! + ALAW_DECODE[0xd5 ^ i]!).toBe(0);
    for (let i = 1; i < 128; i++) expect(ALAW_DECODE[0xd5 ^ i]!).toBeGreaterThan(ALAW_DECODE[0xd5 ^ (i - 1)]!);
    const src = allSamples();
    const dst = new Uint8Array(src.length);
    encodeAlaw(src, dst);
    for (let i = 0; i < src.length; i++) if (dst[i] !== alawEncodeReference(src[i]!)) throw new Error(`at ${src[i]}`);
  });

  it('the A-law digital milliwatt (Table 6) is 0.07 dB above the µ-law 0 dBm0 reference', () => {
    const dm = Uint8Array.from([0x34, 0x21, 0x21, 0x34, 0xb4, 0xa1, 0xa1, 0xb4]);
    const pcm = new Int16Array(8);
    decodeAlaw(dm, pcm);
    const rms = Math.sqrt(pcm.reduce((s, v) => s + v * v, 0) / 8);
    expect(dbm0ForRms(rms)).toBeCloseTo(0.066, 2);
  });

  it('scalar encoders clamp out-of-range input', () => {
    expect(ulawEncode(40000)).toBe(ulawEncode(32767));
    expect(alawEncode(-40000)).toBe(alawEncode(-32768));
  });
});

describe('G.711 µ-law <-> A-law (G.711 §4, Tables 3 and 4)', () => {
  // Spot values from Tables 3/4 as magnitude indices (0 = smallest): µ index -> A index.
  const table3: Array<[number, number]> = [[0, 0], [1, 0], [2, 1], [15, 7], [16, 8], [32, 24], [33, 26], [35, 30], [48, 45], [64, 63], [80, 79], [81, 81], [127, 127]];
  const table4: Array<[number, number]> = [[0, 1], [1, 3], [7, 15], [8, 16], [24, 32], [25, 32], [45, 48], [63, 64], [80, 80], [127, 127]];

  it('matches spot entries of Tables 3 and 4, with the sign preserved', () => {
    for (const [u, a] of table3) {
      expect(ULAW_TO_ALAW[0xff ^ u]).toBe(0xd5 ^ a);
      expect(ULAW_TO_ALAW[0x7f ^ u]).toBe(0x55 ^ a);
    }
    for (const [a, u] of table4) {
      expect(ALAW_TO_ULAW[0xd5 ^ a]).toBe(0xff ^ u);
      expect(ALAW_TO_ULAW[0x55 ^ a]).toBe(0x7f ^ u);
    }
  });

  it('both maps are monotonic; a round trip moves at most 8 magnitudes by one step and is then stable', () => {
    for (let i = 1; i < 128; i++) {
      expect(ALAW_DECODE[ULAW_TO_ALAW[0xff ^ i]!]!).toBeGreaterThanOrEqual(ALAW_DECODE[ULAW_TO_ALAW[0xff ^ (i - 1)]!]!);
      expect(ULAW_DECODE[ALAW_TO_ULAW[0xd5 ^ i]!]!).toBeGreaterThanOrEqual(ULAW_DECODE[ALAW_TO_ULAW[0xd5 ^ (i - 1)]!]!);
    }
    const aua = [...Array(256).keys()].filter((c) => ULAW_TO_ALAW[ALAW_TO_ULAW[c]!] !== c);
    const uau = [...Array(256).keys()].filter((c) => ALAW_TO_ULAW[ULAW_TO_ALAW[c]!] !== c);
    // A -> µ -> A: 8 magnitudes (A-law 408..504, 912, 976, 1952, 4224) land on a neighbour.
    expect(aua.length).toBe(16);
    // µ -> A -> µ: the 8 smallest even µ magnitudes (0, 16, .. 112) land on a neighbour.
    expect(uau.map((c) => Math.abs(ULAW_DECODE[c]!)).sort((x, y) => x - y)).toEqual([0, 0, 16, 16, 32, 32, 48, 48, 64, 64, 80, 80, 96, 96, 112, 112]);
    for (const c of aua) expect(Math.abs((ULAW_TO_ALAW[ALAW_TO_ULAW[c]!]! ^ 0x55) - (c ^ 0x55))).toBe(1);
    for (let c = 0; c < 256; c++) {
      const a = ULAW_TO_ALAW[ALAW_TO_ULAW[c]!]!;
      expect(ULAW_TO_ALAW[ALAW_TO_ULAW[a]!]).toBe(a);
      const u = ALAW_TO_ULAW[ULAW_TO_ALAW[c]!]!;
      expect(ALAW_TO_ULAW[ULAW_TO_ALAW[u]!]).toBe(u);
    }
  });

  it('transcodes buffers in place and by law name', () => {
    const buf = Uint8Array.from([0xff, 0x80, 0x00, 0x7f]);
    const out = new Uint8Array(4);
    expect(ulawToAlaw(buf, out)).toBe(4);
    expect([...out]).toEqual([0xd5, 0xaa, 0x2a, 0x55]);
    alawToUlaw(out, out);
    // µ -> A -> µ is not transparent at the bottom: µ zero has no A-law twin (A's smallest is ±8).
    expect([...out]).toEqual([0xfe, 0x80, 0x00, 0x7e]);
    const same = new Uint8Array(4);
    expect(transcode(buf, same, 'pcmu', 'pcmu')).toBe(4);
    expect([...same]).toEqual([...buf]);
    expect(() => decodeUlaw(new Uint8Array(4), new Int16Array(3))).toThrow(RangeError);
  });
});

describe('G.711 against sox (libsox g711, dither off)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'tonegate-g711-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const pcmPath = join(dir, 'all.s16');
  const src = allSamples();
  writeFileSync(pcmPath, Buffer.from(src.buffer, src.byteOffset, src.byteLength));

  for (const law of ['mu-law', 'a-law'] as const) {
    // sox converts 16-bit to 14-bit (µ) / 13-bit (A) by rounding half up before the G.711
    // segment search; the CCITT/Sun reference we follow (like spandsp and Asterisk) truncates
    // with an arithmetic shift. So sox's byte equals ours for x + 2 (µ) / x + 4 (A), and the two
    // differ only within 2 / 4 16-bit units below a decision value, by one code step.
    it(`encodes all 65536 16-bit values like sox -e ${law}, modulo sox's rounding to ${law === 'mu-law' ? 14 : 13} bits`, () => {
      const out = join(dir, `${law}.raw`);
      execFileSync('sox', ['-D', '-V1', '-t', 'raw', '-r', '8000', '-e', 'signed', '-b', '16', '-c', '1', '-L', pcmPath, '-t', 'raw', '-e', law, '-c', '1', out]);
      const soxBytes = readFileSync(out);
      const enc = law === 'mu-law' ? ulawEncode : alawEncode;
      const half = law === 'mu-law' ? 2 : 4;
      const decode = law === 'mu-law' ? ULAW_DECODE : ALAW_DECODE;
      const ours = new Uint8Array(src.length);
      (law === 'mu-law' ? encodeUlaw : encodeAlaw)(src, ours);
      expect(soxBytes.length).toBe(ours.length);
      let differing = 0;
      for (let i = 0; i < ours.length; i++) {
        const x = src[i]!;
        if (soxBytes[i] !== enc(x + half)) throw new Error(`sox ${soxBytes[i]} for ${x} is not the rounded encoding`);
        if (soxBytes[i] === ours[i]) continue;
        differing++;
        expect(enc(x + half)).not.toBe(enc(x)); // a decision value lies in (x, x + half]
        expect(decode[soxBytes[i]!]! - decode[ours[i]!]!).toBeGreaterThan(0); // sox is one step up
      }
      expect(differing).toBe(law === 'mu-law' ? 508 : 1020);
    });

    it(`decodes all 256 ${law} codes to the same 16-bit values as sox`, () => {
      const codes = Uint8Array.from([...Array(256).keys()]);
      const inPath = join(dir, `${law}-codes.raw`);
      const outPath = join(dir, `${law}-codes.s16`);
      writeFileSync(inPath, codes);
      execFileSync('sox', ['-D', '-t', 'raw', '-r', '8000', '-e', law, '-b', '8', '-c', '1', inPath, '-t', 'raw', '-e', 'signed', '-b', '16', '-L', outPath]);
      const buf = readFileSync(outPath);
      const soxPcm = new Int16Array(buf.buffer, buf.byteOffset, buf.length / 2);
      const ours = new Int16Array(256);
      (law === 'mu-law' ? decodeUlaw : decodeAlaw)(codes, ours);
      expect([...ours]).toEqual([...soxPcm]);
    });
  }
});

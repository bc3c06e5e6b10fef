/**
 * Test-signal generator for DTMF receivers, in the spirit of spandsp's dtmf_rx_tests.c
 * (itself after the Mitel CM7291 tape): dBm0-calibrated tone pairs with twist, frequency
 * offset, on/off timing and interruptions; seeded white Gaussian noise; dial tone.
 *
 * Levels follow server/src/media/g711/dbm0.ts (0 dBm0 = sine peak 22656.7, the µ-law
 * digital milliwatt). Signals are built in Float64 and saturated to int16 at the end;
 * `viaUlaw` passes them through G.711 µ-law like the real channel.
 */
import { decodeUlaw, encodeUlaw, rmsForDbm0, sinePeakForDbm0 } from '../../src/media/g711/index.js';
import { dtmfFrequencies } from '../../src/media/dtmf/events.js';
import { prng } from '../prng.js';

export const FS = 8000;
export const ms = (m: number): number => Math.round((m * FS) / 1000);

export interface ToneOptions {
  /** Level of the low (row) tone, dBm0. Default -10. */
  lowDbm0?: number;
  /** Level of the high (column) tone, dBm0. Default = lowDbm0. */
  highDbm0?: number;
  /** Relative frequency offset of the row tone, e.g. 0.015 = +1.5 %. */
  lowOffset?: number;
  highOffset?: number;
  /** Tone on / off time per digit, ms. Default 50 / 50. */
  onMs?: number;
  offMs?: number;
  /** Silence before the first digit, ms. Default 0. */
  leadMs?: number;
  /** Start phase of both oscillators, radians. Default 0. */
  phase?: number;
}

/** Append one tone pair of `n` samples at `at`, with an optional silent interruption. */
function addPair(buf: Float64Array, at: number, n: number, digit: string, o: ToneOptions, gap?: { at: number; len: number }): void {
  const { row, col } = dtmfFrequencies(digit);
  const lowDb = o.lowDbm0 ?? -10;
  const aLow = sinePeakForDbm0(lowDb);
  const aHigh = sinePeakForDbm0(o.highDbm0 ?? lowDb);
  const wLow = (2 * Math.PI * row * (1 + (o.lowOffset ?? 0))) / FS;
  const wHigh = (2 * Math.PI * col * (1 + (o.highOffset ?? 0))) / FS;
  const ph = o.phase ?? 0;
  for (let i = 0; i < n; i++) {
    if (gap && i >= gap.at && i < gap.at + gap.len) continue; // oscillators keep running
    buf[at + i]! += aLow * Math.sin(wLow * i + ph) + aHigh * Math.sin(wHigh * i + ph);
  }
}

/** Digits with on/off timing: returns the float signal. */
export function dtmfSignal(digits: string, o: ToneOptions = {}): Float64Array {
  const on = ms(o.onMs ?? 50);
  const off = ms(o.offMs ?? 50);
  const lead = ms(o.leadMs ?? 0);
  const buf = new Float64Array(lead + digits.length * (on + off));
  for (let d = 0; d < digits.length; d++) addPair(buf, lead + d * (on + off), on, digits[d]!, o);
  return buf;
}

/** One digit of `onMs` with a silent break of `gapMs` after `breakAtMs`, then `offMs` silence. */
export function dtmfWithBreak(digit: string, onMs: number, breakAtMs: number, gapMs: number, o: ToneOptions = {}): Float64Array {
  const on = ms(onMs);
  const buf = new Float64Array(ms(o.leadMs ?? 0) + on + ms(o.offMs ?? 60));
  addPair(buf, ms(o.leadMs ?? 0), on, digit, o, { at: ms(breakAtMs), len: ms(gapMs) });
  return buf;
}

export function silence(msLen: number): Float64Array {
  return new Float64Array(ms(msLen));
}

export function concat(...parts: Float64Array[]): Float64Array {
  const out = new Float64Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/** Add white Gaussian noise of RMS level `dbm0` (flat 0-4 kHz), seeded. In place. */
export function addWhiteNoise(buf: Float64Array, dbm0: number, seed: number): Float64Array {
  const rnd = prng(seed);
  const sigma = rmsForDbm0(dbm0);
  for (let i = 0; i < buf.length; i += 2) {
    const u1 = Math.max(rnd(), 1e-12);
    const u2 = rnd();
    const r = sigma * Math.sqrt(-2 * Math.log(u1));
    buf[i]! += r * Math.cos(2 * Math.PI * u2);
    if (i + 1 < buf.length) buf[i + 1]! += r * Math.sin(2 * Math.PI * u2);
  }
  return buf;
}

/** Add continuous dial tone (350 + 440 Hz, ITU-T E.180 / North American precise tone), each at `dbm0`. In place. */
export function addDialTone(buf: Float64Array, dbm0: number): Float64Array {
  const a = sinePeakForDbm0(dbm0);
  for (let i = 0; i < buf.length; i++) {
    buf[i]! += a * (Math.sin((2 * Math.PI * 350 * i) / FS) + Math.sin((2 * Math.PI * 440 * i) / FS));
  }
  return buf;
}

/** Saturate to int16 (rounding to nearest). */
export function toInt16(buf: Float64Array): Int16Array {
  const out = new Int16Array(buf.length);
  for (let i = 0; i < buf.length; i++) {
    const v = Math.round(buf[i]!);
    out[i] = v > 32767 ? 32767 : v < -32768 ? -32768 : v;
  }
  return out;
}

/** Through a G.711 µ-law encode/decode, like the telephone channel. */
export function viaUlaw(pcm: Int16Array): Int16Array {
  const u = new Uint8Array(pcm.length);
  encodeUlaw(pcm, u);
  const out = new Int16Array(pcm.length);
  decodeUlaw(u, out);
  return out;
}

/** Convenience: float signal -> int16 -> µ-law channel. */
export const channel = (buf: Float64Array): Int16Array => viaUlaw(toInt16(buf));

/** Mean power of a signal in dBm0 (for checking the generator itself). */
export function levelDbm0(pcm: ArrayLike<number>, from = 0, to = pcm.length): number {
  let e = 0;
  for (let i = from; i < to; i++) e += pcm[i]! * pcm[i]!;
  return 10 * Math.log10(e / (to - from) / (rmsForDbm0(0) * rmsForDbm0(0)));
}

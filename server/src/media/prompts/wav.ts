/**
 * The WAV subset prompts use: RIFF/WAVE with a `fmt ` chunk of format 1 (PCM) or 0xFFFE
 * (WAVE_FORMAT_EXTENSIBLE whose sub-format is PCM), 1 channel, 8000 Hz, 16 bits, and a `data`
 * chunk (Microsoft RIFF; chunks are word-aligned: an odd-sized chunk is followed by a pad octet).
 * Anything else is refused with a message that says what was found.
 */
import { SAMPLE_RATE } from '../clock/frame.js';

export class WavError extends Error {
  readonly code = 'BAD_WAV';
  constructor(message: string) {
    super(message);
    this.name = 'WavError';
  }
}

/** 16-bit little-endian mono samples of an 8 kHz PCM WAV file. */
export function parseWav(buf: Buffer): Int16Array {
  if (buf.length < 12 || buf.toString('latin1', 0, 4) !== 'RIFF' || buf.toString('latin1', 8, 12) !== 'WAVE') {
    throw new WavError('not a RIFF/WAVE file');
  }
  let fmt: { format: number; channels: number; rate: number; bits: number } | undefined;
  let offset = 12;
  while (offset + 8 <= buf.length) {
    const id = buf.toString('latin1', offset, offset + 4);
    const size = buf.readUInt32LE(offset + 4);
    const body = offset + 8;
    if (id === 'fmt ') {
      if (size < 16 || body + size > buf.length) throw new WavError('truncated fmt chunk');
      let format = buf.readUInt16LE(body);
      if (format === 0xfffe && size >= 40) format = buf.readUInt16LE(body + 24); // sub-format GUID starts with the format code
      fmt = { format, channels: buf.readUInt16LE(body + 2), rate: buf.readUInt32LE(body + 4), bits: buf.readUInt16LE(body + 14) };
    } else if (id === 'data') {
      if (!fmt) throw new WavError('data chunk before fmt chunk');
      if (fmt.format !== 1 || fmt.channels !== 1 || fmt.rate !== SAMPLE_RATE || fmt.bits !== 16) {
        throw new WavError(`need PCM mono 8000 Hz 16-bit, got format ${fmt.format}, ${fmt.channels} channel(s), ${fmt.rate} Hz, ${fmt.bits}-bit`);
      }
      const end = Math.min(buf.length, body + size); // tolerate a data size that runs past the end (streamed files)
      return rawToPcm(buf.subarray(body, end - ((end - body) % 2)));
    }
    offset = body + size + (size % 2);
  }
  throw new WavError('no data chunk');
}

/** Raw signed 16-bit little-endian samples (copied, so the result is aligned and owned). */
export function rawToPcm(buf: Buffer): Int16Array {
  const n = buf.length >> 1;
  const out = new Int16Array(n);
  for (let i = 0; i < n; i++) out[i] = buf.readInt16LE(2 * i);
  return out;
}

/** A mono 8 kHz 16-bit PCM WAV file holding `pcm`. */
export function encodeWav(pcm: Int16Array): Buffer {
  const data = pcm.length * 2;
  const b = Buffer.alloc(44 + data);
  b.write('RIFF', 0, 'latin1');
  b.writeUInt32LE(36 + data, 4);
  b.write('WAVEfmt ', 8, 'latin1');
  b.writeUInt32LE(16, 16);
  b.writeUInt16LE(1, 20);
  b.writeUInt16LE(1, 22);
  b.writeUInt32LE(SAMPLE_RATE, 24);
  b.writeUInt32LE(SAMPLE_RATE * 2, 28);
  b.writeUInt16LE(2, 32);
  b.writeUInt16LE(16, 34);
  b.write('data', 36, 'latin1');
  b.writeUInt32LE(data, 40);
  for (let i = 0; i < pcm.length; i++) b.writeInt16LE(pcm[i]!, 44 + 2 * i);
  return b;
}

/**
 * The clip without its leading and trailing silence (below about -40 dBFS), keeping `keepMs` of it
 * each side: what `npm run prompts` stores (words keep 30 ms, sentences 120 ms) so that
 * concatenated amounts flow.
 */
export function trimSilence(pcm: Int16Array, keepMs: number): Int16Array {
  const thr = 300; // about -40 dBFS
  let a = 0;
  let b = pcm.length - 1;
  while (a < pcm.length && Math.abs(pcm[a]!) < thr) a++;
  while (b > a && Math.abs(pcm[b]!) < thr) b--;
  const keep = (keepMs * 8) | 0;
  return pcm.slice(Math.max(0, a - keep), Math.min(pcm.length, b + 1 + keep));
}

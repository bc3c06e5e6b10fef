/**
 * Runs customer audio through a leg's receive path without sockets: µ-law 20 ms packets
 * arriving with jitter -> PlayoutBuffer with the DTMF guard as analyser -> frames every 20 ms
 * -> mask. Returns what an agent would hear.
 */
import { encodeUlaw } from '../../../../src/media/g711/index.js';
import { FRAME, PlayoutBuffer } from '../../../../src/media/jitter/playout-buffer.js';
import { DtmfGuard, MASK_LOOKAHEAD } from '../../../../src/media/mask/dtmf-guard.js';
import { MaskSignal, type MaskKind } from '../../../../src/media/mask/mask-signal.js';
import { prng } from '../../../../devtools/prng.js';

export interface GuardRun {
  out: Int16Array;
  digits: { digit: string; startPos: number }[];
  guard: DtmfGuard;
  buffer: PlayoutBuffer;
  /** Timeline position of input sample 0. */
  base: number;
}

export interface GuardRunOptions {
  /** Uniform random extra delay per packet, [0, jitterMs) ms (packets reorder). */
  jitterMs?: number;
  kind?: MaskKind;
  seed?: number;
  /** Extra delay (ms) of packet k, added to the jitter; null: packet k never arrives. */
  delay?: (k: number) => number | null;
}

export function throughGuard(pcm: Int16Array, opts: GuardRunOptions = {}): GuardRun {
  const digits: GuardRun['digits'] = [];
  const guard = new DtmfGuard(new MaskSignal(opts.kind ?? 'silence'), (digit, startPos) => digits.push({ digit, startPos }));
  const buffer = new PlayoutBuffer(MASK_LOOKAHEAD, guard);
  const packets = Math.ceil(pcm.length / FRAME);
  const rnd = prng(opts.seed ?? 1);
  const arrivals = Array.from({ length: packets }, (_, k) => ({ k, at: 4 + 20 * k + rnd() * (opts.jitterMs ?? 0), extra: opts.delay ? opts.delay(k) : 0 }))
    .filter((a): a is { k: number; at: number; extra: number } => a.extra !== null)
    .map(({ k, at, extra }) => ({ k, at: at + extra }))
    .sort((a, b) => a.at - b.at);
  const ticks = packets + 10;
  const out = new Int16Array(ticks * FRAME);
  const frame = new Int16Array(FRAME);
  const payload = new Uint8Array(FRAME);
  const chunk = new Int16Array(FRAME);
  let ai = 0;
  let base = NaN;
  for (let t = 0; t < ticks; t++) {
    const now = 10 + 20 * t;
    while (ai < arrivals.length && arrivals[ai]!.at <= now) {
      const { k, at } = arrivals[ai++]!;
      chunk.fill(0);
      chunk.set(pcm.subarray(k * FRAME, Math.min(pcm.length, (k + 1) * FRAME)));
      encodeUlaw(chunk, payload);
      buffer.write(0x1234, k, 1000 + k * FRAME, payload, 0, FRAME, 'pcmu', at);
      if (Number.isNaN(base)) base = buffer.positionOf(0x1234, 1000)!;
    }
    const info = buffer.read(frame, now);
    guard.apply(frame, info.offset, info.pos, info.length, info.analysedTo - MASK_LOOKAHEAD);
    out.set(frame, t * FRAME);
  }
  return { out, digits, guard, buffer, base };
}

/**
 * bench:media, SRTP part: what SRTP (RFC 3711, AES_CM_128_HMAC_SHA1_80 with SDES keys) costs per
 * packet next to plain RTP. Two measurements:
 * - the primitive: protect and unprotect of a 20 ms PCMU packet (172 octets) in a tight loop;
 * - the engine: the compute-path micro run (200 calls, both legs SRTP) against the same run with
 *   plain RTP; each call-frame is 2 packets in and 2 out, so (SRTP - plain) / 4 is the engine's
 *   added cost per packet, everything included (allocation, GC).
 * Written to server/bench/RESULTS.md between the bench:media:srtp markers.
 */
import { cpus, loadavg } from 'node:os';
import { fileURLToPath } from 'node:url';
import { SrtpSession, type SrtpKeying } from '../../src/media/srtp/srtp.js';
import { replaceMarkedSection } from './report.js';

export const SRTP_BENCH_KEYS = {
  peer: { suite: 'AES_CM_128_HMAC_SHA1_80', keySalt: Buffer.alloc(30, 0x5a) } satisfies SrtpKeying,
  gateway: { suite: 'AES_CM_128_HMAC_SHA1_80', keySalt: Buffer.alloc(30, 0xa5) } satisfies SrtpKeying,
};

export interface PrimitiveCost {
  suite: string;
  protectUs: number;
  unprotectUs: number;
}

/** µs per packet for protect and for unprotect, best of three runs of `n` packets after a warm-up run. */
export function primitiveCost(suite: SrtpKeying['suite'], n = 50_000): PrimitiveCost {
  const keyLen = suite === 'AES_CM_128_HMAC_SHA1_80' ? 30 : 46;
  const k: SrtpKeying = { suite, keySalt: Buffer.alloc(keyLen, 7) };
  const best = { protectUs: Infinity, unprotectUs: Infinity };
  for (let run = 0; run < 4; run++) {
    // run 0 warms up (JIT, OpenSSL contexts) and is not counted
    const count = run > 0;
    const tx = new SrtpSession(k, k);
    const plain = Buffer.alloc(172, 0xd5);
    plain[0] = 0x80;
    plain.writeUInt32BE(0x1234, 8);
    const sealed: Buffer[] = [];
    let t0 = performance.now();
    for (let i = 0; i < n; i++) {
      plain.writeUInt16BE(i & 0xffff, 2);
      plain.writeUInt32BE(i * 160, 4);
      const p = tx.protectRtp(plain, 172);
      if (typeof p === 'string') throw new Error(p);
      if (i < 4096) sealed.push(Buffer.from(p));
    }
    if (count) best.protectUs = Math.min(best.protectUs, ((performance.now() - t0) * 1000) / n);
    // Unprotect the first 4096 (a sequence with no wrap) repeatedly on fresh sessions.
    let done = 0;
    t0 = performance.now();
    while (done < n) {
      const r = new SrtpSession(k, k);
      for (const s of sealed) {
        if (typeof r.unprotectRtp(Buffer.from(s)) !== 'number') throw new Error('unprotect failed');
        if (++done >= n) break;
      }
    }
    if (count) best.unprotectUs = Math.min(best.unprotectUs, ((performance.now() - t0) * 1000) / n);
  }
  return { suite, protectUs: best.protectUs, unprotectUs: best.unprotectUs };
}

export interface EngineCost {
  calls: number;
  plainUs: number;
  srtpUs: number;
}

export function writeSrtpResults(r: { primitives: PrimitiveCost[]; engine: EngineCost }): void {
  const file = fileURLToPath(new URL('../RESULTS.md', import.meta.url));
  const START = '<!-- bench:media:srtp -->';
  const END = '<!-- /bench:media:srtp -->';
  const perPacket = (r.engine.srtpUs - r.engine.plainUs) / 4;
  const body = [
    START,
    '## SRTP cost per packet (`npm run bench:media`, or `npx tsx server/bench/media.ts --srtp` for this part alone)',
    '',
    `Run ${new Date().toISOString()} on ${cpus()[0]?.model ?? "?"}, ${cpus().length} cores, Node ${process.version}, load average ${loadavg()[0]!.toFixed(1)} (a shared box: figures vary by run). SRTP here: AES-CM keystream (RFC 3711 §4.1.1) from one node:crypto AES block cipher per session key encrypting the counter blocks, HMAC-SHA1 80-bit tag (one HMAC object per packet), SDES keys; the WebRTC leg's DTLS-SRTP is werift's and not measured here.`,
    '',
    '| suite | protect µs/packet | unprotect (auth + replay check + decrypt) µs/packet |',
    '|---|---:|---:|',
    ...r.primitives.map((p) => `| ${p.suite} | ${p.protectUs.toFixed(2)} | ${p.unprotectUs.toFixed(2)} |`),
    '',
    `Engine, compute path (${r.engine.calls} calls, customer and agent legs, 20 ms PCMU, CPU per call per 20 ms frame, best of three): plain RTP **${r.engine.plainUs.toFixed(2)} µs**, SRTP on both legs **${r.engine.srtpUs.toFixed(2)} µs**, so **${perPacket.toFixed(2)} µs more per packet** (2 packets in and 2 out per call-frame), ${((100 * (r.engine.srtpUs - r.engine.plainUs)) / r.engine.plainUs).toFixed(0)} % on the compute path. Next to Node's 5-13 µs per datagram in dgram (section above) SRTP roughly ${perPacket < 5 ? 'adds a fraction of one send' : 'doubles the per-packet cost'}; the UDP-path limit per worker drops accordingly.`,
    END,
  ].join('\n');
  replaceMarkedSection(file, START, END, body);
}

export interface MicroBench {
  request(method: 'micro', params: { calls: number; cycles: number; srtp?: boolean }): Promise<{ cpuUsPerCallFrame: number }>;
  close(): Promise<void>;
}

/** 5. SRTP against plain RTP: the primitive per packet, and the engine's micro run both ways. */
export async function srtpPart(bench: MicroBench, opts: { quick: boolean; write: boolean; log: (...a: unknown[]) => void }): Promise<void> {
  const primitives = [primitiveCost('AES_CM_128_HMAC_SHA1_80'), primitiveCost('AES_256_CM_HMAC_SHA1_80')];
  for (const p of primitives) opts.log(`SRTP ${p.suite}: protect ${p.protectUs.toFixed(2)} µs, unprotect ${p.unprotectUs.toFixed(2)} µs per packet`);
  const best = async (srtp: boolean) => {
    let r = Infinity;
    for (let i = 0; i < 3; i++) r = Math.min(r, (await bench.request('micro', { calls: 200, cycles: opts.quick ? 200 : 400, srtp })).cpuUsPerCallFrame);
    return r;
  };
  const engine = { calls: 200, plainUs: await best(false), srtpUs: await best(true) };
  await bench.close();
  opts.log(`engine micro, 200 calls: plain ${engine.plainUs.toFixed(2)} µs, SRTP ${engine.srtpUs.toFixed(2)} µs per call per frame`);
  if (opts.write) writeSrtpResults({ primitives, engine });
}

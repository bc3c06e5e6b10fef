/**
 * A fake RTP endpoint for media tests: a real UDP socket on 127.0.0.1 that sends G.711 packets
 * with its own SSRC/sequence/timestamp and records everything it receives (with arrival times).
 */
import dgram from 'node:dgram';
import { decodeAlaw, decodeUlaw, encodeAlaw, encodeUlaw } from '../../../../src/media/g711/index.js';

export const HOST = '127.0.0.1';

export interface Received {
  at: number;
  msg: Buffer;
  pt: number;
  marker: boolean;
  seq: number;
  ts: number;
  ssrc: number;
  payload: Buffer;
  from: number;
}

export class RtpPeer {
  readonly received: Received[] = [];
  readonly rtcp: Buffer[] = [];
  seq = 1000 + Math.floor(Math.random() * 1000);
  ts = 160000 + Math.floor(Math.random() * 100000);
  readonly ssrc = (Math.random() * 0xffffffff) >>> 0;
  /** Where to send: the gateway's RTP port. */
  target = 0;

  private constructor(
    readonly socket: dgram.Socket,
    readonly port: number,
    private readonly rtcpSocket: dgram.Socket | null,
  ) {
    socket.on('message', (msg, rinfo) => {
      if (msg.length < 12) return;
      this.received.push({
        at: performance.now(), msg, pt: msg[1]! & 0x7f, marker: (msg[1]! & 0x80) !== 0, seq: msg.readUInt16BE(2), ts: msg.readUInt32BE(4),
        ssrc: msg.readUInt32BE(8), payload: msg.subarray(12), from: rinfo.port,
      });
    });
    rtcpSocket?.on('message', (msg) => this.rtcp.push(msg));
  }

  /** A peer on an even port P with RTCP on P + 1 (when `withRtcp`). */
  static async open(withRtcp = false): Promise<RtpPeer> {
    for (let i = 0; i < 50; i++) {
      const s = dgram.createSocket('udp4');
      await new Promise<void>((r) => s.bind(0, HOST, r));
      const port = s.address().port;
      if (!withRtcp) return new RtpPeer(s, port, null);
      if (port % 2 === 0) {
        const r = dgram.createSocket('udp4');
        const ok = await new Promise<boolean>((res) => {
          r.once('error', () => res(false));
          r.bind(port + 1, HOST, () => res(true));
        });
        if (ok) return new RtpPeer(s, port, r);
        r.close();
      }
      s.close();
    }
    throw new Error('no port pair');
  }

  get remote(): { address: string; port: number } {
    return { address: HOST, port: this.port };
  }

  send(buf: Buffer, port = this.target): void {
    this.socket.send(buf, port, HOST);
  }

  sendRtcp(buf: Buffer, port = this.target + 1): void {
    (this.rtcpSocket ?? this.socket).send(buf, port, HOST);
  }

  /** One RTP packet (header + payload) from this peer's stream; advances seq and ts. */
  packet(pt: number, payload: Uint8Array, opts: { marker?: boolean; tsAdvance?: number; ts?: number; seq?: number } = {}): Buffer {
    const b = Buffer.alloc(12 + payload.length);
    b[0] = 0x80;
    b[1] = (opts.marker ? 0x80 : 0) | pt;
    b.writeUInt16BE((opts.seq ?? this.seq) & 0xffff, 2);
    b.writeUInt32BE((opts.ts ?? this.ts) >>> 0, 4);
    b.writeUInt32BE(this.ssrc, 8);
    b.set(payload, 12);
    if (opts.seq === undefined) this.seq = (this.seq + 1) & 0xffff;
    if (opts.ts === undefined) this.ts = (this.ts + (opts.tsAdvance ?? payload.length)) >>> 0;
    return b;
  }

  /** Encode 16-bit audio and send it as one packet. */
  sendAudio(pcm: Int16Array, codec: 'pcmu' | 'pcma', pt = codec === 'pcmu' ? 0 : 8): Buffer {
    const payload = new Uint8Array(pcm.length);
    (codec === 'pcmu' ? encodeUlaw : encodeAlaw)(pcm, payload);
    const b = this.packet(pt, payload);
    this.send(b);
    return b;
  }

  /** Everything received with payload type `pt`, decoded, in sequence order (by arrival; gaps not filled). */
  audio(codec: 'pcmu' | 'pcma', pt = codec === 'pcmu' ? 0 : 8): Int16Array {
    const pkts = this.received.filter((r) => r.pt === pt);
    const total = pkts.reduce((n, r) => n + r.payload.length, 0);
    const out = new Int16Array(total);
    let at = 0;
    for (const r of pkts) {
      const part = new Int16Array(r.payload.length);
      (codec === 'pcmu' ? decodeUlaw : decodeAlaw)(r.payload, part);
      out.set(part, at);
      at += part.length;
    }
    return out;
  }

  close(): void {
    try {
      this.socket.close();
    } catch {
      // closed already
    }
    try {
      this.rtcpSocket?.close();
    } catch {
      // closed already
    }
  }
}

/**
 * Calls `fn(k)` every `periodMs`, scheduled against the start time (no drift), for `count`
 * periods. Resolves when done with the worst lateness of a call against its schedule (a host
 * that stalls this process sends late and then in a burst: tests that depend on the sender's
 * timing use it to tell a stalled sender from a fault of the gateway).
 */
export function pace(count: number, fn: (k: number) => void, periodMs = 20): Promise<{ maxLateMs: number }> {
  return new Promise((resolve) => {
    const start = performance.now();
    let k = 0;
    let maxLateMs = 0;
    const step = (): void => {
      for (let now = performance.now(); k < count && now >= start + k * periodMs; now = performance.now()) {
        maxLateMs = Math.max(maxLateMs, now - (start + k * periodMs));
        fn(k++);
      }
      if (k >= count) return resolve({ maxLateMs });
      setTimeout(step, Math.max(0, start + k * periodMs - performance.now()));
    };
    step();
  });
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

export async function waitFor(cond: () => boolean, ms = 3000, what = 'condition'): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(5);
  }
}

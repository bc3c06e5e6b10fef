/**
 * RTP load for a relay: N sessions, each with two endpoints A and B (one UDP socket each on
 * 127.0.0.1, as two phones would have), both sending 20 ms PCMU (RTP version 2, payload type 0,
 * 160-byte payload, seq +1 and timestamp +160 per packet, one random SSRC per stream) towards the
 * relay's port for their side: A -> relay -> B and B -> relay -> A, 50 packets/s each way, so
 * 100 packets/s into the relay per session and 100 out.
 *
 * Cheap on purpose (it shares the machine with the relay it measures): one timer for all sessions,
 * connected sockets (no address handling per send),
 * every packet buffer allocated once (two per stream, used alternately, so a send still queued in
 * libuv is never rewritten under it), and a receive handler that only checks length and SSRC and
 * counts. The sessions are spread over `phases` slots of the 20 ms period so that the relay sees a
 * steady stream rather than one burst per period. When the event loop falls behind, a late tick
 * sends the periods it missed (at most `maxCatchUp`), later ones are skipped and counted.
 */
import { createSocket, type Socket } from 'node:dgram';
import { randomInt } from 'node:crypto';

const HOST = '127.0.0.1';
const PTIME_MS = 20;
const PAYLOAD = 160;
const PACKET = 12 + PAYLOAD;

interface Stream {
  sock: Socket;
  /** Where this endpoint sends (the relay's port for its side; the socket is connected to it); 0 until set. */
  target: number;
  ssrc: number;
  seq: number;
  ts: number;
  bufs: [Buffer, Buffer];
  flip: 0 | 1;
}

export interface BlasterCounts {
  /** Packets sent by all A endpoints (towards B) and by all B endpoints (towards A). */
  sentAtoB: number;
  sentBtoA: number;
  /** Packets that arrived at B endpoints from A, and at A endpoints from B (right length and SSRC). */
  recvAtB: number;
  recvAtA: number;
  /** Datagrams that arrived but were not the peer's RTP (wrong length or SSRC). */
  foreign: number;
  /** 20 ms periods skipped because the sender fell too far behind. */
  skippedPeriods: number;
  /** Socket errors (e.g. ICMP port unreachable reported on a later send). */
  socketErrors: number;
}

export interface SessionEndpoints {
  /** Local UDP ports of endpoint A and endpoint B (what goes into their SDP). */
  aPort: number;
  bPort: number;
}

function rtpBuffer(ssrc: number): Buffer {
  const b = Buffer.alloc(PACKET, 0xff); // 0xff: PCMU silence
  b[0] = 0x80; // V=2, no padding, no extension, CC=0
  b[1] = 0; // M=0, PT=0 (PCMU)
  b.writeUInt32BE(ssrc, 8);
  return b;
}

async function bound(): Promise<Socket> {
  const s = createSocket('udp4');
  await new Promise<void>((resolve, reject) => {
    s.once('error', reject);
    s.bind(0, HOST, () => {
      s.off('error', reject);
      resolve();
    });
  });
  return s;
}

export class RtpBlaster {
  private readonly counts: BlasterCounts = { sentAtoB: 0, sentBtoA: 0, recvAtB: 0, recvAtA: 0, foreign: 0, skippedPeriods: 0, socketErrors: 0 };
  private timer: NodeJS.Timeout | undefined;
  private t0 = 0;
  /** Index of the next slot (period * phases + phase) to send. */
  private nextSlot = 0;

  private constructor(
    /** a[i] and b[i]: the two endpoints of session i. */
    private readonly a: Stream[],
    private readonly b: Stream[],
    private readonly phases: number,
    private readonly maxCatchUp: number,
  ) {}

  static async create(sessions: number, opts: { phases?: number; maxCatchUp?: number } = {}): Promise<RtpBlaster> {
    const mk = async (): Promise<Stream> => {
      const ssrc = randomInt(1, 2 ** 32 - 1);
      return { sock: await bound(), target: 0, ssrc, seq: randomInt(0, 65536), ts: randomInt(0, 2 ** 32 - 1), bufs: [rtpBuffer(ssrc), rtpBuffer(ssrc)], flip: 0 };
    };
    const a: Stream[] = [];
    const b: Stream[] = [];
    try {
      for (let i = 0; i < sessions; i++) {
        a.push(await mk());
        b.push(await mk());
      }
    } catch (err) {
      for (const s of [...a, ...b]) s.sock.close();
      throw new Error(`rtp-blaster: could not bind ${2 * sessions} UDP sockets on ${HOST}: ${(err as Error).message}`);
    }
    const bl = new RtpBlaster(a, b, Math.max(1, opts.phases ?? 4), opts.maxCatchUp ?? 3);
    for (let i = 0; i < sessions; i++) {
      const sa = a[i]!;
      const sb = b[i]!;
      // What arrives at A must be B's stream and vice versa (the relay keeps SSRC and payload).
      sa.sock.on('message', (m) => {
        if (m.length === PACKET && m.readUInt32BE(8) === sb.ssrc) bl.counts.recvAtA++;
        else bl.counts.foreign++;
      });
      sb.sock.on('message', (m) => {
        if (m.length === PACKET && m.readUInt32BE(8) === sa.ssrc) bl.counts.recvAtB++;
        else bl.counts.foreign++;
      });
      for (const s of [sa, sb]) s.sock.on('error', () => void bl.counts.socketErrors++);
    }
    return bl;
  }

  get sessions(): number {
    return this.a.length;
  }

  endpoints(i: number): SessionEndpoints {
    return { aPort: this.a[i]!.sock.address().port, bPort: this.b[i]!.sock.address().port };
  }

  /**
   * The relay's ports: A sends to `aSendsTo`, B to `bSendsTo`. Each socket is connected to its
   * port: no address lookup per send, and it then only accepts datagrams from there (a symmetric
   * relay such as rtpengine sends to A from the port A sends to).
   */
  async setTargets(i: number, t: { aSendsTo: number; bSendsTo: number }): Promise<void> {
    const conn = (s: Stream, port: number): Promise<void> =>
      new Promise((resolve, reject) => {
        if (s.target !== 0) s.sock.disconnect();
        s.target = port;
        s.sock.once('error', reject);
        s.sock.connect(port, HOST, () => {
          s.sock.off('error', reject);
          resolve();
        });
      });
    await conn(this.a[i]!, t.aSendsTo);
    await conn(this.b[i]!, t.bSendsTo);
  }

  /** A copy of the counters so far. */
  snapshot(): BlasterCounts {
    return { ...this.counts };
  }

  start(): void {
    if (this.timer) return;
    if (this.a.some((s) => s.target === 0) || this.b.some((s) => s.target === 0)) throw new Error('rtp-blaster: start before every session has its relay ports');
    this.t0 = performance.now();
    this.nextSlot = 0;
    this.schedule();
  }

  private schedule(): void {
    const slotMs = PTIME_MS / this.phases;
    const due = this.t0 + this.nextSlot * slotMs;
    this.timer = setTimeout(() => this.tick(), Math.max(0, due - performance.now()));
  }

  private tick(): void {
    const slotMs = PTIME_MS / this.phases;
    const now = performance.now();
    const dueSlot = Math.floor((now - this.t0) / slotMs); // the latest slot that is due
    const late = dueSlot - this.nextSlot;
    const maxSlots = this.maxCatchUp * this.phases;
    if (late > maxSlots) {
      this.counts.skippedPeriods += Math.floor((late - maxSlots) / this.phases);
      this.nextSlot = dueSlot - maxSlots;
    }
    for (; this.nextSlot <= dueSlot; this.nextSlot++) this.sendSlot(this.nextSlot % this.phases);
    this.schedule();
  }

  private sendSlot(phase: number): void {
    const n = this.a.length;
    for (let i = phase; i < n; i += this.phases) {
      this.sendOne(this.a[i]!);
      this.sendOne(this.b[i]!);
    }
    const k = Math.ceil((n - phase) / this.phases);
    this.counts.sentAtoB += k;
    this.counts.sentBtoA += k;
  }

  private sendOne(s: Stream): void {
    s.seq = (s.seq + 1) & 0xffff;
    s.ts = (s.ts + PAYLOAD) >>> 0;
    s.flip = s.flip === 0 ? 1 : 0;
    const b = s.bufs[s.flip];
    b.writeUInt16BE(s.seq, 2);
    b.writeUInt32BE(s.ts, 4);
    s.sock.send(b);
  }

  stop(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
  }

  close(): void {
    this.stop();
    for (const s of [...this.a, ...this.b]) s.sock.close();
  }
}

/**
 * The RTP stream the gateway sends to one listening leg (RFC 3550 §5.1): its own random SSRC,
 * sequence number and timestamp origin; G.711 encoding of the mixed 20 ms frames into packets
 * of the leg's ptime (10, 20 or 30 ms: 80/160/240 octets; RFC 3551 §4.5.14 PCMU/PCMA), with
 * the marker bit on the first packet of a talkspurt (§5.1, RFC 3551 §4.1: after (re)starting).
 *
 * Packets are written into a ring of four preallocated buffers: dgram may hold on to a buffer
 * when the socket cannot send at once, and the ring gives such a send 60-80 ms before the
 * buffer is reused. No allocation per frame or packet.
 */
import { randomInt } from 'node:crypto';
import { FRAME } from '../clock/frame.js';
import { encodeAlaw, encodeUlaw } from '../g711/g711.js';
import { writeRtpHeader } from './rtp-view.js';

export type Codec = 'pcmu' | 'pcma';
const RING = 4;
const MAX_PTIME_SAMPLES = 240;

export type SendFn = (buf: Uint8Array, length: number) => void;

export class RtpSender {
  readonly ssrc = randomInt(1, 0xffffffff);
  seq = randomInt(0, 0x10000);
  timestamp = randomInt(0, 0xffffffff);
  packets = 0;
  octets = 0;
  /** RTP timestamp of the last packet and the wall time (ms, Date.now) of the frame it came from, for RTCP SR. */
  lastTimestamp = 0;
  lastWallMs = 0;
  private codec: Codec = 'pcmu';
  private payloadType = 0;
  private ptime = FRAME;
  private marker = true;
  private readonly bufs: Buffer[] = [];
  private readonly views: Uint8Array[] = [];
  private next = 0;
  private readonly stage = new Uint8Array(FRAME);
  private readonly pending = new Uint8Array(FRAME + MAX_PTIME_SAMPLES);
  private fill = 0;

  constructor() {
    for (let i = 0; i < RING; i++) {
      const b = Buffer.alloc(12 + MAX_PTIME_SAMPLES);
      this.bufs.push(b);
      this.views.push(new Uint8Array(b.buffer, b.byteOffset + 12, FRAME));
    }
  }

  configure(codec: Codec, payloadType: number, ptimeMs: 10 | 20 | 30): void {
    if (codec !== this.codec || payloadType !== this.payloadType) this.marker = true;
    this.codec = codec;
    this.payloadType = payloadType;
    this.ptime = ptimeMs * 8;
    this.fill = 0;
  }

  /** The next packet starts a talkspurt (new destination, resumed sending). */
  restart(): void {
    this.marker = true;
    this.fill = 0;
  }

  /** A frame that is not sent (no destination, skipped tick): time still moves on. */
  skip(): void {
    this.timestamp = (this.timestamp + FRAME) >>> 0;
    this.marker = true;
  }

  /** Encode one 160-sample frame and send whatever packets it completes. `wallMs`: Date.now() of this tick. */
  push(frame: Int16Array, send: SendFn, wallMs: number): void {
    this.lastWallMs = wallMs;
    if (this.ptime === FRAME && this.fill === 0) {
      const i = this.next;
      (this.codec === 'pcmu' ? encodeUlaw : encodeAlaw)(frame, this.views[i]!);
      this.emit(i, FRAME, send);
      return;
    }
    (this.codec === 'pcmu' ? encodeUlaw : encodeAlaw)(frame, this.stage);
    this.pending.set(this.stage, this.fill);
    this.fill += FRAME;
    let at = 0;
    while (this.fill - at >= this.ptime) {
      const i = this.next;
      const b = this.bufs[i]!;
      for (let k = 0; k < this.ptime; k++) b[12 + k] = this.pending[at + k]!;
      this.emit(i, this.ptime, send);
      at += this.ptime;
    }
    if (at > 0) {
      this.pending.copyWithin(0, at, this.fill);
      this.fill -= at;
    }
  }

  private emit(i: number, samples: number, send: SendFn): void {
    const b = this.bufs[i]!;
    writeRtpHeader(b, this.marker, this.payloadType, this.seq, this.timestamp, this.ssrc);
    this.next = (i + 1) % RING;
    this.marker = false;
    this.lastTimestamp = this.timestamp;
    this.seq = (this.seq + 1) & 0xffff;
    this.timestamp = (this.timestamp + samples) >>> 0;
    this.packets++;
    this.octets += samples;
    send(b, 12 + samples);
  }
}

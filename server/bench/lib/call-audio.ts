/**
 * The customer's side of one load-test payment call, as media files SIPp plays (bench:load,
 * bench:soak): a plan of keys at fixed offsets, written either as
 *   - a libpcap file of the whole call for `play_pcap_audio`: 20 ms PCMU silence packets, with
 *     each key an RFC 4733 event on PT 101 (RFC 4733 2.5: start packet with the M bit, an update
 *     every 20 ms, the end packet sent three times with one sequence number, as in SIPp's own
 *     dtmf_2833_*.pcap captures), one SSRC, one sequence and timestamp space; or
 *   - a raw µ-law file of the whole call for `rtp_stream`: silence with each key a DTMF tone pair
 *     at -10 dBm0 per tone (in-band, the generator the DTMF tests use).
 * Continuous audio makes the packet load of a real call (50 packets/s from the customer), and the
 * known offsets give each key's send time once SIPp logs when it started playing.
 *
 * pcap format: https://wiki.wireshark.org/Development/LibpcapFileFormat (Ethernet, IPv4, UDP).
 */
import { writeFileSync } from 'node:fs';
import { encodeUlaw } from '../../src/media/g711/index.js';
import { dtmfSignal, toInt16 } from '../../devtools/dsp/generator.js';

export type Field = 'pan' | 'expiry' | 'cvv' | 'otp';

export interface PlannedKey {
  key: string;
  field: Field;
  /** Offset of the key's first packet / first tone sample from the start of the stream, ms. */
  startMs: number;
  /** Offset of its end packet / last tone sample, ms. */
  endMs: number;
}

export interface CallPlan {
  keys: PlannedKey[];
  /** Length of the whole stream, ms (a multiple of 20). */
  lengthMs: number;
}

export interface PlanOptions {
  pan: string;
  expiry: string;
  cvv: string;
  otp: string;
  /** Silence before the first key (the greeting is barged in), ms. */
  leadMs?: number;
  /** Key on / off time, ms (multiples of 20). */
  onMs?: number;
  offMs?: number;
  /** Silence between the CVV and the OTP (OTP generation and SMS), ms. */
  otpWaitMs?: number;
  /** Silence after the last key while the payment runs and the outcome is read, ms. */
  tailMs?: number;
}

const FRAME_MS = 20;

/** The keys of a complete payment (card then `#`, expiry, CVV, a pause, the OTP) at their offsets. */
export function paymentPlan(o: PlanOptions): CallPlan {
  const on = o.onMs ?? 80;
  const off = o.offMs ?? 80;
  const keys: PlannedKey[] = [];
  let t = o.leadMs ?? 1500;
  const type = (field: Field, s: string): void => {
    for (const key of s) {
      keys.push({ key, field, startMs: t, endMs: t + on });
      t += on + off;
    }
  };
  type('pan', `${o.pan}#`);
  type('expiry', o.expiry);
  type('cvv', o.cvv);
  t += o.otpWaitMs ?? 3000;
  type('otp', o.otp);
  const lengthMs = Math.ceil((t + (o.tailMs ?? 8000)) / FRAME_MS) * FRAME_MS;
  return { keys, lengthMs };
}

const EVENT: Record<string, number> = { '*': 10, '#': 11 };

/** RTP packets of the whole call, each with its send offset in ms. */
export function rfc4733Packets(plan: CallPlan, ssrc = 0x7a6e0001): { atMs: number; data: Buffer }[] {
  const out: { atMs: number; data: Buffer }[] = [];
  let seq = 1000;
  const rtp = (pt: number, marker: boolean, ts: number, payload: Buffer): Buffer => {
    const b = Buffer.alloc(12 + payload.length);
    b[0] = 0x80;
    b[1] = (marker ? 0x80 : 0) | pt;
    b.writeUInt16BE(seq & 0xffff, 2);
    b.writeUInt32BE(ts >>> 0, 4);
    b.writeUInt32BE(ssrc, 8);
    payload.copy(b, 12);
    return b;
  };
  const silence = Buffer.alloc(160, 0xff);
  let k = 0;
  for (let t = 0; t < plan.lengthMs; ) {
    const key = plan.keys[k];
    if (key && t >= key.startMs) {
      // RFC 4733 2.5.1: every packet of the event carries the event's start timestamp; the
      // duration grows by one frame per update; volume 10 (-10 dBm0).
      const ts = key.startMs * 8;
      const code = EVENT[key.key] ?? Number(key.key);
      const ev = (durMs: number, end: boolean): Buffer => {
        const dur = durMs * 8;
        return Buffer.from([code, (end ? 0x80 : 0) | 10, (dur >> 8) & 0xff, dur & 0xff]);
      };
      for (let u = key.startMs; u < key.endMs; u += FRAME_MS) {
        out.push({ atMs: u, data: rtp(101, u === key.startMs, ts, ev(u - key.startMs + FRAME_MS, false)) });
        seq++;
      }
      const end = rtp(101, false, ts, ev(key.endMs - key.startMs, true));
      seq++;
      for (let i = 0; i < 3; i++) out.push({ atMs: key.endMs, data: end }); // RFC 4733 2.5.1.4
      t = key.endMs + FRAME_MS;
      k++;
      continue;
    }
    out.push({ atMs: t, data: rtp(0, false, t * 8, silence) });
    seq++;
    t += FRAME_MS;
  }
  return out;
}

/** Writes the RFC 4733 call as a pcap SIPp's `play_pcap_audio` can play (Ethernet/IPv4/UDP). */
export function writeRfc4733Pcap(plan: CallPlan, file: string): void {
  const packets = rfc4733Packets(plan);
  const head = Buffer.alloc(24);
  head.writeUInt32LE(0xa1b2c3d4, 0);
  head.writeUInt16LE(2, 4);
  head.writeUInt16LE(4, 6);
  head.writeUInt32LE(65535, 16);
  head.writeUInt32LE(1, 20); // LINKTYPE_ETHERNET
  const parts: Buffer[] = [head];
  const base = 1_700_000_000;
  for (const p of packets) {
    const udpLen = 8 + p.data.length;
    const ipLen = 20 + udpLen;
    const frame = Buffer.alloc(14 + ipLen);
    frame.writeUInt16BE(0x0800, 12); // IPv4
    const ip = 14;
    frame[ip] = 0x45;
    frame.writeUInt16BE(ipLen, ip + 2);
    frame[ip + 8] = 64;
    frame[ip + 9] = 17; // UDP
    for (const o of [12, 16]) Buffer.from([127, 0, 0, 1]).copy(frame, ip + o);
    frame.writeUInt16BE(ipChecksum(frame.subarray(ip, ip + 20)), ip + 10);
    const udp = ip + 20;
    frame.writeUInt16BE(6000, udp);
    frame.writeUInt16BE(6002, udp + 2);
    frame.writeUInt16BE(udpLen, udp + 4);
    p.data.copy(frame, udp + 8);
    const rec = Buffer.alloc(16);
    const us = Math.round(p.atMs * 1000);
    rec.writeUInt32LE(base + Math.floor(us / 1e6), 0);
    rec.writeUInt32LE(us % 1e6, 4);
    rec.writeUInt32LE(frame.length, 8);
    rec.writeUInt32LE(frame.length, 12);
    parts.push(rec, frame);
  }
  writeFileSync(file, Buffer.concat(parts));
}

function ipChecksum(h: Buffer): number {
  let s = 0;
  for (let i = 0; i < h.length; i += 2) s += h.readUInt16BE(i);
  while (s > 0xffff) s = (s & 0xffff) + (s >>> 16);
  return ~s & 0xffff;
}

/** The in-band call: µ-law samples of the whole stream (for SIPp's `rtp_stream`, PT 0). */
export function inbandUlaw(plan: CallPlan): Buffer {
  const samples = new Float64Array(plan.lengthMs * 8);
  for (const k of plan.keys) {
    const tone = dtmfSignal(k.key, { onMs: k.endMs - k.startMs, offMs: 0, lowDbm0: -10 });
    samples.set(tone, k.startMs * 8);
  }
  const out = new Uint8Array(samples.length);
  encodeUlaw(toInt16(samples), out);
  return Buffer.from(out.buffer, out.byteOffset, out.length);
}

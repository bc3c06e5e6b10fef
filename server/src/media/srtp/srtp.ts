/**
 * SRTP and SRTCP packet transforms (RFC 3711) for one media leg with SDES keys (RFC 4568):
 * our master key protects what we send, the peer's master key unprotects what we receive.
 *
 * SRTP (RFC 3711 §3.1, §3.3): the payload is encrypted with AES-CM (§4.1.1) keyed by the session
 * key, IV from the session salt, SSRC and packet index. The keystream is AES_k(IV + j) for block j,
 * computed by one AES block-cipher object per session key encrypting the counter blocks (a new
 * `aes-128-ctr` object per packet costs about 3 µs more; bench:media, SRTP section). The
 * authentication tag is the first 80 bits
 * of HMAC-SHA1 (§4.2.1) over header || encrypted payload || ROC (§4.2). No MKI (refused in SDP).
 * SRTCP (§3.4): everything after the first 8 octets (header and sender SSRC) is encrypted; then
 * E-flag || 31-bit SRTCP index, then the tag over all of that (the E-flag and index included).
 *
 * Receive order (§3.3): index estimation, replay check, authentication, decryption; the replay
 * window and ROC move only for authenticated packets. Packets are decrypted in place (dgram hands
 * each datagram its own Buffer), so everything after unprotect sees a plain RTP/RTCP packet.
 *
 * A receive context per SSRC (a peer may change SSRC, RFC 3550 §8.2), at most MAX_SOURCES.
 */
import { createCipheriv, createHmac, timingSafeEqual, type Cipher } from 'node:crypto';
import { deriveSessionKeys, SRTP_SUITES, writeIv, type SessionKeys, type SrtpSuite, type SrtpSuiteName } from './kdf.js';
import { ReplayWindow, RolloverTracker } from './replay.js';

/** One side's SDES key (RFC 4568 §6.1): master key || master salt, and the key's lifetime in packets. */
export interface SrtpKeying {
  suite: SrtpSuiteName;
  /** Master key followed by the 14-octet master salt (the decoded `inline:` value). */
  keySalt: Uint8Array;
  /** Packets this master key may protect (RFC 4568 §6.1 lifetime; default 2^48 SRTP, 2^31 SRTCP, RFC 3711 §9.2). */
  lifetime?: number;
}

export type SrtpDrop = 'malformed' | 'auth' | 'replayed' | 'too-old' | 'lifetime';

export const SRTP_MAX_PACKETS = 2 ** 48;
export const SRTCP_MAX_PACKETS = 2 ** 31;
const MAX_SOURCES = 4;
const RING = 4;
const MAX_PACKET = 1500;

interface Keys extends SessionKeys {
  /** AES with the session key, no padding: encrypts counter blocks into keystream. */
  block: Cipher;
}

function keysOf(suite: SrtpSuite, k: SrtpKeying, srtcp: boolean): Keys {
  const { keyLength, saltLength } = suite;
  if (k.keySalt.length !== keyLength + saltLength) {
    throw new RangeError(`${suite.name}: key||salt must be ${keyLength + saltLength} octets, got ${k.keySalt.length}`);
  }
  const s = deriveSessionKeys(suite, k.keySalt.subarray(0, keyLength), k.keySalt.subarray(keyLength), srtcp);
  const block = createCipheriv(suite.block, s.encryption, null);
  block.setAutoPadding(false);
  return { ...s, block };
}

/** Octets of the RTP header (fixed, CSRCs, extension), or -1 when the packet is too short. */
function rtpHeaderLength(buf: Uint8Array, len: number): number {
  if (len < 12 || buf[0]! >> 6 !== 2) return -1;
  let off = 12 + (buf[0]! & 0x0f) * 4;
  if (buf[0]! & 0x10) {
    if (off + 4 > len) return -1;
    off += 4 + ((buf[off + 2]! << 8) | buf[off + 3]!) * 4;
  }
  return off <= len ? off : -1;
}

const ssrcAt = (b: Uint8Array, at: number): number => ((b[at]! << 24) | (b[at + 1]! << 16) | (b[at + 2]! << 8) | b[at + 3]!) >>> 0;

class ReceiveSource {
  readonly rollover = new RolloverTracker();
  readonly window = new ReplayWindow();
  readonly rtcpWindow = new ReplayWindow();
}

export interface SrtpStats {
  protectedRtp: number;
  protectedRtcp: number;
  unprotectedRtp: number;
  unprotectedRtcp: number;
  drops: Record<SrtpDrop, number>;
}

export class SrtpSession {
  readonly suite: SrtpSuite;
  private readonly tx: { rtp: Keys; rtcp: Keys; lifetime: number };
  private readonly rx: { rtp: Keys; rtcp: Keys; lifetime: number };
  private readonly sources = new Map<number, ReceiveSource>();
  private readonly iv = Buffer.alloc(16);
  private readonly counters = Buffer.alloc(MAX_PACKET + 16);
  private readonly roc = Buffer.alloc(4);
  private readonly ring: Buffer[] = [];
  private next = 0;
  /** Sender ROC and the last SEQ we protected (RFC 3711 §3.3.1: the sender counts wraps). */
  private sendRoc = 0;
  private lastSendSeq = -1;
  private srtcpIndex = 0;
  readonly stats: SrtpStats = {
    protectedRtp: 0, protectedRtcp: 0, unprotectedRtp: 0, unprotectedRtcp: 0,
    drops: { malformed: 0, auth: 0, replayed: 0, 'too-old': 0, lifetime: 0 },
  };

  constructor(local: SrtpKeying, remote: SrtpKeying) {
    if (local.suite !== remote.suite) throw new RangeError('SRTP: both directions must use the same crypto suite');
    const suite = SRTP_SUITES[local.suite];
    if (!suite) throw new RangeError(`SRTP: unknown crypto suite ${String(local.suite)}`);
    this.suite = suite;
    this.tx = { rtp: keysOf(suite, local, false), rtcp: keysOf(suite, local, true), lifetime: local.lifetime ?? SRTP_MAX_PACKETS };
    this.rx = { rtp: keysOf(suite, remote, false), rtcp: keysOf(suite, remote, true), lifetime: remote.lifetime ?? SRTP_MAX_PACKETS };
    for (let i = 0; i < RING; i++) this.ring.push(Buffer.alloc(MAX_PACKET));
  }

  /** A buffer for one outgoing packet; reused after RING more (dgram may still hold the last ones). */
  private out(): Buffer {
    const b = this.ring[this.next]!;
    this.next = (this.next + 1) % RING;
    return b;
  }

  private tag(key: Buffer, data: Uint8Array, roc: Buffer | null): Buffer {
    const h = createHmac('sha1', key).update(data);
    if (roc) h.update(roc);
    return h.digest();
  }

  private crypt(keys: Keys, ssrc: number, indexHigh: number, indexLow: number, data: Uint8Array, into: Uint8Array, at: number): void {
    writeIv(this.iv, keys.salt, ssrc, indexHigh, indexLow);
    // RFC 3711 §4.1.1: block j of the keystream is AES(IV + j); the IV's low 16 bits are zero, so
    // IV + j is the IV with j in its last two octets (j < 2^16: at most 94 blocks per packet here).
    const blocks = Math.ceil(data.length / 16);
    const ctr = this.counters;
    for (let j = 0; j < blocks; j++) {
      this.iv.copy(ctr, j * 16);
      ctr[j * 16 + 14] = j >>> 8;
      ctr[j * 16 + 15] = j & 0xff;
    }
    const ks = keys.block.update(ctr.subarray(0, blocks * 16));
    for (let i = 0; i < data.length; i++) into[at + i] = data[i]! ^ ks[i]!;
  }

  /** RFC 3711 §3.3: SRTP packet for the plain RTP packet `buf[0..len)`. Returns a view into a ring buffer. */
  protectRtp(buf: Uint8Array, len: number): Buffer | SrtpDrop {
    const hl = rtpHeaderLength(buf, len);
    if (hl < 0 || len + this.suite.tagLength > MAX_PACKET) return 'malformed';
    if (this.stats.protectedRtp >= this.tx.lifetime) return 'lifetime';
    const seq = (buf[2]! << 8) | buf[3]!;
    if (this.lastSendSeq >= 0 && seq < this.lastSendSeq && this.lastSendSeq - seq > 32768) this.sendRoc = (this.sendRoc + 1) >>> 0;
    this.lastSendSeq = seq;
    const out = this.out();
    out.set(buf.subarray(0, hl), 0);
    // i = 2^16 * ROC + SEQ: high 16 bits of the 48 are ROC's top half.
    this.crypt(this.tx.rtp, ssrcAt(buf, 8), this.sendRoc >>> 16, (((this.sendRoc & 0xffff) << 16) | seq) >>> 0, buf.subarray(hl, len), out, hl);
    this.roc.writeUInt32BE(this.sendRoc, 0);
    this.tag(this.tx.rtp.auth, out.subarray(0, len), this.roc).copy(out, len, 0, this.suite.tagLength);
    this.stats.protectedRtp++;
    return out.subarray(0, len + this.suite.tagLength);
  }

  /** RFC 3711 §3.3: authenticate and decrypt `msg` in place; the plain packet's length, or why it was dropped. */
  unprotectRtp(msg: Buffer): number | SrtpDrop {
    const tagLen = this.suite.tagLength;
    const len = msg.length - tagLen;
    const hl = rtpHeaderLength(msg, len);
    if (hl < 0) return this.drop('malformed');
    const ssrc = ssrcAt(msg, 8);
    let src = this.sources.get(ssrc);
    const fresh = !src;
    src ??= new ReceiveSource();
    const seq = (msg[2]! << 8) | msg[3]!;
    const v = src.rollover.estimate(seq);
    if (v < 0) return this.drop('too-old');
    const index = v * 0x10000 + seq;
    const replay = src.window.check(index);
    if (replay !== 'ok') return this.drop(replay);
    if (this.stats.unprotectedRtp >= this.rx.lifetime) return this.drop('lifetime');
    this.roc.writeUInt32BE(v >>> 0, 0);
    const expected = this.tag(this.rx.rtp.auth, msg.subarray(0, len), this.roc);
    if (!timingSafeEqual(expected.subarray(0, tagLen), msg.subarray(len, len + tagLen))) return this.drop('auth');
    this.crypt(this.rx.rtp, ssrc, v >>> 16, (((v & 0xffff) << 16) | seq) >>> 0, msg.subarray(hl, len), msg, hl);
    src.window.accept(index);
    src.rollover.update(seq, v);
    if (fresh) this.remember(ssrc, src);
    this.stats.unprotectedRtp++;
    return len;
  }

  /** RFC 3711 §3.4: SRTCP packet for the plain compound RTCP packet `buf[0..len)`, encrypted (E = 1). */
  protectRtcp(buf: Uint8Array, len: number): Buffer | SrtpDrop {
    if (len < 8 || len + 4 + this.suite.tagLength > MAX_PACKET) return 'malformed';
    if (this.srtcpIndex >= Math.min(SRTCP_MAX_PACKETS, this.tx.lifetime)) return 'lifetime';
    const index = this.srtcpIndex;
    this.srtcpIndex++;
    const out = this.out();
    out.set(buf.subarray(0, 8), 0);
    this.crypt(this.tx.rtcp, ssrcAt(buf, 4), 0, index, buf.subarray(8, len), out, 8);
    out.writeUInt32BE((0x80000000 | index) >>> 0, len);
    this.tag(this.tx.rtcp.auth, out.subarray(0, len + 4), null).copy(out, len + 4, 0, this.suite.tagLength);
    this.stats.protectedRtcp++;
    return out.subarray(0, len + 4 + this.suite.tagLength);
  }

  /** RFC 3711 §3.4: authenticate and (when E is set) decrypt `msg` in place; the plain compound packet's length. */
  unprotectRtcp(msg: Buffer): number | SrtpDrop {
    const tagLen = this.suite.tagLength;
    const authLen = msg.length - tagLen;
    const len = authLen - 4;
    if (len < 8 || msg[0]! >> 6 !== 2) return this.drop('malformed');
    const ssrc = ssrcAt(msg, 4);
    const word = msg.readUInt32BE(len);
    const encrypted = (word & 0x80000000) !== 0;
    const index = word & 0x7fffffff;
    const src = this.sources.get(ssrc) ?? new ReceiveSource();
    const replay = src.rtcpWindow.check(index);
    if (replay !== 'ok') return this.drop(replay);
    const expected = this.tag(this.rx.rtcp.auth, msg.subarray(0, authLen), null);
    if (!timingSafeEqual(expected.subarray(0, tagLen), msg.subarray(authLen, authLen + tagLen))) return this.drop('auth');
    if (encrypted) this.crypt(this.rx.rtcp, ssrc, 0, index, msg.subarray(8, len), msg, 8);
    src.rtcpWindow.accept(index);
    if (!this.sources.has(ssrc)) this.remember(ssrc, src);
    this.stats.unprotectedRtcp++;
    return len;
  }

  private remember(ssrc: number, src: ReceiveSource): void {
    if (this.sources.size >= MAX_SOURCES) {
      const oldest = this.sources.keys().next().value;
      if (oldest !== undefined) this.sources.delete(oldest);
    }
    this.sources.set(ssrc, src);
  }

  private drop(why: SrtpDrop): SrtpDrop {
    this.stats.drops[why]++;
    return why;
  }

  /** Zero the session keys (the leg is closing). */
  wipe(): void {
    for (const k of [this.tx.rtp, this.tx.rtcp, this.rx.rtp, this.rx.rtcp]) {
      k.encryption.fill(0);
      k.auth.fill(0);
      k.salt.fill(0);
    }
  }
}

import { createCipheriv } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { deriveSessionKeys, SRTP_SUITES } from '../../../../src/media/srtp/kdf.js';
import { SrtpSession, type SrtpKeying } from '../../../../src/media/srtp/srtp.js';

const hex = (s: string): Buffer => Buffer.from(s.replace(/\s+/g, ''), 'hex');

// RFC 3711 Appendix B.3 (key derivation) and libSRTP's srtp_validate() reference packets.
const MASTER_KEY_128 = hex('E1F97A0D3E018BE0D64FA32C06DE4139');
const MASTER_SALT_128 = hex('0EC675AD498AFEEBB6960B3AABE6');
const KEY_128: SrtpKeying = { suite: 'AES_CM_128_HMAC_SHA1_80', keySalt: Buffer.concat([MASTER_KEY_128, MASTER_SALT_128]) };
const RTP_PLAIN = hex('800f1234decafbadcafebabe abababababababababababababababab');
const SRTP_128 = hex('800f1234decafbadcafebabe 4e55dc4ce79978d88ca4d215949d2402 b78d6acc99ea179b8dbb');
const RTCP_PLAIN = hex('81c8000bcafebabe abababababababababababababababab');
/** SRTCP index 1, E set. */
const SRTCP_128 = hex('81c8000bcafebabe 7128035be487b9bdbef89041f977a5a8 80000001 993e08cd54d6c1230798');
// libSRTP's AES-256 reference (RFC 6188 suite).
const KEY_256: SrtpKeying = {
  suite: 'AES_256_CM_HMAC_SHA1_80',
  keySalt: hex('f0f04914b513f2763a1b1fa130f10e2998f6f6e43e4309d1e622a0e332b9f1b6 3b04803de51ee7c96423ab5b78d2'),
};
const SRTP_256 = hex('800f1234decafbadcafebabe f1d9de17ff251ff1aa007774b0b4b40d a08d9d9a5b3a55d8873b');

const rtp = (seq: number, ssrc = 0xcafebabe, payload = Buffer.alloc(160, 0x55)): Buffer => {
  const b = Buffer.alloc(12 + payload.length);
  b[0] = 0x80;
  b[1] = 0;
  b.writeUInt16BE(seq, 2);
  b.writeUInt32BE(seq * 160, 4);
  b.writeUInt32BE(ssrc, 8);
  payload.copy(b, 12);
  return b;
};
const copy = (b: Buffer): Buffer => Buffer.from(b);

describe('SRTP key derivation (RFC 3711 4.3)', () => {
  it('derives the RFC 3711 Appendix B.3 session encryption key, salt and authentication key', () => {
    const k = deriveSessionKeys(SRTP_SUITES.AES_CM_128_HMAC_SHA1_80, MASTER_KEY_128, MASTER_SALT_128, false);
    expect(k.encryption.toString('hex')).toBe('c61e7a93744f39ee10734afe3ff7a087');
    expect(k.salt.toString('hex')).toBe('30cbbc08863d8c85d49db34a9ae1');
    expect(k.auth.toString('hex')).toBe('cebe321f6ff7716b6fd4ab49af256a156d38baa4');
  });

  it('AES-CM with the Appendix B.2 session key and salt gives the RFC keystream (counter blocks 0, 1, 2)', () => {
    const iv = Buffer.concat([hex('F0F1F2F3F4F5F6F7F8F9FAFBFCFD'), Buffer.alloc(2)]);
    const c = createCipheriv('aes-128-ctr', hex('2B7E151628AED2A6ABF7158809CF4F3C'), iv);
    expect(c.update(Buffer.alloc(48)).toString('hex')).toBe(
      'e03ead0935c95e80e166b16dd92b4eb4' + 'd23513162b02d0f72a43a2fe4a5f97ab' + '41e95b3bb0a2e8dd477901e4fca894c0',
    );
  });

  it('refuses a master key of the wrong length for the suite', () => {
    expect(() => new SrtpSession({ ...KEY_128, keySalt: Buffer.alloc(29) }, KEY_128)).toThrow(/30 octets/);
    expect(() => new SrtpSession({ ...KEY_256, keySalt: Buffer.alloc(30) }, { ...KEY_256, keySalt: Buffer.alloc(30) })).toThrow(/46 octets/);
  });
});

describe('SRTP packets (RFC 3711 3.3) against reference vectors', () => {
  it('AES_CM_128_HMAC_SHA1_80: protects the reference RTP packet to the reference SRTP packet', () => {
    const s = new SrtpSession(KEY_128, KEY_128);
    expect(Buffer.from(s.protectRtp(RTP_PLAIN, RTP_PLAIN.length) as Buffer).toString('hex')).toBe(SRTP_128.toString('hex'));
  });

  it('AES_CM_128_HMAC_SHA1_80: unprotects the reference SRTP packet in place', () => {
    const s = new SrtpSession(KEY_128, KEY_128);
    const msg = copy(SRTP_128);
    const len = s.unprotectRtp(msg);
    expect(len).toBe(RTP_PLAIN.length);
    expect(msg.subarray(0, len as number).toString('hex')).toBe(RTP_PLAIN.toString('hex'));
  });

  it('AES_256_CM_HMAC_SHA1_80: protects and unprotects the reference packet', () => {
    const s = new SrtpSession(KEY_256, KEY_256);
    expect(Buffer.from(s.protectRtp(RTP_PLAIN, RTP_PLAIN.length) as Buffer).toString('hex')).toBe(SRTP_256.toString('hex'));
    const r = new SrtpSession(KEY_256, KEY_256);
    const msg = copy(SRTP_256);
    expect(r.unprotectRtp(msg)).toBe(RTP_PLAIN.length);
    expect(msg.subarray(0, RTP_PLAIN.length).equals(RTP_PLAIN)).toBe(true);
  });

  it('SRTCP (3.4): the reference packet with index 1 unprotects to the plain RTCP sender report', () => {
    const s = new SrtpSession(KEY_128, KEY_128);
    const msg = copy(SRTCP_128);
    expect(s.unprotectRtcp(msg)).toBe(RTCP_PLAIN.length);
    expect(msg.subarray(0, RTCP_PLAIN.length).equals(RTCP_PLAIN)).toBe(true);
  });

  it('SRTCP: our second protected packet (index 1) equals the reference', () => {
    const s = new SrtpSession(KEY_128, KEY_128);
    s.protectRtcp(RTCP_PLAIN, RTCP_PLAIN.length); // index 0
    expect(Buffer.from(s.protectRtcp(RTCP_PLAIN, RTCP_PLAIN.length) as Buffer).toString('hex')).toBe(SRTCP_128.toString('hex'));
  });
});

describe('SRTP authentication and replay protection (RFC 3711 3.3.2)', () => {
  const pair = (): { tx: SrtpSession; rx: SrtpSession } => {
    const a: SrtpKeying = { suite: 'AES_CM_128_HMAC_SHA1_80', keySalt: Buffer.alloc(30, 1) };
    const b: SrtpKeying = { suite: 'AES_CM_128_HMAC_SHA1_80', keySalt: Buffer.alloc(30, 2) };
    return { tx: new SrtpSession(a, b), rx: new SrtpSession(b, a) };
  };
  const send = (tx: SrtpSession, seq: number): Buffer => copy(tx.protectRtp(rtp(seq), 172) as Buffer);

  it('a packet with one flipped payload bit fails authentication and is left undecrypted', () => {
    const { tx, rx } = pair();
    const p = send(tx, 10);
    p[20]! ^= 1;
    const before = copy(p);
    expect(rx.unprotectRtp(p)).toBe('auth');
    expect(p.equals(before)).toBe(true);
    expect(rx.stats.drops.auth).toBe(1);
  });

  it('a packet sealed with another key fails authentication', () => {
    const { tx } = pair();
    const other = new SrtpSession(KEY_128, KEY_128);
    expect(other.unprotectRtp(send(tx, 1))).toBe('auth');
  });

  it('the same packet twice: the second copy is a replay', () => {
    const { tx, rx } = pair();
    const p = send(tx, 100);
    expect(rx.unprotectRtp(copy(p))).toBe(172);
    expect(rx.unprotectRtp(copy(p))).toBe('replayed');
  });

  it('reordered packets inside the 64-packet window are accepted once each', () => {
    const { tx, rx } = pair();
    const ps = Array.from({ length: 70 }, (_, i) => send(tx, 1000 + i));
    expect(rx.unprotectRtp(copy(ps[69]!))).toBe(172);
    expect(rx.unprotectRtp(copy(ps[6]!))).toBe(172); // 63 behind: inside the window
    expect(rx.unprotectRtp(copy(ps[6]!))).toBe('replayed');
    expect(rx.unprotectRtp(copy(ps[5]!))).toBe('too-old'); // 64 behind
  });

  it('a forged packet does not move the replay window', () => {
    const { tx, rx } = pair();
    const p1 = send(tx, 5);
    const forged = send(tx, 60000);
    forged[30]! ^= 0xff;
    expect(rx.unprotectRtp(forged)).toBe('auth');
    expect(rx.unprotectRtp(p1)).toBe(172); // still accepted: the forgery was not recorded
  });

  it('the rollover counter follows the sender across a sequence-number wrap (3.3.1)', () => {
    const { tx, rx } = pair();
    for (const seq of [65533, 65534, 65535, 0, 1, 2]) {
      const p = send(tx, seq);
      const plain = rtp(seq);
      expect(rx.unprotectRtp(p), `seq ${seq}`).toBe(172);
      expect(p.subarray(0, 172).equals(plain)).toBe(true);
    }
  });

  it('a late packet from before the wrap is authenticated with the previous ROC', () => {
    const { tx, rx } = pair();
    expect(rx.unprotectRtp(send(tx, 65534))).toBe(172);
    const before = send(tx, 65535);
    const after = send(tx, 0);
    expect(rx.unprotectRtp(copy(after))).toBe(172);
    expect(rx.unprotectRtp(copy(before))).toBe(172);
  });

  it('SRTCP replays and forgeries are dropped', () => {
    const { tx, rx } = pair();
    const p = copy(tx.protectRtcp(RTCP_PLAIN, RTCP_PLAIN.length) as Buffer);
    expect(rx.unprotectRtcp(copy(p))).toBe(RTCP_PLAIN.length);
    expect(rx.unprotectRtcp(copy(p))).toBe('replayed');
    const q = copy(tx.protectRtcp(RTCP_PLAIN, RTCP_PLAIN.length) as Buffer);
    q[9]! ^= 1;
    expect(rx.unprotectRtcp(q)).toBe('auth');
  });

  it('truncated and non-RTP datagrams are malformed, not a crash', () => {
    const { rx } = pair();
    expect(rx.unprotectRtp(Buffer.alloc(5))).toBe('malformed');
    expect(rx.unprotectRtp(Buffer.alloc(40))).toBe('malformed'); // version 0
    expect(rx.unprotectRtcp(Buffer.alloc(10))).toBe('malformed');
  });

  it('a key lifetime is enforced: packets beyond it are not protected', () => {
    const k: SrtpKeying = { suite: 'AES_CM_128_HMAC_SHA1_80', keySalt: Buffer.alloc(30, 1), lifetime: 2 };
    const s = new SrtpSession(k, k);
    expect(typeof s.protectRtp(rtp(1), 172)).toBe('object');
    expect(typeof s.protectRtp(rtp(2), 172)).toBe('object');
    expect(s.protectRtp(rtp(3), 172)).toBe('lifetime');
  });
});

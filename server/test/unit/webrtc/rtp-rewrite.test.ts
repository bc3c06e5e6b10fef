import { describe, expect, it } from 'vitest';
import { isRtpParseError, parseRtp } from '../../../src/media/rtp/index.js';
import { BrowserRestamper, mapBrowserPayloadType, plainPacket, type RtpFields } from '../../../src/webrtc/rtp-rewrite.js';

const plain = { pcmu: 0, telephoneEvent: 101 };

describe('mapBrowserPayloadType', () => {
  it("maps Chromium's telephone-event PT 126 to the plain side's 101 and PCMU to 0", () => {
    const browser = { pcmu: 0, telephoneEvent: 126 };
    expect(mapBrowserPayloadType(0, browser, plain)).toEqual({ pt: 0, kind: 'audio' });
    expect(mapBrowserPayloadType(126, browser, plain)).toEqual({ pt: 101, kind: 'telephone-event' });
    expect(mapBrowserPayloadType(101, browser, plain)).toBeNull();
    expect(mapBrowserPayloadType(111, browser, plain)).toBeNull();
  });

  it('drops telephone-event when none was negotiated, and honours a non-default plain PT', () => {
    expect(mapBrowserPayloadType(101, { pcmu: 0, telephoneEvent: null }, plain)).toBeNull();
    expect(mapBrowserPayloadType(96, { pcmu: 96, telephoneEvent: 97 }, { pcmu: 0, telephoneEvent: 100 })).toEqual({ pt: 0, kind: 'audio' });
    expect(mapBrowserPayloadType(97, { pcmu: 96, telephoneEvent: 97 }, { pcmu: 0, telephoneEvent: 100 })).toEqual({ pt: 100, kind: 'telephone-event' });
  });
});

describe('plainPacket', () => {
  it('writes a plain RTP packet with the given PT and header fields, no extension, CSRC or padding', () => {
    const payload = Buffer.from([0x0b, 0x8a, 0x03, 0x20]); // event '#', E bit, duration 800
    const buf = plainPacket({ marker: true, sequenceNumber: 65535, timestamp: 0xfffffff0, ssrc: 0xdeadbeef }, 101, payload);
    expect(buf.length).toBe(16);
    const p = parseRtp(buf);
    if (isRtpParseError(p)) throw new Error(p.message);
    expect(p).toMatchObject({ marker: true, payloadType: 101, sequenceNumber: 65535, timestamp: 0xfffffff0, ssrc: 0xdeadbeef, csrcs: [] });
    expect(p.extension).toBeUndefined();
    expect(p.padding).toBeUndefined();
    expect([...p.payload]).toEqual([...payload]);
  });
});

describe('BrowserRestamper', () => {
  const fixed = (): number => 0.5;
  const pkt = (ssrc: number, seq: number, ts: number, marker = false): RtpFields => ({ ssrc, sequenceNumber: seq, timestamp: ts, marker });

  it('passes one continuous stream through with constant offsets and a marker on the first packet', () => {
    const r = new BrowserRestamper(fixed);
    const a = r.next(pkt(1, 100, 1000), 160, 0);
    const b = r.next(pkt(1, 101, 1160), 160, 20);
    const c = r.next(pkt(1, 103, 1480), 160, 60); // a lost packet stays a gap
    expect(a.marker).toBe(true);
    expect(b.marker).toBe(false);
    expect((b.sequenceNumber - a.sequenceNumber) & 0xffff).toBe(1);
    expect((c.sequenceNumber - b.sequenceNumber) & 0xffff).toBe(2);
    expect((b.timestamp - a.timestamp) >>> 0).toBe(160);
    expect((c.timestamp - b.timestamp) >>> 0).toBe(320);
    expect(a.sequenceNumber).toBe(0x8000);
    expect(a.timestamp).toBe(0x80000000);
  });

  it('continues the outgoing timeline across an SSRC change: next sequence number, timestamp advanced by the elapsed time, marker set', () => {
    const r = new BrowserRestamper(fixed);
    r.next(pkt(1, 65535, 0xffffff00), 160, 1000);
    const last = r.next(pkt(1, 0, 0x000000a0), 160, 1020); // wraps on the input side
    const fresh = r.next(pkt(2, 31337, 42), 160, 1120); // 100 ms later, a new plane stream
    expect((fresh.sequenceNumber - last.sequenceNumber) & 0xffff).toBe(1);
    expect((fresh.timestamp - last.timestamp) >>> 0).toBe(800);
    expect(fresh.marker).toBe(true);
    const next = r.next(pkt(2, 31338, 202), 160, 1140);
    expect((next.sequenceNumber - fresh.sequenceNumber) & 0xffff).toBe(1);
    expect((next.timestamp - fresh.timestamp) >>> 0).toBe(160);
    expect(next.marker).toBe(false);
  });

  it('never lets a new source reuse the last timestamp, even with no time elapsed', () => {
    const r = new BrowserRestamper(fixed);
    const a = r.next(pkt(1, 5, 5), 160, 50);
    const b = r.next(pkt(2, 9, 9), 160, 50);
    expect((b.timestamp - a.timestamp) >>> 0).toBe(160);
  });
});

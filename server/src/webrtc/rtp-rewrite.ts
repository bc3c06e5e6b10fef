/**
 * Pure RTP rewriting between the browser side (SRTP, werift) and the plain side (the media plane).
 *
 * Browser -> plain: the payload type is mapped from what the browser negotiated (PCMU is 0 by
 * RFC 3551 §6, telephone-event is whatever dynamic PT the offerer chose, RFC 4733 §7.1.1) to what
 * the plain leg was configured with; SSRC, sequence number, timestamp and marker are kept (the
 * plane's leg does its own playout and RFC 4733 event tracking on them). Header extensions
 * (RFC 8285; mid, audio level) and padding are dropped: they mean nothing to the plain side.
 *
 * Plain -> browser: the plane sends one continuous stream per leg, but a new stream (SSRC change,
 * e.g. after the plane re-created the leg) must not look like a jump of the same stream to the
 * browser's jitter buffer. BrowserRestamper keeps one outgoing timeline: sequence numbers continue
 * by one (RFC 3550 §5.1) and, on a new source, the timestamp advances by the wall time elapsed
 * with the marker bit set (RFC 3551 §4.1: first packet of a talkspurt).
 */
import { serializeRtp } from '../media/rtp/index.js';

/** Payload types used on one side of the leg. `telephoneEvent` null: not negotiated. */
export interface PayloadTypes {
  pcmu: number;
  telephoneEvent: number | null;
}

/** The plain side's PTs: PCMU 0 and the plane's telephone-event PT. */
export interface PlainPayloadTypes {
  pcmu: number;
  telephoneEvent: number;
}

export const DEFAULT_PLAIN_PAYLOAD_TYPES: PlainPayloadTypes = { pcmu: 0, telephoneEvent: 101 };

export type PacketKind = 'audio' | 'telephone-event';

/** The plain-side PT and kind for a browser PT, or null for a PT that is neither (dropped). */
export function mapBrowserPayloadType(pt: number, browser: PayloadTypes, plain: PlainPayloadTypes): { pt: number; kind: PacketKind } | null {
  if (pt === browser.pcmu) return { pt: plain.pcmu, kind: 'audio' };
  if (browser.telephoneEvent !== null && pt === browser.telephoneEvent) return { pt: plain.telephoneEvent, kind: 'telephone-event' };
  return null;
}

export interface RtpFields {
  marker: boolean;
  sequenceNumber: number;
  timestamp: number;
  ssrc: number;
}

/** A plain RTP packet (RFC 3550 §5.1, no CSRC, no extension, no padding) with payload type `pt`. */
export function plainPacket(fields: RtpFields, pt: number, payload: Buffer): Buffer {
  return serializeRtp({ ...fields, payloadType: pt, csrcs: [], payload });
}

/** Samples per ms at 8 kHz (PCMU, RFC 3551 §4.5.14). */
const SAMPLES_PER_MS = 8;

/** One outgoing timeline towards the browser, whatever the plane's SSRC does. */
export class BrowserRestamper {
  private source: number | undefined;
  private seqOffset = 0;
  private tsOffset = 0;
  private lastSeq: number;
  private lastTs: number;
  private lastAtMs = 0;
  private lastSamples = 160;

  constructor(random: () => number = Math.random) {
    // RFC 3550 §5.1: initial sequence number and timestamp SHOULD be random.
    this.lastSeq = Math.floor(random() * 0x10000);
    this.lastTs = Math.floor(random() * 0x100000000);
  }

  /** The outgoing fields for a plane packet of `samples` samples arriving at `nowMs`. */
  next(p: RtpFields, samples: number, nowMs: number): RtpFields {
    let marker = p.marker;
    if (p.ssrc !== this.source) {
      const first = this.source === undefined;
      const elapsed = first ? 0 : Math.max(this.lastSamples, Math.round((nowMs - this.lastAtMs) * SAMPLES_PER_MS));
      const seq = first ? this.lastSeq : (this.lastSeq + 1) & 0xffff;
      const ts = (this.lastTs + elapsed) >>> 0;
      this.seqOffset = (seq - p.sequenceNumber) & 0xffff;
      this.tsOffset = (ts - p.timestamp) >>> 0;
      this.source = p.ssrc;
      marker = true;
    }
    const sequenceNumber = (p.sequenceNumber + this.seqOffset) & 0xffff;
    const timestamp = (p.timestamp + this.tsOffset) >>> 0;
    this.lastSeq = sequenceNumber;
    this.lastTs = timestamp;
    this.lastAtMs = nowMs;
    this.lastSamples = samples > 0 ? samples : this.lastSamples;
    return { marker, sequenceNumber, timestamp, ssrc: p.ssrc };
  }
}

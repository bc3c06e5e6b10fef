/**
 * RFC 4733 telephone-event receiver for DTMF digits (RFC 4733 §2.5.2, events of RFC 4733 §3.2 /
 * RFC 4734). Feed it parsed RTP packets; it reports each key once, on the first packet of its
 * event (`onDigit`), and tells when the event ended and how long it lasted (`onEnd`).
 *
 * Payload (RFC 4733 §2.3): event (8) | E (1) R (1) volume (6) | duration (16, timestamp units)
 *
 * - §2.5.1.2: all packets of one event carry the RTP timestamp of the event's start; the first
 *   has the M bit set; later ones update the duration. We key events by RTP timestamp, so the M
 *   bit is informative only: the first packet seen with a new timestamp reports the key, and if
 *   the first packets are lost, the first update (or end packet) that arrives reports it. Start
 *   packets sent again (§2.5.1.2 lets a sender repeat the M-bit packet) and updates carry the
 *   same timestamp and are not reported again; the same key pressed again has a new timestamp
 *   and is reported again.
 * - §2.5.1.4: the final packet (E bit) is sent three times; peers repeat it with the same
 *   sequence number (SIPp) or with new ones. The first E packet ends the event (`onEnd`, with
 *   the duration the masking and the logs use); the rest are ignored.
 * - §2.5.1.3 / §2.5.2.3 long-duration events: when the duration would pass 0xFFFF the sender
 *   ends the segment without the E bit and starts a new segment whose RTP timestamp is the old
 *   timestamp plus the old segment's duration (0xFFFF); the receiver joins the segments. We
 *   treat a packet with the same event code, not yet ended, whose timestamp is exactly 0xFFFF
 *   (or, for senders that stop a segment a packet early, exactly the last duration seen when
 *   that is > 0xFF00) after the current segment as the next segment and sum the durations.
 * - §2.5.2.2 lost end packets: a packet for a newer timestamp ends the current event
 *   (`endedBy: 'new-event'`); with no packets at all, `tick()` ends it after `timeoutMs`
 *   (`endedBy: 'timeout'`, the stuck-tone case).
 * - Reordering and duplicates: a packet whose timestamp is not newer than the last reported
 *   event (serial-number comparison, within `staleWindowMs`) is late and ignored; a late
 *   update with a smaller duration never shrinks an event.
 * - A press is not "late" forever: a packet behind the last reported event that arrives more than
 *   `replayGapMs` (default 120 ms, far beyond any jitter buffer) after that event ended, and is
 *   not an end packet, starts a new event. Senders whose timestamps jump backwards produce such
 *   packets: SIPp replays its per-digit pcaps with each recording's own timestamps, so the same key
 *   twice, or a lower-numbered recording after a higher one, reuses old timestamps. A stray late
 *   end packet (E bit) of an old event is still ignored, and such a replayed event is reported only
 *   when its own end packet arrives, so a stray late duplicate can never invent a digit.
 * - Event codes above 15 (flash, tones) are not digits and are ignored; payloads shorter than
 *   4 octets are ignored and counted. Only the first event block of a packet is used; extra
 *   blocks (§2.5.1.5 multiple events) are counted.
 * - An SSRC change starts a fresh timeline (the previous event, if any, ends as 'new-event').
 */
import type { RtpPacket } from '../rtp/packet.js';
import { tsDiff } from '../rtp/sequence.js';
import { type DtmfDigit, digitForEventCode } from './events.js';

/** A key, reported once per event. */
export interface Rfc4733Digit {
  digit: DtmfDigit;
  /** RTP timestamp of the event start (first segment). */
  timestamp: number;
  /** `first-packet`: the first packet of the event that arrived; `end-packet`: a replayed event (see above). */
  reportedOn: 'first-packet' | 'end-packet';
}

/** An event ended: its duration over all segments (§2.5.1.3) and why it ended. */
export interface Rfc4733End {
  digit: DtmfDigit;
  timestamp: number;
  durationMs: number;
  endedBy: 'end-bit' | 'timeout' | 'new-event';
  /** False for a replayed event dropped without its end packet (never reported as a key). */
  reported: boolean;
}

export interface Rfc4733Start {
  digit: DtmfDigit;
  timestamp: number;
}

export interface Rfc4733ReceiverOptions {
  /** The negotiated telephone-event payload type (any dynamic PT, not only 101). */
  payloadType: number;
  clockRate?: number;
  /** The key, on the first packet of its event (a replayed event: on its end packet). */
  onDigit(evt: Rfc4733Digit): void;
  /** Every event, replayed ones too, as its first packet arrives (before `onDigit`): masking starts here. */
  onStart?(evt: Rfc4733Start): void;
  /** Every event that started, when it ends: its duration (masking, logs). */
  onEnd?(evt: Rfc4733End): void;
  /** A listener threw; the receiver carries on (docs/architecture.md practice 8). */
  onListenerError?(err: unknown): void;
  /** No packet for this long ends the current event (stuck tone). Default 500 ms. */
  timeoutMs?: number;
  /** How far behind the last reported event a timestamp still counts as late. Default 10 s. */
  staleWindowMs?: number;
  /** After this long (arrival time) past the last reported event, a non-end packet behind it is a new press. Default 120 ms. */
  replayGapMs?: number;
}

export interface Rfc4733Stats {
  packets: number;
  otherPayloadType: number;
  shortPayloads: number;
  nonDigitEvents: number;
  latePackets: number;
  extraBlocks: number;
  digits: number;
  timeouts: number;
}

interface ActiveEvent {
  code: number;
  digit: DtmfDigit;
  startTs: number;
  segmentTs: number;
  segmentDuration: number;
  previousSegments: number;
  lastPacketMs: number;
  /** Started behind the last reported event (a sender that jumped back): reported only on its own end packet. */
  replayed: boolean;
}

const MAX_SEGMENT = 0xffff;

export class Rfc4733Receiver {
  readonly stats: Rfc4733Stats = {
    packets: 0,
    otherPayloadType: 0,
    shortPayloads: 0,
    nonDigitEvents: 0,
    latePackets: 0,
    extraBlocks: 0,
    digits: 0,
    timeouts: 0,
  };
  private readonly payloadType: number;
  private readonly clockRate: number;
  private readonly timeoutMs: number;
  private readonly staleTicks: number;
  private active: ActiveEvent | undefined;
  private lastReportedTs: number | undefined;
  private lastReportedMs = -Infinity;
  private lastArrivalMs = -Infinity;
  private readonly replayGapMs: number;
  private ssrc: number | undefined;

  constructor(private readonly options: Rfc4733ReceiverOptions) {
    this.payloadType = options.payloadType;
    this.clockRate = options.clockRate ?? 8000;
    this.timeoutMs = options.timeoutMs ?? 500;
    this.staleTicks = ((options.staleWindowMs ?? 10_000) * this.clockRate) / 1000;
    this.replayGapMs = options.replayGapMs ?? 120;
  }

  /** True while an event has started and not yet ended. */
  get inEvent(): boolean {
    return this.active !== undefined;
  }

  push(packet: RtpPacket, arrivalMs: number): void {
    if (packet.payloadType !== this.payloadType) {
      this.stats.otherPayloadType++;
      return;
    }
    this.stats.packets++;
    const p = packet.payload;
    if (p.length < 4) {
      this.stats.shortPayloads++;
      return;
    }
    if (p.length >= 8) this.stats.extraBlocks += Math.floor(p.length / 4) - 1;
    const code = p[0]!;
    const end = (p[1]! & 0x80) !== 0;
    const duration = (p[2]! << 8) | p[3]!;
    const digit = digitForEventCode(code);
    if (digit === undefined) {
      this.stats.nonDigitEvents++;
      return;
    }
    if (this.ssrc !== packet.ssrc) {
      if (this.active) this.finish('new-event');
      this.ssrc = packet.ssrc;
      this.lastReportedTs = undefined;
    }
    const ts = packet.timestamp >>> 0;
    this.lastArrivalMs = arrivalMs;
    let replayed = false;
    const continuing = this.active !== undefined && ts === this.active.segmentTs;
    if (this.lastReportedTs !== undefined && !continuing) {
      const behind = tsDiff(ts, this.lastReportedTs);
      if (behind <= 0 && behind > -this.staleTicks) {
        const replay = !end && !this.active && arrivalMs - this.lastReportedMs > this.replayGapMs;
        if (!replay) {
          this.stats.latePackets++;
          return;
        }
        replayed = true; // a sender whose timestamps jumped back: reported only on its end packet
      }
    }
    const a = this.active;
    if (a) {
      if (ts === a.segmentTs) {
        if (code !== a.code) {
          this.stats.latePackets++; // same timestamp, other event: not a valid update
          return;
        }
        if (duration > a.segmentDuration) a.segmentDuration = duration;
        a.lastPacketMs = arrivalMs;
        if (end) this.finish('end-bit');
        return;
      }
      const ahead = tsDiff(ts, a.segmentTs);
      if (ahead < 0) {
        this.stats.latePackets++; // older than the event in progress
        return;
      }
      if (code === a.code && (ahead === MAX_SEGMENT || (ahead === a.segmentDuration && ahead > 0xff00))) {
        // RFC 4733 §2.5.1.3: the next segment of a long-duration event.
        a.previousSegments += ahead;
        a.segmentTs = ts;
        a.segmentDuration = duration;
        a.lastPacketMs = arrivalMs;
        if (end) this.finish('end-bit');
        return;
      }
      this.finish('new-event'); // §2.5.2.2: its end packets were lost
    }
    this.active = {
      code,
      digit,
      startTs: ts,
      segmentTs: ts,
      segmentDuration: duration,
      previousSegments: 0,
      lastPacketMs: arrivalMs,
      replayed,
    };
    this.emit(() => this.options.onStart?.({ digit, timestamp: ts }));
    if (!replayed) this.report(digit, ts, 'first-packet');
    if (end) this.finish('end-bit');
  }

  /** Ends an event that has had no packet for `timeoutMs` (stuck tone). */
  tick(nowMs: number): void {
    const a = this.active;
    if (a && nowMs - a.lastPacketMs >= this.timeoutMs) {
      this.stats.timeouts++;
      this.finish('timeout');
    }
  }

  private finish(endedBy: Rfc4733End['endedBy']): void {
    const a = this.active;
    if (!a) return;
    this.active = undefined;
    const durationMs = ((a.previousSegments + a.segmentDuration) * 1000) / this.clockRate;
    const dropped = a.replayed && endedBy !== 'end-bit';
    if (dropped) {
      // A replayed timeline that never sent its end packet may be a stray late duplicate: drop it.
      this.stats.latePackets++;
    } else {
      this.lastReportedTs = a.segmentTs;
      this.lastReportedMs = this.lastArrivalMs;
      if (a.replayed) this.report(a.digit, a.startTs, 'end-packet');
    }
    const evt: Rfc4733End = { digit: a.digit, timestamp: a.startTs, durationMs, endedBy, reported: !dropped };
    this.emit(() => this.options.onEnd?.(evt));
  }

  private report(digit: DtmfDigit, timestamp: number, reportedOn: Rfc4733Digit['reportedOn']): void {
    this.stats.digits++;
    const evt: Rfc4733Digit = { digit, timestamp, reportedOn };
    this.emit(() => this.options.onDigit(evt));
  }

  private emit(fn: () => void): void {
    try {
      fn();
    } catch (err) {
      try {
        this.options.onListenerError?.(err);
      } catch {
        // a failing error listener must not break the media path either
      }
    }
  }
}

/**
 * One leg's SDP session as the gateway presents it: the o= line and the m-line layout.
 *
 * RFC 3264 §8: every SDP we send on a leg keeps the o= line except the version, which goes up by
 * exactly one when the content changes and stays the same when it does not (RFC 4566 §5.2), and a
 * later SDP never has fewer m-lines than an earlier one, in the same order (RFC 3264 §8.1, §8.2).
 */
import { randomInt } from 'node:crypto';
import { isIP } from 'node:net';
import { write, type MediaDescription, type SessionDescription } from 'sdp-transform';
import { formatCryptoAttribute, SAVP, type SdesKey } from './crypto.js';
import type { Codec, Direction, MLine } from './types.js';

/**
 * The gateway's audio stream on a leg: RTP/AVP (RFC 3551), or RTP/SAVP with our SDES key when
 * `crypto` is given (RFC 4568 §5). WebRTC legs live elsewhere.
 */
export interface AudioSection {
  port: number;
  codecs: readonly Codec[];
  ptime: number | null;
  direction: Direction;
  crypto?: SdesKey | null;
}

/** Where the other m-lines come from in an answer: the offer's layout (RFC 3264 §6). */
export interface Layout {
  mlines: readonly MLine[];
  audioIndex: number;
}

export interface SdpSessionOptions {
  /** o= unicast-address: the gateway's address on this leg (RFC 4566 §5.2). */
  address: string;
  username?: string;
  /** Numeric string; random by default (RFC 4566 §5.2 only asks it to be globally unique with the rest of o=). */
  sessionId?: string;
  version?: number;
}

export const AUDIO_PROTOCOL = 'RTP/AVP';

export class SdpSession {
  readonly sessionId: string;
  readonly username: string;
  readonly address: string;
  private currentVersion: number;
  private lastContent: string | null = null;
  private layout: Layout | null = null;

  constructor(opts: SdpSessionOptions) {
    if (isIP(opts.address) === 0) throw new TypeError(`SdpSession: "${opts.address}" is not an IP address`);
    this.address = opts.address;
    this.username = opts.username ?? 'tonegate';
    this.sessionId = opts.sessionId ?? String(randomInt(1, 2 ** 47));
    if (!/^\d+$/.test(this.sessionId)) throw new TypeError('SdpSession: sessionId must be numeric');
    this.currentVersion = opts.version ?? randomInt(1, 2 ** 31);
  }

  /** o= sess-version of the SDP last rendered (or the one the next first SDP will carry). */
  get version(): number {
    return this.currentVersion;
  }

  /** The m-lines this leg's session has so far (empty before the first SDP). */
  get mlines(): readonly MLine[] {
    return this.layout?.mlines ?? [];
  }

  /**
   * Render an SDP for this leg. An offer passes no layout: earlier m-lines are kept, disabled with
   * port 0 (RFC 3264 §8.2), and audio stays in its slot. An answer passes the offer's layout, whose
   * m-line count and order it must mirror (RFC 3264 §6); the other streams are rejected with port 0.
   */
  render(audio: AudioSection, connectionAddress: string, answerTo?: Layout): string {
    const layout = answerTo ?? this.layout ?? { mlines: [], audioIndex: 0 };
    const mlines: MLine[] = layout.mlines.map((m) => ({ ...m, port: 0 }));
    const audioLine: MLine = { type: 'audio', port: audio.port, protocol: audio.crypto ? SAVP : AUDIO_PROTOCOL, formats: audio.codecs.map((c) => c.pt).join(' ') };
    mlines[layout.audioIndex] = audioLine;
    this.layout = { mlines, audioIndex: layout.audioIndex };

    const media = mlines.map((m, i): MediaDescription => (i === layout.audioIndex ? audioMedia(audio) : rejectedMedia(m)));
    const description: SessionDescription = {
      version: 0,
      origin: { username: this.username, sessionId: this.sessionId, sessionVersion: 0, netType: 'IN', ipVer: ipVersion(this.address), address: this.address },
      name: '-',
      connection: { version: ipVersion(connectionAddress), ip: connectionAddress },
      timing: { start: 0, stop: 0 },
      media,
    };
    const content = write(description);
    // RFC 3264 §8: bump by one only if something other than o= changed.
    if (this.lastContent !== null && content !== this.lastContent) this.currentVersion += 1;
    this.lastContent = content;
    description.origin.sessionVersion = this.currentVersion;
    return write(description);
  }
}

function ipVersion(address: string): number {
  return isIP(address) === 6 ? 6 : 4;
}

function audioMedia(audio: AudioSection): MediaDescription {
  const media: MediaDescription = {
    type: 'audio',
    port: audio.port,
    protocol: audio.crypto ? SAVP : AUDIO_PROTOCOL,
    payloads: audio.codecs.map((c) => c.pt).join(' '),
    // RFC 3264 §5.1: rtpmap is listed even for static payload types.
    rtp: audio.codecs.map((c) => ({ payload: c.pt, codec: c.name, rate: c.rate, ...(c.channels !== 1 ? { encoding: c.channels } : {}) })),
    fmtp: audio.codecs.filter((c) => c.fmtp !== undefined).map((c) => ({ payload: c.pt, config: c.fmtp as string })),
    direction: audio.direction,
  };
  if (audio.ptime !== null) media.ptime = audio.ptime;
  if (audio.crypto) {
    const [id, suite, config] = formatCryptoAttribute(audio.crypto).split(' ') as [string, string, string];
    media.crypto = [{ id: Number(id), suite, config }];
  }
  return media;
}

/** RFC 3264 §6: a rejected stream keeps its media type and at least one format, with port 0. */
function rejectedMedia(m: MLine): MediaDescription {
  return { type: m.type, port: 0, protocol: m.protocol, payloads: m.formats, rtp: [], fmtp: [] };
}

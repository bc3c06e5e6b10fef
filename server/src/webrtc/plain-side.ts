/**
 * The plain-RTP side of a WebRTC leg: one UDP socket towards the media plane's leg.
 *
 * - Browser -> plain: every PCMU and telephone-event packet, payload type rewritten to the plain
 *   side's (rtp-rewrite.ts), sent to the target (the plane leg's RTP port).
 * - Plain -> browser: only packets from the target are accepted (others are counted and
 *   dropped: this socket may sit on a public address). RTCP from the plane (RFC 5761 muxed here,
 *   or from the target's port + 1) is dropped: werift sends its own RTCP to the browser. Only PCMU
 *   goes on: werift's RtpSender.sendRtp stamps every packet with the first negotiated codec's
 *   payload type, so a telephone-event packet would reach the browser as noise (and agents must
 *   never get DTMF anyway).
 * - Nothing throws out of the socket callback.
 */
import dgram from 'node:dgram';
import { isRtpParseError, looksLikeRtcp, parseRtp } from '../media/rtp/index.js';
import { BrowserRestamper, mapBrowserPayloadType, plainPacket, type PayloadTypes, type PlainPayloadTypes, type RtpFields } from './rtp-rewrite.js';
import type { PlainAddress, PlainTarget, WebRtcLegStats, WebRtcLogger } from './types.js';

export type PlainCounters = Omit<WebRtcLegStats, 'state'>;

export interface PlainSideHooks {
  /** Whether the browser side can take audio now (ICE and DTLS up). */
  connected(): boolean;
  /** Send one restamped PCMU packet to the browser (werift's sender). */
  sendToBrowser(packet: Buffer): Promise<void>;
  log: WebRtcLogger;
  id: string | undefined;
}

export class PlainSide {
  readonly local: PlainAddress;
  readonly counters: PlainCounters = {
    fromBrowser: { audio: 0, telephoneEvents: 0, otherPayloadType: 0, noTarget: 0, sendErrors: 0 },
    toBrowser: { audio: 0, foreignSource: 0, rtcp: 0, malformed: 0, telephoneEvents: 0, otherPayloadType: 0, notConnected: 0, sendErrors: 0 },
  };
  private target: PlainTarget | null = null;
  private closed = false;
  private readonly restamper = new BrowserRestamper();

  static async open(address: string, pts: PlainPayloadTypes, hooks: PlainSideHooks): Promise<PlainSide> {
    const socket = dgram.createSocket(address.includes(':') ? 'udp6' : 'udp4');
    await new Promise<void>((resolve, reject) => {
      socket.once('error', reject);
      socket.bind(0, address, () => {
        socket.off('error', reject);
        resolve();
      });
    });
    return new PlainSide(socket, pts, hooks);
  }

  private constructor(
    private readonly socket: dgram.Socket,
    private readonly pts: PlainPayloadTypes,
    private readonly hooks: PlainSideHooks,
  ) {
    const { address, port } = socket.address();
    this.local = { address, port, rtcpPort: port };
    socket.on('message', (msg, rinfo) => {
      try {
        this.fromPlain(msg, rinfo);
      } catch (err) {
        hooks.log.error({ err, leg: hooks.id }, 'webrtc: plain packet failed');
      }
    });
    socket.on('error', (err) => hooks.log.warn({ err, leg: hooks.id }, 'webrtc: plain socket error'));
  }

  setTarget(target: PlainTarget): void {
    this.target = { address: target.address, port: target.port };
  }

  /** Browser -> plain: `browser` are the PTs the browser negotiated. */
  fromBrowser(fields: RtpFields & { payloadType: number }, payload: Buffer, browser: PayloadTypes | null): void {
    const c = this.counters.fromBrowser;
    const mapped = browser ? mapBrowserPayloadType(fields.payloadType, browser, this.pts) : null;
    if (!mapped) return void c.otherPayloadType++;
    const target = this.target;
    if (!target || this.closed) return void c.noTarget++;
    if (mapped.kind === 'audio') c.audio++;
    else c.telephoneEvents++;
    const { marker, sequenceNumber, timestamp, ssrc } = fields;
    this.socket.send(plainPacket({ marker, sequenceNumber, timestamp, ssrc }, mapped.pt, payload), target.port, target.address, (err) => {
      if (err) c.sendErrors++;
    });
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    try {
      this.socket.close();
    } catch {
      // already closed
    }
  }

  private fromPlain(msg: Buffer, from: dgram.RemoteInfo): void {
    const c = this.counters.toBrowser;
    const t = this.target;
    if (this.closed) return;
    const fromTarget = t !== null && from.address === t.address && (from.port === t.port || from.port === t.port + 1);
    if (!fromTarget) return void c.foreignSource++;
    if (looksLikeRtcp(msg)) return void c.rtcp++;
    if (from.port !== t.port) return void c.foreignSource++;
    const p = parseRtp(msg);
    if (isRtpParseError(p)) return void c.malformed++;
    if (p.payloadType !== this.pts.pcmu) {
      if (p.payloadType === this.pts.telephoneEvent) c.telephoneEvents++;
      else c.otherPayloadType++;
      return;
    }
    if (!this.hooks.connected()) return void c.notConnected++;
    const out = this.restamper.next(p, p.payload.length, performance.now());
    c.audio++;
    this.hooks.sendToBrowser(plainPacket(out, p.payloadType, p.payload)).catch(() => void c.sendErrors++);
  }
}

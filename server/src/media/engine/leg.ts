/**
 * One RTP leg of a bridge inside the media worker: its RTP/RTCP sockets, the receive path
 * (symmetric RTP latching, RFC 4733 events, playout buffer, DTMF guard on customer legs) and the
 * send path (the listener's mix, encoded in its codec and ptime).
 *
 * Receive, per datagram (no allocation for audio; RFC 4733 packets are parsed into objects):
 * 1. Not RTP (RFC 3550 §5.1, rtp-view.ts): counted `malformed`, dropped.
 * 2. Leg not configured: `unconfigured`.
 * 3. Latching (symmetric RTP, RFC 4961): before latching, only the signalled IP address may send,
 *    and only with a negotiated payload type; its first such packet fixes the source address and
 *    port. After that, any other source is `wrongSource` (no media hijack). Only configure()
 *    with a different remote unlatches. The first `wrongSource` packet of a leg is reported once
 *    (hooks.unexpectedSource: a warning in the log), so a peer whose SDP names one address while
 *    its packets come from another (one-way audio) is visible; every one is counted in the stats.
 * 0. SRTP legs (RFC 3711 §3.3): the datagram is authenticated, replay-checked and decrypted in
 *    place first; a failure is counted (stats.srtp) and dropped, so everything below (latching,
 *    DTMF, masking, mixing) only ever sees authenticated plain RTP. Sending protects each packet.
 * 4. Negotiated audio PT -> playout buffer; telephone-event PT -> RFC 4733 receiver (never
 *    forwarded: the agent hears only the mix); any other PT: `wrongPayloadType`. Payloads over
 *    60 ms (480 octets): `oversized`.
 */
import { isIP } from 'node:net';
import { FRAME } from '../clock/frame.js';
import { Rfc4733Receiver } from '../dtmf/rfc4733.js';
import { PlayoutBuffer } from '../jitter/playout-buffer.js';
import { DtmfGuard, MASK_LOOKAHEAD } from '../mask/dtmf-guard.js';
import { MaskSignal, type MaskKind } from '../mask/mask-signal.js';
import { CaptureTone } from '../mixer/capture-tone.js';
import { PromptPlayer, type PromptResult } from '../prompts/player.js';
import { SrtpSession } from '../srtp/srtp.js';
import { isRtpParseError, parseRtp } from '../rtp/packet.js';
import { DigitDeduper, type DigitTransport } from './digits.js';
import { MediaError, type LegConfig, type LegSrtp, type LegRole, type LegStats, type LocalPorts } from './protocol.js';
import { RtcpSession } from './rtcp-session.js';
import { RtpSender } from './rtp-sender.js';
import { RtpView } from './rtp-view.js';
import type { UdpPair } from './udp.js';

const MAX_PAYLOAD = 480;

export interface LegHooks {
  digit(leg: Leg, digit: string, transport: DigitTransport): void;
  /** An RFC 4733 event that was reported as a key ended: its duration (RFC 4733 §2.5.1.3 segments summed). */
  digitEnded(leg: Leg, digit: string, durationMs: number): void;
  latched(leg: Leg, address: string, port: number): void;
  /** The first RTP packet from an unexpected source on this leg (once per leg). */
  unexpectedSource(leg: Leg, from: Endpoint, expected: Endpoint | { address: string }, latched: boolean): void;
  promptEnded(playId: number, result: PromptResult): void;
  now(): number;
}

export interface Endpoint {
  address: string;
  port: number;
}

export class Leg {
  /** This tick's contribution to other legs' mixes (customer legs: masked, 40 ms behind). */
  readonly source = new Int16Array(FRAME);
  readonly playout: PlayoutBuffer;
  readonly guard: DtmfGuard | null;
  readonly sender = new RtpSender();
  readonly rtcp: RtcpSession;
  readonly player: PromptPlayer;
  readonly captureTone = new CaptureTone();
  /** Resolved mute-matrix row (set by the bridge). */
  row: { sources: Leg[]; prompt: boolean; captureTone: boolean } = { sources: [], prompt: true, captureTone: false };
  cfg: LegConfig | null = null;
  ports: UdpPair | null = null;
  private rfc: Rfc4733Receiver | null = null;
  private srtp: SrtpSession | null = null;
  private latchedRtp: Endpoint | null = null;
  private latchedRtcp: Endpoint | null = null;
  private readonly view = new RtpView();
  private readonly dedupe = new DigitDeduper();
  private readonly rx = { packets: 0, bytes: 0, wrongSource: 0, malformed: 0, wrongPayloadType: 0, oversized: 0, unconfigured: 0, telephoneEvents: 0 };
  private readonly tx = { packets: 0, octets: 0, sendErrors: 0 };
  private readonly rtcpRx = { wrongSource: 0 };
  private readonly digits = { inband: 0, rfc4733: 0 };
  private closed = false;
  private reportedSource = false;

  constructor(
    readonly id: string,
    readonly role: LegRole,
    readonly local: LocalPorts,
    mask: MaskKind,
    rtcpIntervalMs: number,
    private readonly hooks: LegHooks,
  ) {
    this.guard = role === 'customer' ? new DtmfGuard(new MaskSignal(mask), (digit, startPos) => this.inband(digit, startPos)) : null;
    this.playout = new PlayoutBuffer(this.guard ? MASK_LOOKAHEAD : 0, this.guard);
    this.rtcp = new RtcpSession(rtcpIntervalMs, `tonegate-${id}@${local.address}`);
    this.player = new PromptPlayer((playId, result) => hooks.promptEnded(playId, result));
  }

  configure(cfg: LegConfig): void {
    checkConfig(cfg);
    const prev = this.cfg;
    const r = cfg.remote;
    const p = prev?.remote;
    const remoteChanged = !p || !r || p.address !== r.address || p.port !== r.port || p.rtcpPort !== r.rtcpPort;
    if (remoteChanged) {
      this.latchedRtp = null; // re-latch only on a new signalled remote
      this.latchedRtcp = null;
      this.sender.restart();
    }
    if (!prev || prev.telephoneEventPt !== cfg.telephoneEventPt) {
      this.rfc = cfg.telephoneEventPt === null ? null : new Rfc4733Receiver({
        payloadType: cfg.telephoneEventPt,
        // Masking starts on the event's first packet, as before; the key is reported on it too
        // (docs/architecture.md, "A digit's path"); the end gives the duration the mask covers.
        onStart: (e) => this.guard?.rfcStart(this.playout.positionOf(this.view.ssrc, e.timestamp)),
        onDigit: (e) => this.rfcDigit(e.digit, e.timestamp),
        onEnd: (e) => this.rfcEnd(e.digit, e.timestamp, e.durationMs, e.reported),
      });
    }
    if (!sameSrtp(prev?.srtp, cfg.srtp)) {
      this.srtp?.wipe();
      const k = cfg.srtp;
      this.srtp = k ? new SrtpSession({ suite: k.suite, keySalt: k.local }, { suite: k.suite, keySalt: k.remote, ...(k.remoteLifetime ? { lifetime: k.remoteLifetime } : {}) }) : null;
    }
    this.sender.configure(cfg.codec, cfg.payloadType, cfg.ptime);
    this.cfg = { ...cfg, remote: r ? { ...r } : null };
  }

  readonly onRtp = (datagram: Buffer, address: string, port: number): void => {
    if (this.closed) return;
    const v = this.view;
    const rx = this.rx;
    let msg = datagram;
    if (this.srtp) {
      const n = this.srtp.unprotectRtp(datagram);
      if (typeof n !== 'number') return; // counted by cause in the SRTP session's stats
      msg = datagram.subarray(0, n);
    }
    if (!v.read(msg)) {
      rx.malformed++;
      return;
    }
    const cfg = this.cfg;
    if (!cfg || !cfg.remote) {
      rx.unconfigured++;
      return;
    }
    const pt = v.payloadType;
    const latched = this.latchedRtp;
    if (latched) {
      if (port !== latched.port || address !== latched.address) {
        rx.wrongSource++;
        if (!this.reportedSource) this.reportSource(address, port, latched, true);
        return;
      }
    } else {
      if (address !== cfg.remote.address) {
        rx.wrongSource++;
        if (!this.reportedSource) this.reportSource(address, port, { address: cfg.remote.address }, false);
        return;
      }
      if (pt !== cfg.payloadType && pt !== cfg.telephoneEventPt) {
        rx.wrongPayloadType++; // garbage never latches
        return;
      }
      this.latchedRtp = { address, port };
      this.sender.restart();
      this.hooks.latched(this, address, port);
    }
    rx.packets++;
    rx.bytes += msg.length;
    const now = this.hooks.now();
    if (pt === cfg.payloadType) {
      if (v.payloadLength > MAX_PAYLOAD) {
        rx.oversized++;
        return;
      }
      if (v.payloadLength === 0) {
        rx.malformed++;
        return;
      }
      this.rtcp.onRtp(v.ssrc, v.timestamp, now);
      this.playout.write(v.ssrc, v.sequenceNumber, v.timestamp, msg, v.payloadOffset, v.payloadLength, cfg.codec, now);
    } else if (pt === cfg.telephoneEventPt && this.rfc) {
      rx.telephoneEvents++;
      this.playout.seq.update(v.sequenceNumber);
      const packet = parseRtp(msg);
      if (!isRtpParseError(packet)) this.rfc.push(packet, now);
    } else {
      rx.wrongPayloadType++;
    }
  };

  private reportSource(address: string, port: number, expected: Endpoint | { address: string }, latched: boolean): void {
    this.reportedSource = true;
    this.hooks.unexpectedSource(this, { address, port }, { ...expected }, latched);
  }

  readonly onRtcp = (datagram: Buffer, address: string, port: number): void => {
    if (this.closed) return;
    const remote = this.cfg?.remote;
    if (!remote) return;
    let msg = datagram;
    if (this.srtp) {
      const n = this.srtp.unprotectRtcp(datagram); // RFC 3711 §3.4
      if (typeof n !== 'number') return;
      msg = datagram.subarray(0, n);
    }
    const l = this.latchedRtcp;
    if (l ? port !== l.port || address !== l.address : address !== remote.address) {
      this.rtcpRx.wrongSource++;
      return;
    }
    // RTCP latches like RTP, on the first valid compound packet from the signalled address.
    if (this.rtcp.onPacket(msg, this.hooks.now()) && !l) this.latchedRtcp = { address, port };
  };

  /** This tick's audio from the peer into `source` (masked on customer legs). */
  produce(now: number): void {
    const info = this.playout.read(this.source, now);
    if (this.guard) this.guard.apply(this.source, info.offset, info.pos, info.length, info.analysedTo - MASK_LOOKAHEAD);
    this.rfc?.tick(now);
  }

  /** Send one mixed frame to the peer (or let time pass when there is nowhere to send). */
  transmit(frame: Int16Array, wallMs: number): void {
    const dest = this.destination();
    if (!dest || !this.ports) {
      this.sender.skip();
      return;
    }
    this.sender.push(frame, this.sendRtp, wallMs);
  }

  /** An RTCP compound report when one is due. */
  pollRtcp(now: number): void {
    const remote = this.cfg?.remote;
    if (!remote || !this.ports) return;
    const plain = this.rtcp.poll(now, this.sender, this.playout.isStarted ? this.playout.seq : null);
    if (!plain) return;
    const report = this.srtp ? this.srtp.protectRtcp(plain, plain.length) : plain;
    if (typeof report === 'string') {
      this.tx.sendErrors++;
      return;
    }
    const to = this.latchedRtcp ?? { address: this.latchedRtp?.address ?? remote.address, port: remote.rtcpPort ?? remote.port + 1 };
    try {
      this.ports.rtcp.send(report, report.length, to.port, to.address);
    } catch {
      this.tx.sendErrors++;
    }
  }

  private destination(): Endpoint | null {
    return this.latchedRtp ?? this.cfg?.remote ?? null;
  }

  private readonly sendRtp = (plain: Uint8Array, plainLength: number): void => {
    const d = this.latchedRtp ?? this.cfg!.remote!;
    let buf = plain;
    let length = plainLength;
    if (this.srtp) {
      const p = this.srtp.protectRtp(plain, plainLength);
      if (typeof p === 'string') {
        this.tx.sendErrors++;
        return;
      }
      buf = p;
      length = p.length;
    }
    try {
      this.ports!.rtp.send(buf, length, d.port, d.address);
      this.tx.packets++;
      this.tx.octets += length;
    } catch {
      this.tx.sendErrors++;
    }
  };

  private inband(digit: string, startPos: number): void {
    if (!this.dedupe.accept(digit, 'inband', startPos)) return;
    this.digits.inband++;
    this.hooks.digit(this, digit, 'inband');
  }

  /**
   * The key, on its event's first packet. The deduper compares event starts on the leg's timeline
   * (RTP timestamp of the start, RFC 4733 §2.5.1.2), so it matches an in-band report of the same
   * press whichever of the two comes first.
   */
  private rfcDigit(digit: string, timestamp: number): void {
    const pos = this.playout.positionOf(this.view.ssrc, timestamp);
    if (!this.dedupe.accept(digit, 'rfc4733', pos ?? this.playout.analysedTo)) return;
    this.digits.rfc4733++;
    this.hooks.digit(this, digit, 'rfc4733');
  }

  /** The event ended: the mask covers it to its end plus the hang-over; the duration goes to the log hook. */
  private rfcEnd(digit: string, timestamp: number, durationMs: number, reported: boolean): void {
    const pos = this.playout.positionOf(this.view.ssrc, timestamp);
    this.guard?.rfcEnd(pos === undefined ? undefined : pos + durationMs * 8);
    if (reported) this.hooks.digitEnded(this, digit, durationMs);
  }

  stats(): LegStats {
    const ps = this.playout.stats;
    const g = this.guard?.stats;
    const r = this.rtcp.stats;
    return {
      id: this.id,
      role: this.role,
      local: { ...this.local },
      remote: this.cfg?.remote ? { ...this.cfg.remote } : null,
      latched: this.latchedRtp ? { ...this.latchedRtp } : null,
      codec: this.cfg?.codec ?? null,
      rx: { ...this.rx },
      tx: { ...this.tx },
      playout: {
        late: ps.late, duplicates: ps.duplicates, reanchors: ps.reanchors, ssrcChanges: ps.ssrcChanges, stalls: ps.stalls,
        skippedMs: ps.skippedSamples / 8, lostMs: ps.lostSamples / 8, bufferedMs: this.playout.bufferedMs,
        lost: this.playout.isStarted ? this.playout.seq.lost : 0,
      },
      dtmf: { ...this.digits, duplicates: this.dedupe.duplicates, maskedMs: (g?.maskedSamples ?? 0) / 8, unsafeSamples: g?.unsafeSamples ?? 0 },
      srtp: this.srtpStats(),
      rtcp: { packetsIn: r.packetsIn, malformed: r.malformed, wrongSource: this.rtcpRx.wrongSource, senderReportsIn: r.senderReportsIn, receiverReportsIn: r.receiverReportsIn, reportsOut: r.reportsOut, jitterMs: r.jitterMs },
    };
  }

  private srtpStats(): LegStats['srtp'] {
    const s = this.srtp;
    if (!s) return null;
    const { protectedRtp, unprotectedRtp, protectedRtcp, unprotectedRtcp, drops } = s.stats;
    return {
      suite: s.suite.name, protectedRtp, unprotectedRtp, protectedRtcp, unprotectedRtcp,
      authFailed: drops.auth, replayed: drops.replayed + drops['too-old'], malformed: drops.malformed + drops.lifetime,
    };
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.srtp?.wipe();
    this.player.stop();
    const p = this.ports;
    this.ports = null;
    if (p) await Promise.all([p.rtp.close(), p.rtcp.close()]);
  }
}

function sameSrtp(a: LegSrtp | null | undefined, b: LegSrtp | null | undefined): boolean {
  if (!a || !b) return !a && !b;
  return a.suite === b.suite && Buffer.compare(a.local, b.local) === 0 && Buffer.compare(a.remote, b.remote) === 0 && (a.remoteLifetime ?? null) === (b.remoteLifetime ?? null);
}

function checkConfig(cfg: LegConfig): void {
  const bad = (why: string): never => {
    throw new MediaError('BAD_CONFIG', `configureLeg: ${why}`);
  };
  if (cfg.codec !== 'pcmu' && cfg.codec !== 'pcma') bad(`codec ${String(cfg.codec)}`);
  const pt = (x: number): boolean => Number.isInteger(x) && x >= 0 && x <= 127;
  if (!pt(cfg.payloadType)) bad(`payload type ${cfg.payloadType}`);
  if (cfg.telephoneEventPt !== null && (!pt(cfg.telephoneEventPt) || cfg.telephoneEventPt === cfg.payloadType)) bad(`telephone-event payload type ${cfg.telephoneEventPt}`);
  if (cfg.ptime !== 10 && cfg.ptime !== 20 && cfg.ptime !== 30) bad(`ptime ${String(cfg.ptime)}`);
  const k = cfg.srtp;
  if (k) {
    const keyLength = k.suite === 'AES_CM_128_HMAC_SHA1_80' ? 16 : k.suite === 'AES_256_CM_HMAC_SHA1_80' ? 32 : bad(`SRTP suite ${String(k.suite)}`);
    const ok = (x: unknown): boolean => x instanceof Uint8Array && x.length === keyLength + 14;
    if (!ok(k.local) || !ok(k.remote)) bad(`SRTP keys must be ${keyLength + 14} octets (key || salt) for ${k.suite}`);
  }
  const r = cfg.remote;
  const port = (x: number | undefined): boolean => x === undefined || (Number.isInteger(x) && x > 0 && x <= 65535);
  if (r && (isIP(r.address) === 0 || !port(r.port) || !port(r.rtcpPort))) bad(`remote ${r.address}:${r.port}`);
}

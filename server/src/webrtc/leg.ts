/**
 * A WebRTC media leg: terminates a browser's DTLS-SRTP audio with werift and re-exposes it as plain
 * RTP on one UDP socket, so the media plane sees an ordinary RTP leg (its DTMF detection, mute
 * matrix and masking apply unchanged).
 *
 * ```
 *  browser ==ICE/DTLS-SRTP== werift RTCPeerConnection --plain RTP--> plane leg (setPlainTarget)
 *                                                   <--plain RTP---  (plane leg remote = plainLocal)
 * ```
 *
 * - JSEP (RFC 8829): answer() for a browser's offer, createOffer() + setAnswer() when the gateway
 *   calls a browser. No trickle: SDP is returned once candidate gathering is complete, with only
 *   UDP host candidates on `mediaAddress` (RFC 8839 §5.1); no STUN/TURN servers.
 * - DTLS-SRTP (RFC 5763, RFC 5764) is werift's; the leg fails if ICE and DTLS are not up within
 *   `connectTimeoutMs` of the remote description being applied, or if they fail later.
 * - Codecs: PCMU + telephone-event/8000 only (RFC 4733); see sdp-filter.ts and plain-side.ts.
 * - Nothing throws out of socket or werift callbacks; close() is idempotent (docs/architecture.md practice 9).
 */
import { RTCPeerConnection, RTCRtpCodecParameters, type MediaStreamTrack, type RTCRtpTransceiver } from 'werift';
import { SafeEmitter } from '../lib/emitter.js';
import { PlainSide } from './plain-side.js';
import { DEFAULT_PLAIN_PAYLOAD_TYPES, type PayloadTypes } from './rtp-rewrite.js';
import { filterCandidates, isSdpEditError, restrictAudioCodecs } from './sdp-filter.js';
import { WebRtcError, type PlainAddress, type PlainTarget, type WebRtcLegEvents, type WebRtcLegOptions, type WebRtcLegState, type WebRtcLegStats, type WebRtcLogger } from './types.js';

const DEFAULT_CONNECT_TIMEOUT_MS = 10_000;
const silent: WebRtcLogger = { debug() {}, info() {}, warn() {}, error() {} };

export class WebRtcLeg {
  readonly events: SafeEmitter<WebRtcLegEvents>;
  private readonly pc: RTCPeerConnection;
  private readonly log: WebRtcLogger;
  private plain!: PlainSide;
  private phase: WebRtcLegState = 'new';
  private transceiver: RTCRtpTransceiver | undefined;
  private browserPts: PayloadTypes | null = null;
  private timer: NodeJS.Timeout | undefined;
  private closing: Promise<void> | undefined;

  /** Bind the plain socket and prepare the peer connection. */
  static async create(opts: WebRtcLegOptions): Promise<WebRtcLeg> {
    const leg = new WebRtcLeg(opts);
    try {
      leg.plain = await PlainSide.open(opts.plainAddress ?? opts.mediaAddress, opts.plainPayloadTypes ?? DEFAULT_PLAIN_PAYLOAD_TYPES, {
        connected: () => leg.phase === 'connected',
        sendToBrowser: (packet) => leg.transceiver!.sender.sendRtp(packet),
        log: leg.log,
        id: opts.id,
      });
    } catch (err) {
      await leg.pc.close().catch(() => {});
      throw err;
    }
    return leg;
  }

  private constructor(private readonly opts: WebRtcLegOptions) {
    this.log = opts.logger ?? silent;
    this.events = new SafeEmitter((err, event) => this.log.error({ err, event, leg: opts.id }, 'webrtc: listener failed'));
    const media = opts.mediaAddress;
    const v6 = media.includes(':');
    this.pc = new RTCPeerConnection({
      iceServers: [], // werift's default is a public STUN server: host candidates only here
      iceUseIpv4: !v6,
      iceUseIpv6: v6,
      iceInterfaceAddresses: v6 ? { udp6: media } : { udp4: media },
      iceAdditionalHostAddresses: [media],
      ...(opts.icePortRange ? { icePortRange: opts.icePortRange } : {}),
      // werift binds every gathered address's socket to `media`: pair and answer only its candidate.
      iceFilterCandidatePair: (pair) => pair.protocol.localCandidate?.host === media,
      iceFilterStunResponse: (_msg, _addr, protocol) => protocol.localCandidate?.host === media,
      codecs: {
        audio: [
          new RTCRtpCodecParameters({ mimeType: 'audio/PCMU', clockRate: 8000, channels: 1, payloadType: 0 }),
          new RTCRtpCodecParameters({
            mimeType: 'audio/telephone-event', clockRate: 8000, channels: 1, parameters: '0-15',
            payloadType: (opts.plainPayloadTypes ?? DEFAULT_PLAIN_PAYLOAD_TYPES).telephoneEvent,
          }),
        ],
        video: [],
      },
      headerExtensions: { audio: [], video: [] },
    });
    this.pc.onTrack.subscribe((track) => this.guard('track', () => this.onTrack(track)));
    this.pc.connectionStateChange.subscribe((state) => this.guard('state', () => this.onConnectionState(state)));
  }

  get state(): WebRtcLegState {
    return this.phase;
  }

  /** Where the media plane must send: set the plane leg's `remote` to this. */
  get plainLocal(): PlainAddress {
    return { ...this.plain.local };
  }

  /** The browser's payload types once negotiated (PCMU, telephone-event or null). */
  get negotiated(): PayloadTypes | null {
    return this.browserPts ? { ...this.browserPts } : null;
  }

  /** The plane leg's RTP port: browser media goes there, and only it may send to `plainLocal`. */
  setPlainTarget(target: PlainTarget): void {
    this.plain.setTarget(target);
  }

  /** A browser called: apply its offer, return the complete answer (RFC 8829 §5.3). */
  answer(offerSdp: string): Promise<string> {
    return this.negotiate('new', 'answer', async () => {
      this.phase = 'connecting';
      const offer = this.restrict(offerSdp, 'offer');
      await this.pc.setRemoteDescription({ type: 'offer', sdp: offer });
      const transceiver = this.pc.getTransceivers().find((t) => t.kind === 'audio');
      if (!transceiver) throw new WebRtcError('BAD_SDP', 'webrtc: the offer has no audio stream');
      // werift answers recvonly unless told; the browser then never plays what we send.
      transceiver.setDirection('sendrecv');
      this.transceiver = transceiver;
      await this.pc.setLocalDescription(await this.pc.createAnswer());
      const answer = await this.completeLocalSdp();
      this.negotiatedFrom(transceiver);
      this.startConnectTimer();
      return answer;
    });
  }

  /** The gateway calls a browser: return a complete offer (RFC 8829 §5.2) for the INVITE. */
  createOffer(): Promise<string> {
    return this.negotiate('new', 'createOffer', async () => {
      this.phase = 'offered';
      this.transceiver = this.pc.addTransceiver('audio', { direction: 'sendrecv' });
      await this.pc.setLocalDescription(await this.pc.createOffer());
      return this.completeLocalSdp();
    });
  }

  /** The browser's answer to createOffer() (RFC 8829 §5.3); the connect timer starts here. */
  setAnswer(answerSdp: string): Promise<void> {
    return this.negotiate('offered', 'setAnswer', async () => {
      this.phase = 'connecting';
      const answer = this.restrict(answerSdp, 'answer');
      await this.pc.setRemoteDescription({ type: 'answer', sdp: answer });
      this.negotiatedFrom(this.transceiver!);
      this.startConnectTimer();
    });
  }

  stats(): WebRtcLegStats {
    const c = this.plain.counters;
    return { state: this.phase, fromBrowser: { ...c.fromBrowser }, toBrowser: { ...c.toBrowser } };
  }

  /** Release the socket and the peer connection; idempotent; `closed` is emitted once. */
  close(reason = 'closed'): Promise<void> {
    if (this.closing) return this.closing;
    this.phase = 'closed';
    clearTimeout(this.timer);
    this.plain.close();
    // `closing` is set before pc.close() runs: werift reports connectionState 'closed' synchronously.
    let done!: () => void;
    this.closing = new Promise<void>((resolve) => (done = resolve));
    void this.pc
      .close()
      .catch((err: unknown) => this.log.warn({ err, leg: this.opts.id }, 'webrtc: peer connection close failed'))
      .then(() => {
        this.events.emit('closed', reason);
        done();
      });
    return this.closing;
  }

  /**
   * Run one offer/answer step from state `from`. The wrong state rejects INVALID_STATE and leaves
   * the leg as it was; any other rejection closes the leg (`closed` carries the reason): a
   * half-negotiated peer connection is never reused. werift's own errors become BAD_SDP.
   */
  private async negotiate<T>(from: WebRtcLegState, op: string, fn: () => Promise<T>): Promise<T> {
    if (this.closing) throw new WebRtcError('CLOSED', `webrtc: ${op} on a closed leg`);
    if (this.phase !== from) throw new WebRtcError('INVALID_STATE', `webrtc: ${op} in state ${this.phase}`);
    let result: T;
    try {
      result = await fn();
    } catch (err) {
      if (this.closing) throw new WebRtcError('CLOSED', `webrtc: closed during ${op}`);
      const e = err instanceof WebRtcError ? err : new WebRtcError('BAD_SDP', `webrtc: ${op}: ${err instanceof Error ? err.message : String(err)}`);
      await this.close(e.message);
      throw e;
    }
    if (this.closing) throw new WebRtcError('CLOSED', `webrtc: closed during ${op}`);
    return result;
  }

  private restrict(sdp: string, what: string): string {
    const r = restrictAudioCodecs(sdp);
    if (isSdpEditError(r)) throw new WebRtcError('BAD_SDP', `webrtc: unacceptable ${what}: ${r.error}`);
    return r.sdp;
  }

  /** The local description once gathering is complete, with only our host candidates. */
  private async completeLocalSdp(): Promise<string> {
    await new Promise<void>((resolve) => {
      if (this.pc.iceGatheringState === 'complete') return resolve();
      const sub = this.pc.iceGatheringStateChange.subscribe((s) => {
        if (s !== 'complete') return;
        sub.unSubscribe();
        resolve();
      });
    });
    const local = this.pc.localDescription;
    if (!local) throw new WebRtcError('BAD_SDP', 'webrtc: no local description');
    const { sdp, kept } = filterCandidates(local.sdp, this.opts.mediaAddress);
    if (kept === 0) throw new WebRtcError('NO_CANDIDATE', `webrtc: no host candidate on ${this.opts.mediaAddress} (is it a local interface address?)`);
    return sdp;
  }

  private negotiatedFrom(t: RTCRtpTransceiver): void {
    const pcmu = t.codecs.find((c) => c.name.toLowerCase() === 'pcmu');
    const te = t.codecs.find((c) => c.name.toLowerCase() === 'telephone-event' && c.clockRate === 8000);
    if (!pcmu) throw new WebRtcError('BAD_SDP', 'webrtc: PCMU was not negotiated');
    this.browserPts = { pcmu: pcmu.payloadType, telephoneEvent: te?.payloadType ?? null };
  }

  private startConnectTimer(): void {
    const ms = this.opts.connectTimeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS;
    this.timer = setTimeout(() => void this.fail(`ICE/DTLS not connected within ${ms} ms`), ms);
    this.timer.unref();
    if (this.pc.connectionState === 'connected') this.onConnectionState('connected');
  }

  private onConnectionState(state: string): void {
    this.log.debug({ leg: this.opts.id, state }, 'webrtc: connection state');
    if (state === 'connected' && this.phase === 'connecting' && this.browserPts) {
      clearTimeout(this.timer);
      this.phase = 'connected';
      this.events.emit('connected');
    } else if (state === 'failed') {
      void this.fail('ICE/DTLS failed');
    } else if (state === 'closed' && !this.closing) {
      void this.fail('the peer connection closed');
    }
  }

  private async fail(reason: string): Promise<void> {
    if (this.closing || this.phase === 'failed') return;
    this.phase = 'failed';
    this.log.warn({ leg: this.opts.id, reason }, 'webrtc: leg failed');
    this.events.emit('failed', reason);
    await this.close(reason);
  }

  private onTrack(track: MediaStreamTrack): void {
    if (track.kind !== 'audio') return;
    track.onReceiveRtp.subscribe((packet) =>
      this.guard('browser packet', () => this.plain.fromBrowser(packet.header, packet.payload, this.browserPts)),
    );
  }

  private guard(what: string, fn: () => void): void {
    try {
      fn();
    } catch (err) {
      this.log.error({ err, leg: this.opts.id, what }, 'webrtc: callback failed');
    }
  }
}

import type { Logger } from '../observability/logger.js';
import type { Bridge, LegConfig, LegSrtp, LocalPorts } from '../media/plane.js';
import {
  acceptAnswerCrypto, newSdesKey, type PendingSrtp, type SdesKey, type SrtpKeys, type SrtpPolicy,
  answerOffer, DEFAULT_TELEPHONE_EVENT_PT, effectiveDirection, isSdpError, parseSdp, reverseDirection, rewriteAnswer, rewriteOffer, SdpSession,
  SUPPORTED_CODECS, type Codec, type MediaTarget, type ParsedSdp, type SdpError,
} from '../sdp/index.js';
import { isWebRtcSdp, WebRtcLeg } from '../webrtc/index.js';

export type Leg = 'A' | 'B';
export const otherLeg = (l: Leg): Leg => (l === 'A' ? 'B' : 'A');

/** Leg A is the caller (the customer), leg B the agent: their ids and roles on the media bridge. */
export const BRIDGE_LEG: Record<Leg, { id: string; role: 'customer' | 'agent' }> = {
  A: { id: 'customer', role: 'customer' },
  B: { id: 'agent', role: 'agent' },
};

/** A leg's SDES keys as the media worker takes them (RFC 3711 master key || salt per direction). */
export function legSrtp(keys: SrtpKeys | null): LegSrtp | null {
  return keys ? { suite: keys.local.suite, local: keys.local.keySalt, remote: keys.remote.keySalt, remoteLifetime: keys.remote.lifetime } : null;
}

const ptimeOf = (p: number | null | undefined): 10 | 20 | 30 => (p === 10 || p === 30 ? p : 20);
const sameCodec = (a: Codec, b: Codec): boolean => a.name.toLowerCase() === b.name.toLowerCase() && a.rate === b.rate;

/**
 * Anchors one bridged call's media at the gateway on a media-plane bridge (worker thread): the SDP
 * each peer sees names the bridge's ports for its leg (RFC 3264 offer/answer through a B2BUA), and
 * the bridge decodes, mixes (with the DTMF guard) and re-encodes between the legs, so a payment
 * capture can later run on the very same bridge (mode `capture`: the agent muted both ways).
 *
 * offer()/answer() stay synchronous for the SIP side; the legs are configured on the worker in the
 * order the calls are made (the channel is ordered) and a failure is logged and reported through
 * `onMediaFailure`.
 */
export class MediaAnchor {
  private readonly sessions: Record<Leg, SdpSession>;
  private pending: { from: Leg; sdp: ParsedSdp; remote: MediaTarget | null; srtp: PendingSrtp } | undefined;
  /** SRTP policy per media peer address (RFC 4568 SDES on SIP legs). */
  private srtpPolicy: (peerAddress: string) => SrtpPolicy = () => 'off';
  /** Our key in the gateway's own SAVP offer to a SIP agent (independent mode), until it answers. */
  private offeredB: SdesKey | null = null;
  /** Where each leg's peer wants media, as last signalled. */
  private readonly remotes: Record<Leg, MediaTarget | null> = { A: null, B: null };
  private closed = false;
  /**
   * Each leg negotiated on its own with the bridge (RFC 3264 between the gateway and each peer),
   * as soon as one leg is a browser (WebRTC): SDP is not passed through, the bridge transcodes.
   */
  independent = false;
  private readonly webrtc: Partial<Record<Leg, WebRtcLeg>> = {};
  /** The SDP we last gave each leg (its answer, or the offer it answered). */
  private readonly lastSdp: Partial<Record<Leg, string>> = {};
  private answerForA: string | undefined;
  private mediaAddress = '';
  /** A leg whose last negotiation is not sendrecv (RFC 3264 8.4 hold): exempt from the media timeout. */
  private readonly held: Record<Leg, boolean> = { A: false, B: false };

  /** Either leg is on hold (a=sendonly / recvonly / inactive or c=0.0.0.0): silence is expected. */
  get onHold(): boolean {
    return this.held.A || this.held.B;
  }

  private constructor(
    readonly bridge: Bridge,
    private readonly local: Record<Leg, LocalPorts>,
    private readonly logger: Logger,
    private readonly onMediaFailure: (reason: string) => void,
  ) {
    this.sessions = { A: new SdpSession({ address: local.A.address, username: 'tonegate' }), B: new SdpSession({ address: local.B.address, username: 'tonegate' }) };
    bridge.events.on('closed', (reason) => {
      if (!this.closed) onMediaFailure(`media bridge closed: ${reason}`);
    });
  }

  static async create(opts: {
    id: string; createBridge: (id: string) => Promise<Bridge>; logger: Logger; onMediaFailure: (reason: string) => void; mediaAddress: string;
    srtpPolicy?: (peerAddress: string) => SrtpPolicy;
  }): Promise<MediaAnchor> {
    const bridge = await opts.createBridge(opts.id);
    try {
      const A = await bridge.addRtpLeg(BRIDGE_LEG.A.id, BRIDGE_LEG.A.role);
      const B = await bridge.addRtpLeg(BRIDGE_LEG.B.id, BRIDGE_LEG.B.role);
      const anchor = new MediaAnchor(bridge, { A, B }, opts.logger, opts.onMediaFailure);
      anchor.mediaAddress = opts.mediaAddress;
      if (opts.srtpPolicy) anchor.srtpPolicy = opts.srtpPolicy;
      return anchor;
    } catch (err) {
      await bridge.close().catch(() => {});
      throw err;
    }
  }

  private anchor(leg: Leg): { address: string; port: number; session: SdpSession } {
    return { address: this.local[leg].address, port: this.local[leg].rtpPort, session: this.sessions[leg] };
  }

  /** An offer from `from`'s peer: returns the offer for the other leg's peer. */
  offer(from: Leg, sdp: string): string | SdpError {
    const parsed = parseSdp(sdp);
    if (isSdpError(parsed)) return parsed;
    const r = rewriteOffer(parsed, this.anchor(otherLeg(from)), { srtp: this.srtpPolicy(parsed.address) });
    if (isSdpError(r)) return r;
    this.pending = { from, sdp: parsed, remote: r.remote, srtp: r.srtp };
    return r.sdp;
  }

  /** The answer from `from`'s peer to the pending offer: returns the answer for the offerer. */
  answer(from: Leg, sdp: string): string | SdpError {
    const offer = this.pending;
    if (!offer || offer.from !== otherLeg(from)) return { error: 'answer without a pending offer', status: 488 };
    const ans = parseSdp(sdp);
    if (isSdpError(ans)) return ans;
    const r = rewriteAnswer(ans, offer.sdp, this.anchor(offer.from), { pendingSrtp: offer.srtp });
    if (isSdpError(r)) return r;
    this.pending = undefined;
    this.held.A = this.held.B = r.hold;
    // The answerer's own payload type for the codec both legs now use (static 0/8 in practice).
    const answererCodec = ans.codecs.find((c) => sameCodec(c, r.codec)) ?? r.codec;
    this.remotes[offer.from] = offer.remote;
    this.remotes[from] = r.remote;
    const codec = r.codec.name.toLowerCase() === 'pcma' ? 'pcma' : 'pcmu';
    this.configure(offer.from, { remote: offer.remote, codec, payloadType: r.codec.pt, telephoneEventPt: r.telephoneEvent?.pt ?? null, ptime: ptimeOf(offer.sdp.ptime ?? r.ptime), srtp: legSrtp(r.srtp) });
    this.configure(from, { remote: r.remote, codec, payloadType: answererCodec.pt, telephoneEventPt: r.peerTelephoneEvent?.pt ?? null, ptime: ptimeOf(ans.ptime ?? r.ptime), srtp: legSrtp(r.peerSrtp) });
    return r.sdp;
  }

  private configure(leg: Leg, cfg: Omit<LegConfig, 'remote'> & { remote: MediaTarget | null }): void {
    const remote = cfg.remote ? { address: cfg.remote.address, port: cfg.remote.port, rtcpPort: cfg.remote.rtcpPort } : null;
    this.bridge.configureLeg(BRIDGE_LEG[leg].id, { ...cfg, remote }).catch((err: unknown) => {
      if (this.closed) return;
      this.logger.error({ err, leg }, 'media leg could not be configured');
      this.onMediaFailure('media leg could not be configured');
    });
  }

  /** The offer was refused by the other side: forget it. */
  abandonOffer(): void {
    this.pending = undefined;
  }

  /**
   * The caller's offer, with the agent's kind known: returns the offer for the agent. Plain RTP on
   * both legs: SDP rewritten through (offer()). A browser on either leg: each leg negotiates with
   * the bridge on its own; the caller's answer is ready now and given by initialAnswer().
   */
  async initialOffer(sdpA: string, agentWebRtc: boolean): Promise<string | SdpError> {
    const callerWebRtc = isWebRtcSdp(sdpA);
    if (!callerWebRtc && !agentWebRtc) return this.offer('A', sdpA);
    this.independent = true;
    if (callerWebRtc) {
      const leg = await this.webrtcLeg('A');
      try {
        this.answerForA = await leg.answer(sdpA);
      } catch (err) {
        // The WebRTC stack's own message is for the log; the caller gets a plain 488 (it becomes
        // the reason phrase), never an internal detail.
        this.logger.warn({ err }, 'WebRTC offer could not be answered');
        return { error: 'the WebRTC offer could not be answered', status: 488 };
      }
    } else {
      const r = this.answerPlain('A', sdpA);
      if (typeof r !== 'string') return r;
      this.answerForA = r;
    }
    this.lastSdp.A = this.answerForA;
    // The caller's leg is encrypted when it is WebRTC (DTLS-SRTP) or answered with SDES.
    const callerEncrypted = callerWebRtc || /^m=audio \d+ RTP\/SAVP /m.test(this.answerForA);
    const offer = agentWebRtc ? await (await this.webrtcLeg('B')).createOffer() : this.plainOffer('B', callerEncrypted);
    this.lastSdp.B = offer;
    return offer;
  }

  /** The agent's answer to initialOffer(): returns the answer for the caller. */
  async initialAnswer(sdpB: string): Promise<string | SdpError> {
    if (!this.independent) return this.answer('B', sdpB);
    const leg = this.webrtc.B;
    if (leg) {
      try {
        await leg.setAnswer(sdpB);
      } catch (err) {
        // As for offers: the WebRTC stack's message is for the log; the caller's 488 Warning says
        // only what failed (RFC 3261 20.43 is for the peer, not for our internals).
        this.logger.warn({ err }, 'the agent\'s WebRTC answer could not be used');
        return { error: 'the agent\'s browser (WebRTC) answer could not be used', status: 488 };
      }
    } else {
      const ans = parseSdp(sdpB);
      if (isSdpError(ans)) return ans;
      const codec = ans.codecs.find((c) => SUPPORTED_CODECS.some((s) => sameCodec(c, { pt: 0, channels: 1, ...s })));
      if (!codec) return { error: 'the answer holds no PCMU or PCMA', status: 488 };
      const remote = ans.nullAddress || ans.rejected ? null : { address: ans.address, port: ans.port, rtcpPort: ans.rtcpPort };
      let srtp: SrtpKeys | null = null;
      if (this.offeredB) {
        const k = acceptAnswerCrypto(ans, this.offeredB);
        if (isSdpError(k)) return k;
        srtp = { local: this.offeredB, remote: k };
      } else if (ans.protocol !== 'RTP/AVP') {
        return { error: `the answer is ${ans.protocol} to our plain RTP/AVP offer`, status: 488 };
      }
      this.configure('B', { remote, codec: codec.name.toLowerCase() === 'pcma' ? 'pcma' : 'pcmu', payloadType: codec.pt, telephoneEventPt: ans.telephoneEvent?.pt ?? null, ptime: ptimeOf(ans.ptime), srtp: legSrtp(srtp) });
    }
    return this.answerForA!;
  }

  /**
   * A re-INVITE on a leg in independent mode (hold/resume): answered by the gateway for that leg
   * alone; the other leg is not disturbed (the bridge keeps both). A browser leg keeps its DTLS and
   * ICE session (RFC 8829 5.3: same transport), so its answer is the SDP it has, with the direction
   * reversed from the offer's.
   */
  answerLocally(leg: Leg, sdp: string): string | SdpError {
    const w = this.webrtc[leg];
    if (w) {
      const offer = parseSdp(sdp);
      const dir = isSdpError(offer) ? 'sendrecv' : reverseDirection(effectiveDirection(offer));
      this.held[leg] = dir !== 'sendrecv';
      const last = this.lastSdp[leg] ?? '';
      const setup = /a=setup:(active|passive)/.exec(sdp)?.[1];
      return last
        .replace(/a=(sendrecv|sendonly|recvonly|inactive)/g, `a=${dir}`)
        .replace(/a=setup:actpass/g, `a=setup:${setup === 'active' ? 'passive' : 'active'}`);
    }
    return this.answerPlain(leg, sdp);
  }

  /** The gateway answers a plain RTP offer on `leg` itself and configures the bridge leg. */
  private answerPlain(leg: Leg, sdp: string): string | SdpError {
    const parsed = parseSdp(sdp);
    if (isSdpError(parsed)) return parsed;
    const r = answerOffer(parsed, this.anchor(leg), { srtp: this.srtpPolicy(parsed.address) });
    if (isSdpError(r)) return r;
    this.held[leg] = r.hold;
    this.configure(leg, {
      remote: r.remote, codec: r.codec.name.toLowerCase() === 'pcma' ? 'pcma' : 'pcmu', payloadType: r.codec.pt,
      telephoneEventPt: r.telephoneEvent?.pt ?? null, ptime: ptimeOf(r.ptime), srtp: legSrtp(r.srtp),
    });
    this.lastSdp[leg] = r.sdp;
    return r.sdp;
  }

  /**
   * The gateway's own offer for a SIP `leg`: PCMU, PCMA and telephone-event (RFC 4733), as RTP/SAVP
   * with a fresh SDES key when the policy is `required`, or `offer` and the caller's leg is
   * encrypted; plain RTP/AVP otherwise. The agent's media address is not known before it answers,
   * so the policy is asked for an unknown (non-loopback) peer.
   */
  private plainOffer(leg: Leg, callerEncrypted: boolean): string {
    const a = this.anchor(leg);
    const policy = this.srtpPolicy('');
    this.offeredB = policy === 'required' || (policy === 'offer' && callerEncrypted) ? newSdesKey('AES_CM_128_HMAC_SHA1_80', 1) : null;
    const codecs: Codec[] = [
      { pt: 0, name: 'PCMU', rate: 8000, channels: 1 },
      { pt: 8, name: 'PCMA', rate: 8000, channels: 1 },
      { pt: DEFAULT_TELEPHONE_EVENT_PT, name: 'telephone-event', rate: 8000, channels: 1, fmtp: '0-15' },
    ];
    return a.session.render({ port: a.port, codecs, ptime: 20, direction: 'sendrecv', crypto: this.offeredB }, a.address);
  }

  /** A browser leg: DTLS-SRTP at the gateway, plain RTP on loopback into the bridge leg. */
  private async webrtcLeg(leg: Leg): Promise<WebRtcLeg> {
    const w = await WebRtcLeg.create({ mediaAddress: this.mediaAddress, id: `${this.bridge.id}|${leg}`, logger: this.logger });
    this.webrtc[leg] = w;
    w.events.on('failed', (why) => {
      if (!this.closed) this.onMediaFailure(`WebRTC leg ${leg} failed: ${why}`);
    });
    w.setPlainTarget({ address: this.local[leg].address, port: this.local[leg].rtpPort });
    this.configure(leg, { remote: { address: w.plainLocal.address, port: w.plainLocal.port, rtcpPort: w.plainLocal.rtcpPort }, codec: 'pcmu', payloadType: 0, telephoneEventPt: 101, ptime: 20 });
    return w;
  }

  close(): Promise<void> {
    this.closed = true;
    const legs = Object.values(this.webrtc).map((w) => w.close('call ended').catch(() => {}));
    return Promise.all([...legs, this.bridge.close().catch((err: unknown) => this.logger.warn({ err }, 'media bridge close failed'))]).then(() => {});
  }
}

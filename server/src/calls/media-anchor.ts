import type { Logger } from '../observability/logger.js';
import type { Bridge, LegConfig, LocalPorts } from '../media/plane.js';
import {
  isSdpError, parseSdp, rewriteAnswer, rewriteOffer, SdpSession,
  type Codec, type MediaTarget, type ParsedSdp, type SdpError,
} from '../sdp/index.js';

export type Leg = 'A' | 'B';
export const otherLeg = (l: Leg): Leg => (l === 'A' ? 'B' : 'A');

/** Leg A is the caller (the customer), leg B the agent: their ids and roles on the media bridge. */
export const BRIDGE_LEG: Record<Leg, { id: string; role: 'customer' | 'agent' }> = {
  A: { id: 'customer', role: 'customer' },
  B: { id: 'agent', role: 'agent' },
};

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
  private pending: { from: Leg; sdp: ParsedSdp; remote: MediaTarget | null } | undefined;
  /** Where each leg's peer wants media, as last signalled. */
  private readonly remotes: Record<Leg, MediaTarget | null> = { A: null, B: null };
  private closed = false;

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

  static async create(opts: { id: string; createBridge: (id: string) => Promise<Bridge>; logger: Logger; onMediaFailure: (reason: string) => void }): Promise<MediaAnchor> {
    const bridge = await opts.createBridge(opts.id);
    try {
      const A = await bridge.addRtpLeg(BRIDGE_LEG.A.id, BRIDGE_LEG.A.role);
      const B = await bridge.addRtpLeg(BRIDGE_LEG.B.id, BRIDGE_LEG.B.role);
      return new MediaAnchor(bridge, { A, B }, opts.logger, opts.onMediaFailure);
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
    const r = rewriteOffer(parsed, this.anchor(otherLeg(from)));
    if (isSdpError(r)) return r;
    this.pending = { from, sdp: parsed, remote: r.remote };
    return r.sdp;
  }

  /** The answer from `from`'s peer to the pending offer: returns the answer for the offerer. */
  answer(from: Leg, sdp: string): string | SdpError {
    const offer = this.pending;
    if (!offer || offer.from !== otherLeg(from)) return { error: 'answer without a pending offer', status: 488 };
    const ans = parseSdp(sdp);
    if (isSdpError(ans)) return ans;
    const r = rewriteAnswer(ans, offer.sdp, this.anchor(offer.from));
    if (isSdpError(r)) return r;
    this.pending = undefined;
    // The answerer's own payload type for the codec both legs now use (static 0/8 in practice).
    const answererCodec = ans.codecs.find((c) => sameCodec(c, r.codec)) ?? r.codec;
    this.remotes[offer.from] = offer.remote;
    this.remotes[from] = r.remote;
    const codec = r.codec.name.toLowerCase() === 'pcma' ? 'pcma' : 'pcmu';
    this.configure(offer.from, { remote: offer.remote, codec, payloadType: r.codec.pt, telephoneEventPt: r.telephoneEvent?.pt ?? null, ptime: ptimeOf(offer.sdp.ptime ?? r.ptime) });
    this.configure(from, { remote: r.remote, codec, payloadType: answererCodec.pt, telephoneEventPt: r.peerTelephoneEvent?.pt ?? null, ptime: ptimeOf(ans.ptime ?? r.ptime) });
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

  close(): Promise<void> {
    this.closed = true;
    return this.bridge.close().catch((err: unknown) => this.logger.warn({ err }, 'media bridge close failed'));
  }
}

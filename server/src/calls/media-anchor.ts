import type { Logger } from '../observability/logger.js';
import { createRelay, type PortAllocator, type Relay, type LegId } from '../media/relay/index.js';
import { isSdpError, parseSdp, rewriteAnswer, rewriteOffer, SdpSession, type ParsedSdp, type SdpError } from '../sdp/index.js';

export type Leg = LegId;
export const otherLeg = (l: Leg): Leg => (l === 'A' ? 'B' : 'A');

/**
 * Anchors one call's media at the gateway: the SDP each peer sees names our relay ports
 * (RFC 3264 offer/answer through a B2BUA), and the relay forwards RTP between the legs.
 */
export class MediaAnchor {
  private readonly sessions: Record<Leg, SdpSession>;
  private pending: { from: Leg; sdp: ParsedSdp } | undefined;

  private constructor(
    readonly relay: Relay,
    private readonly address: string,
  ) {
    this.sessions = { A: new SdpSession({ address, username: 'tonegate' }), B: new SdpSession({ address, username: 'tonegate' }) };
  }

  static async create(opts: { address: string; allocator: PortAllocator; logger: Logger }): Promise<MediaAnchor> {
    const relay = await createRelay({ address: opts.address, allocator: opts.allocator, logger: opts.logger });
    return new MediaAnchor(relay, opts.address);
  }

  private anchor(leg: Leg): { address: string; port: number; session: SdpSession } {
    const l = leg === 'A' ? this.relay.legA : this.relay.legB;
    return { address: this.address, port: l.local.rtpPort, session: this.sessions[leg] };
  }

  /** An offer from `from`'s peer: returns the offer for the other leg's peer. */
  offer(from: Leg, sdp: string): string | SdpError {
    const parsed = parseSdp(sdp);
    if (isSdpError(parsed)) return parsed;
    const r = rewriteOffer(parsed, this.anchor(otherLeg(from)));
    if (isSdpError(r)) return r;
    if (r.remote) this.relay.setRemote(from, { address: r.remote.address, port: r.remote.port, rtcpPort: r.remote.rtcpPort });
    this.pending = { from, sdp: parsed };
    return r.sdp;
  }

  /** The answer from `from`'s peer to the pending offer: returns the answer for the offerer. */
  answer(from: Leg, sdp: string): string | SdpError {
    const offer = this.pending;
    if (!offer || offer.from !== otherLeg(from)) return { error: 'answer without a pending offer', status: 488 };
    const r = rewriteAnswer(sdp, offer.sdp, this.anchor(offer.from));
    if (isSdpError(r)) return r;
    if (r.remote) this.relay.setRemote(from, { address: r.remote.address, port: r.remote.port, rtcpPort: r.remote.rtcpPort });
    this.pending = undefined;
    return r.sdp;
  }

  /** The offer was refused by the other side: forget it. */
  abandonOffer(): void {
    this.pending = undefined;
  }

  close(): Promise<void> {
    return this.relay.close();
  }
}

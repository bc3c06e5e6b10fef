/**
 * A lossy network for one call leg (bench:faults): a UDP proxy the customer sends its RTP to. Each
 * packet from the customer is forwarded to the gateway's RTP address, dropped (seeded random, `loss`),
 * or held back and sent after the next one or two packets from the customer (`reorder`: RFC 3550
 * receivers see it out of sequence). Packets from the gateway go back to the last customer address
 * untouched; the gateway latches onto the proxy's address (symmetric RTP), so both directions run
 * through it. Counts what it did.
 */
import { createSocket, type RemoteInfo, type Socket } from 'node:dgram';
import { prng } from '../../devtools/prng.js';

export interface LossProxyOptions {
  /** Probability a customer packet is dropped (0..1). */
  loss: number;
  /** Probability a forwarded customer packet is held back one or two packet times (0..1). */
  reorder: number;
  /** PRNG seed (same seed, same fate for the same packet sequence). */
  seed: number;
  /** Where customer packets go; may be set later with {@link LossProxy.setTarget}. */
  target?: { address: string; port: number };
}

export interface LossProxyStats {
  /** Customer packets received by the proxy. */
  received: number;
  /** Customer packets sent on to the gateway (reordered ones included). */
  forwarded: number;
  dropped: number;
  /** Customer packets sent late (after one or two later packets). */
  reordered: number;
  /** Gateway packets sent back to the customer. */
  returned: number;
}

/** Longest a held packet waits for later packets: a little over two 20 ms packet times. */
const HOLD_MAX_MS = 50;

interface Held {
  packet: Buffer;
  /** Customer packets still to pass before this one goes. */
  after: number;
  /** Sends it anyway when the customer goes quiet (after the last key's end packets). */
  timer: NodeJS.Timeout;
}

export class LossProxy {
  readonly stats: LossProxyStats = { received: 0, forwarded: 0, dropped: 0, reordered: 0, returned: 0 };
  private target: { address: string; port: number } | undefined;
  private customer: { address: string; port: number } | undefined;
  private readonly held: Held[] = [];
  private readonly random: () => number;
  private closed = false;

  private constructor(
    private readonly socket: Socket,
    private readonly o: LossProxyOptions,
  ) {
    this.random = prng(o.seed);
    this.target = o.target;
    socket.on('message', (m, r) => this.onMessage(m, r));
  }

  static async open(o: LossProxyOptions, host = '127.0.0.1'): Promise<LossProxy> {
    const s = createSocket('udp4');
    await new Promise<void>((resolve, reject) => {
      s.once('error', reject);
      s.bind(0, host, () => {
        s.off('error', reject);
        resolve();
      });
    });
    s.on('error', () => {}); // ICMP port unreachable after a peer closed: nothing to do
    return new LossProxy(s, o);
  }

  /** The proxy's address: the customer sends here, and the gateway answers here. */
  get address(): { address: string; port: number } {
    const a = this.socket.address();
    return { address: a.address, port: a.port };
  }

  setTarget(t: { address: string; port: number }): void {
    this.target = t;
  }

  private fromGateway(r: RemoteInfo): boolean {
    return !!this.target && r.port === this.target.port && r.address === this.target.address;
  }

  private onMessage(m: Buffer, r: RemoteInfo): void {
    if (this.closed) return;
    if (this.fromGateway(r)) {
      if (this.customer) {
        this.stats.returned++;
        this.socket.send(m, this.customer.port, this.customer.address);
      }
      return;
    }
    this.customer = { address: r.address, port: r.port };
    this.stats.received++;
    if (!this.target) {
      this.stats.dropped++;
      return;
    }
    // Packets already held go after this one, once their count runs out.
    const due: Buffer[] = [];
    for (let i = 0; i < this.held.length; ) {
      const h = this.held[i]!;
      if (--h.after <= 0) {
        clearTimeout(h.timer);
        due.push(this.held.splice(i, 1)[0]!.packet);
      } else i++;
    }
    const x = this.random();
    if (x < this.o.loss) {
      this.stats.dropped++;
    } else if (x < this.o.loss + this.o.reorder) {
      this.stats.reordered++;
      const h: Held = {
        packet: m,
        after: this.random() < 0.5 ? 1 : 2,
        timer: setTimeout(() => {
          const i = this.held.indexOf(h);
          if (i >= 0) this.forward(this.held.splice(i, 1)[0]!.packet);
        }, HOLD_MAX_MS),
      };
      this.held.push(h);
    } else {
      this.forward(m);
    }
    for (const p of due) this.forward(p);
  }

  private forward(p: Buffer): void {
    if (!this.target) return;
    this.stats.forwarded++;
    this.socket.send(p, this.target.port, this.target.address);
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    for (const h of this.held.splice(0)) clearTimeout(h.timer);
    this.socket.close();
  }
}

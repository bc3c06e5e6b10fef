import dgram from 'node:dgram';
import net from 'node:net';
import type { TransportContext } from './context.js';
import { udpFlowId } from './endpoint.js';
import { isOnlyLineEnds } from './framer.js';
import type { Endpoint, SipFlow } from './types.js';

/**
 * SIP over UDP (RFC 3261 18): one socket, each datagram is one message (18.3: no framing needed;
 * Content-Length is checked by the message layer). Flows are not stored: a flow is just the
 * remote address:port (RFC 3581 symmetric response routing), so a flood of source ports costs no
 * memory. A flow object is made per datagram and `flowFor()` rebuilds one from an id.
 */
export class UdpTransport {
  private closed = false;
  private closing: Promise<void> | undefined;
  readonly local: Endpoint;

  private constructor(
    private readonly ctx: TransportContext,
    private readonly socket: dgram.Socket,
    advertisedHost: string,
  ) {
    this.local = { address: advertisedHost, port: socket.address().port };
    socket.on('message', (data, rinfo) => this.onDatagram(data, rinfo));
    // A send error on UDP (e.g. ICMP port unreachable surfacing as ECONNREFUSED) must never crash.
    socket.on('error', (err) => this.ctx.logger.warn({ err }, 'sip udp socket error'));
  }

  /** Binds a UDP socket on host:port; rejects (EADDRINUSE, ...) without leaving a socket open. */
  static bind(ctx: TransportContext, host: string, port: number): Promise<UdpTransport> {
    const socket = dgram.createSocket({ type: net.isIPv6(host) ? 'udp6' : 'udp4' });
    return new Promise((resolve, reject) => {
      const onError = (err: Error) => {
        socket.removeListener('listening', onListening);
        socket.close();
        reject(err);
      };
      const onListening = () => {
        socket.removeListener('error', onError);
        resolve(new UdpTransport(ctx, socket, host));
      };
      socket.once('error', onError);
      socket.once('listening', onListening);
      socket.bind({ address: host, port, exclusive: true });
    });
  }

  get port(): number {
    return this.local.port;
  }

  get isOpen(): boolean {
    return !this.closed;
  }

  /** A flow to `remote` on the listening socket (RFC 3261 18.1.1: requests leave from our port). */
  flowFor(remote: Endpoint): SipFlow {
    return new UdpFlow(this, { address: remote.address, port: remote.port });
  }

  sendTo(remote: Endpoint, message: string): boolean {
    if (this.closed) return false;
    const data = Buffer.from(message, 'utf8');
    try {
      this.socket.send(data, remote.port, remote.address, (err) => {
        if (err) this.ctx.logger.warn({ err, to: `${remote.address}:${remote.port}`, bytes: data.length }, 'sip udp send failed');
      });
      return true;
    } catch (err) {
      // Synchronous failures: bad port or address, socket already closed.
      this.ctx.logger.warn({ err, to: `${remote.address}:${remote.port}` }, 'sip udp send failed');
      return false;
    }
  }

  private onDatagram(data: Buffer, rinfo: dgram.RemoteInfo): void {
    if (this.closed) return;
    const max = this.ctx.limits.MAX_MESSAGE_BYTES;
    if (data.length > max) {
      this.ctx.stats.udpOversizeDropped++;
      this.ctx.logger.debug({ from: `${rinfo.address}:${rinfo.port}`, bytes: data.length, max }, 'sip udp datagram too large, dropped');
      return;
    }
    // Empty datagrams and bare CRLF keep-alives (sent by some UAs over UDP) carry no message.
    if (isOnlyLineEnds(data)) return;
    this.ctx.stats.udpReceived++;
    this.ctx.deliver(data, this.flowFor({ address: rinfo.address, port: rinfo.port }));
  }

  close(): Promise<void> {
    this.closing ??= new Promise((resolve) => {
      this.closed = true;
      try {
        this.socket.close(() => resolve());
      } catch {
        resolve(); // already closed
      }
    });
    return this.closing;
  }
}

class UdpFlow implements SipFlow {
  readonly protocol = 'UDP' as const;
  readonly reliable = false;
  readonly id: string;

  constructor(
    private readonly transport: UdpTransport,
    readonly remote: Endpoint,
  ) {
    this.id = udpFlowId(remote);
  }

  get local(): Endpoint {
    return this.transport.local;
  }

  get open(): boolean {
    return this.transport.isOpen;
  }

  send(message: string): boolean {
    return this.transport.sendTo(this.remote, message);
  }
}

import net from 'node:net';
import type { TimerHandle } from '../../lib/clock.js';
import type { TransportContext } from './context.js';
import { endpointKey } from './endpoint.js';
import { TcpConnection } from './tcp-connection.js';
import type { Endpoint, SipFlow, TlsPeer } from './types.js';

/**
 * How long an outbound TCP connect may take. A failed connect is a transport error that the
 * transaction layer reports at once (RFC 3261 18.4, 17.1.4), well before Timer B/F (32 s).
 */
export const CONNECT_TIMEOUT_MS = 5_000;

type PendingDial = { socket: net.Socket; timer: TimerHandle; reject: (err: Error) => void };

/**
 * What differs between SIP over TCP and SIP over TLS (tls.ts): the server's accept event, how an
 * outbound socket is opened and when it is ready, and what the peer proved. Framing, limits and
 * connection reuse are the same (RFC 3261 26.2: TLS carries the TCP byte stream).
 */
export interface StreamKind {
  readonly protocol: 'TCP' | 'TLS';
  readonly prefix: 'tcp' | 'tls';
  /** The server event with a ready socket: `connection` (TCP) or `secureConnection` (TLS, after the handshake). */
  readonly acceptEvent: 'connection' | 'secureConnection';
  /** Opens an outbound socket; it is ready on `readyEvent`. */
  open(target: Endpoint): net.Socket;
  readonly readyEvent: 'connect' | 'secureConnect';
  /** TLS: what the peer's certificate proved; an Error refuses the connection (outbound: an untrusted server). */
  peer?(socket: net.Socket, direction: 'in' | 'out'): TlsPeer | Error;
  /** TLS: a check that the peer's certificate names a host (for RFC 5923 aliases). */
  certifies?(socket: net.Socket): (host: string) => boolean;
}

export const TCP_KIND: StreamKind = {
  protocol: 'TCP',
  prefix: 'tcp',
  acceptEvent: 'connection',
  open: (target) => net.connect({ host: target.address, port: target.port }),
  readyEvent: 'connect',
};

/** SIP over TCP or TLS (RFC 3261 18, 26): the listening server plus outbound connections (18.1.1). */
export class TcpTransport {
  readonly local: Endpoint;
  /** Outbound connects in progress, by target, so concurrent flowTo() calls share one connection. */
  private readonly dialing = new Map<string, Promise<TcpConnection>>();
  private readonly dials = new Set<PendingDial>();
  private closing: Promise<void> | undefined;

  private constructor(
    private readonly ctx: TransportContext,
    private readonly server: net.Server,
    advertisedHost: string,
    private readonly kind: StreamKind,
  ) {
    this.local = { address: advertisedHost, port: (server.address() as net.AddressInfo).port };
    server.on(kind.acceptEvent, (socket: net.Socket) => this.onConnection(socket));
    server.on('error', (err) => ctx.logger.warn({ err }, `sip ${kind.prefix} server error`));
  }

  static listen(ctx: TransportContext, host: string, port: number, kind: StreamKind = TCP_KIND, server: net.Server = net.createServer()): Promise<TcpTransport> {
    return new Promise((resolve, reject) => {
      const onError = (err: Error) => reject(err);
      server.once('error', onError);
      server.listen({ host, port, exclusive: true }, () => {
        server.removeListener('error', onError);
        resolve(new TcpTransport(ctx, server, host, kind));
      });
    });
  }

  get port(): number {
    return this.local.port;
  }

  /** RFC 3261 18.1.1 / 18.2.2: reuse an open connection to target (either direction), else connect. */
  connect(target: Endpoint): Promise<SipFlow> {
    const existing = this.ctx.findOpen(this.kind.protocol, target);
    if (existing) return Promise.resolve(existing);
    const key = endpointKey(target);
    let p = this.dialing.get(key);
    if (!p) {
      p = this.dial(target).finally(() => this.dialing.delete(key));
      this.dialing.set(key, p);
    }
    return p;
  }

  private dial(target: Endpoint): Promise<TcpConnection> {
    const to = `${target.address}:${target.port}`;
    if (this.ctx.isClosing()) return Promise.reject(new Error('SIP transport is closed'));
    if (!this.ctx.hasRoom(this.dialing.size)) {
      this.ctx.stats.connectionsRejected++;
      return Promise.reject(new Error(`cannot connect to ${to}: MAX_CONNECTIONS reached`));
    }
    return new Promise<TcpConnection>((resolve, reject) => {
      const proto = this.kind.protocol;
      const socket = this.kind.open(target);
      const dial: PendingDial = {
        socket,
        reject,
        timer: this.ctx.clock.setTimeout(() => fail(new Error(`${proto} connect to ${to} timed out`)), CONNECT_TIMEOUT_MS),
      };
      this.dials.add(dial);
      const done = () => {
        dial.timer.cancel();
        this.dials.delete(dial);
        socket.removeListener('error', onError);
      };
      const fail = (err: Error) => {
        done();
        socket.on('error', () => {}); // late errors of a socket we gave up on
        socket.destroy();
        reject(err);
      };
      const onError = (err: Error) => fail(new Error(`${proto} connect to ${to} failed: ${err.message}`));
      dial.reject = fail;
      socket.once('error', onError);
      socket.once(this.kind.readyEvent, () => {
        const peer = this.kind.peer?.(socket, 'out');
        if (peer instanceof Error) return fail(new Error(`${proto} connect to ${to} refused: ${peer.message}`));
        done();
        if (proto === 'TLS') this.ctx.stats.tlsConnected++;
        else this.ctx.stats.tcpConnected++;
        resolve(new TcpConnection(this.ctx, socket, this.ctx.nextConnectionId(this.kind.prefix), proto, peer, this.kind.certifies?.(socket)));
      });
    });
  }

  private onConnection(socket: net.Socket): void {
    if (this.ctx.isClosing() || !this.ctx.hasRoom(this.dialing.size, socket.remoteAddress)) {
      socket.on('error', () => {});
      socket.destroy();
      if (!this.ctx.isClosing()) {
        this.ctx.stats.connectionsRejected++;
        this.ctx.logger.warn({ remote: `${socket.remoteAddress}:${socket.remotePort}` }, `sip ${this.kind.prefix} connection refused: MAX_CONNECTIONS or MAX_CONNECTIONS_PER_IP reached`);
      }
      return;
    }
    const peer = this.kind.peer?.(socket, 'in');
    if (peer instanceof Error) {
      socket.on('error', () => {});
      socket.destroy();
      this.ctx.logger.info({ remote: `${socket.remoteAddress}:${socket.remotePort}`, reason: peer.message }, `sip ${this.kind.prefix} connection refused`);
      return;
    }
    if (this.kind.protocol === 'TLS') this.ctx.stats.tlsAccepted++;
    else this.ctx.stats.tcpAccepted++;
    new TcpConnection(this.ctx, socket, this.ctx.nextConnectionId(this.kind.prefix), this.kind.protocol, peer, this.kind.certifies?.(socket));
  }

  /** Stops listening and abandons connects in progress; the layer closes open connections. */
  close(): Promise<void> {
    this.closing ??= new Promise<void>((resolve) => {
      for (const d of [...this.dials]) d.reject(new Error('SIP transport is closed'));
      this.server.close(() => resolve());
    });
    return this.closing;
  }
}

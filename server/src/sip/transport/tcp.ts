import net from 'node:net';
import type { TimerHandle } from '../../lib/clock.js';
import type { TransportContext } from './context.js';
import { endpointKey } from './endpoint.js';
import { TcpConnection } from './tcp-connection.js';
import type { Endpoint, SipFlow } from './types.js';

/**
 * How long an outbound TCP connect may take. A failed connect is a transport error that the
 * transaction layer reports at once (RFC 3261 18.4, 17.1.4), well before Timer B/F (32 s).
 */
export const CONNECT_TIMEOUT_MS = 5_000;

type PendingDial = { socket: net.Socket; timer: TimerHandle; reject: (err: Error) => void };

/** SIP over TCP (RFC 3261 18): the listening server plus outbound connections (18.1.1). */
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
  ) {
    this.local = { address: advertisedHost, port: (server.address() as net.AddressInfo).port };
    server.on('connection', (socket) => this.onConnection(socket));
    server.on('error', (err) => ctx.logger.warn({ err }, 'sip tcp server error'));
  }

  static listen(ctx: TransportContext, host: string, port: number): Promise<TcpTransport> {
    const server = net.createServer();
    return new Promise((resolve, reject) => {
      const onError = (err: Error) => reject(err);
      server.once('error', onError);
      server.listen({ host, port, exclusive: true }, () => {
        server.removeListener('error', onError);
        resolve(new TcpTransport(ctx, server, host));
      });
    });
  }

  get port(): number {
    return this.local.port;
  }

  /** RFC 3261 18.1.1 / 18.2.2: reuse an open connection to target (either direction), else connect. */
  connect(target: Endpoint): Promise<SipFlow> {
    const existing = this.ctx.findOpen('TCP', target);
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
      const socket = net.connect({ host: target.address, port: target.port });
      const dial: PendingDial = {
        socket,
        reject,
        timer: this.ctx.clock.setTimeout(() => fail(new Error(`TCP connect to ${to} timed out`)), CONNECT_TIMEOUT_MS),
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
      const onError = (err: Error) => fail(new Error(`TCP connect to ${to} failed: ${err.message}`));
      dial.reject = fail;
      socket.once('error', onError);
      socket.once('connect', () => {
        done();
        this.ctx.stats.tcpConnected++;
        resolve(new TcpConnection(this.ctx, socket, this.ctx.nextConnectionId('tcp')));
      });
    });
  }

  private onConnection(socket: net.Socket): void {
    if (this.ctx.isClosing() || !this.ctx.hasRoom(this.dialing.size, socket.remoteAddress)) {
      socket.on('error', () => {});
      socket.destroy();
      if (!this.ctx.isClosing()) {
        this.ctx.stats.connectionsRejected++;
        this.ctx.logger.warn({ remote: `${socket.remoteAddress}:${socket.remotePort}` }, 'sip tcp connection refused: MAX_CONNECTIONS or MAX_CONNECTIONS_PER_IP reached');
      }
      return;
    }
    this.ctx.stats.tcpAccepted++;
    new TcpConnection(this.ctx, socket, this.ctx.nextConnectionId('tcp'));
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

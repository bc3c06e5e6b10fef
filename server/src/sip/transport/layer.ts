import type http from 'node:http';
import { systemClock, type Clock } from '../../lib/clock.js';
import type { Logger } from '../../observability/logger.js';
import { TransportLimits } from '../constants.js';
import { newStats, type ConnectionFlow, type Limits, type TransportContext, type TransportStats } from './context.js';
import { endpointKey, parseUdpFlowId, sameEndpoint } from './endpoint.js';
import { TcpTransport } from './tcp.js';
import { TlsTransportParts, type TlsTransportOptions } from './tls.js';
import type { Endpoint, InboundMessage, SipFlow, SipProtocol, TransportLayer } from './types.js';
import { UdpTransport } from './udp.js';
import { WsTransport } from './ws.js';

export interface TransportLayerOptions {
  /** Address to bind UDP and TCP on, also advertised by localEndpoint(). */
  host: string;
  /** UDP and TCP port (the same number for both); 0 picks a free one. */
  port: number;
  /** When given, SIP over WebSocket (RFC 7118) is accepted on it at `wsPath`. */
  httpServer?: http.Server;
  wsPath?: string;
  /** When given, SIP over TLS (RFC 3261 26.2) listens on `tls.port` of `host` (0 picks a free one). */
  tls?: TlsTransportOptions & { port: number };
  logger: Logger;
  limits?: Partial<Limits>;
  clock?: Clock;
  /**
   * Browser pages that may open `/sip` (the `Origin` of the handshake, `Host` header); absent:
   * any. A handshake without Origin (not a browser) is always let through to digest auth.
   */
  wsOriginAllowed?: (origin: string | undefined, host: string | undefined) => boolean;
}

/** How many times port 0 is retried when the UDP port matching the chosen TCP port is taken. */
const PORT_ATTEMPTS = 10;

/**
 * UDP, TCP and WebSocket transports behind one {@link TransportLayer}. Inbound messages go to a
 * single consumer; responses go back on the flow the request came on (RFC 3261 18.2.2, RFC 3581,
 * RFC 7118 5). `close()` is idempotent and closes sockets, connections and timers.
 */
export class TransportLayerImpl implements TransportLayer {
  private messageHandler: ((m: InboundMessage) => void) | undefined;
  private readonly closedHandlers: ((flow: SipFlow, reason: string) => void)[] = [];
  private readonly connections = new Map<string, ConnectionFlow>();
  /** RFC 5923 aliases: `address:port` a TLS peer named as its sent-by -> the connection it offered. */
  private readonly aliases = new Map<string, ConnectionFlow>();
  private readonly counters: TransportStats = newStats();
  private seq = 0;
  private closing: Promise<void> | undefined;
  private udp!: UdpTransport;
  private tcp!: TcpTransport;
  private ws: WsTransport | undefined;
  private tls: { parts: TlsTransportParts; transport: TcpTransport } | undefined;
  readonly ctx: TransportContext;

  constructor(
    private readonly logger: Logger,
    readonly limits: Limits,
    clock: Clock,
  ) {
    this.ctx = {
      logger, limits, clock, stats: this.counters,
      isClosing: () => this.closing !== undefined,
      deliver: (data, flow) => this.deliver(data, flow),
      hasRoom: (pending = 0, address) => this.connections.size + pending < limits.MAX_CONNECTIONS && (address === undefined || this.connectionsFrom(address) < limits.MAX_CONNECTIONS_PER_IP),
      register: (conn) => void this.connections.set(conn.id, conn),
      unregister: (conn, reason) => this.unregister(conn, reason),
      nextConnectionId: (prefix) => `${prefix}:${++this.seq}`,
      findOpen: (protocol, target) => {
        for (const c of this.connections.values()) {
          if (c.protocol === protocol && c.open && sameEndpoint(c.remote, target)) return c;
        }
        const alias = this.aliases.get(endpointKey(target));
        return alias && alias.protocol === protocol && alias.open ? alias : undefined;
      },
    };
  }

  /** Binds UDP and TCP (and hooks WS); used by {@link createTransportLayer}. */
  async start(opts: TransportLayerOptions): Promise<void> {
    for (let attempt = 1; ; attempt++) {
      const tcp = await TcpTransport.listen(this.ctx, opts.host, opts.port);
      try {
        this.udp = await UdpTransport.bind(this.ctx, opts.host, tcp.port);
        this.tcp = tcp;
        break;
      } catch (err) {
        await tcp.close();
        const inUse = (err as NodeJS.ErrnoException).code === 'EADDRINUSE';
        if (opts.port !== 0 || !inUse || attempt >= PORT_ATTEMPTS) throw err;
      }
    }
    if (opts.tls) {
      const parts = new TlsTransportParts(this.ctx, opts.tls);
      this.tls = { parts, transport: await parts.listen(opts.host, opts.tls.port) };
    }
    if (opts.httpServer) this.ws = new WsTransport(this.ctx, opts.httpServer, opts.wsPath ?? '/sip', opts.wsOriginAllowed);
  }

  /** The SIP over TLS port, undefined when TLS is off. */
  get tlsPort(): number | undefined {
    return this.tls?.transport.port;
  }

  /** A renewed certificate for SIP over TLS: new connections use it, open ones are kept. */
  setTlsCredentials(cert: Buffer, key: Buffer): void {
    this.tls?.parts.setCredentials(cert, key);
  }

  get udpPort(): number {
    return this.udp.port;
  }

  get tcpPort(): number {
    return this.tcp.port;
  }

  /** Open TCP + WS connections whose remote is `address`. */
  private connectionsFrom(address: string): number {
    let n = 0;
    for (const c of this.connections.values()) if (c.remote.address === address) n++;
    return n;
  }

  /** A snapshot of the transport counters. */
  stats(): TransportStats & { connections: number } {
    return { ...this.counters, connections: this.connections.size };
  }

  onMessage(handler: (m: InboundMessage) => void): void {
    this.messageHandler = handler;
  }

  onFlowClosed(handler: (flow: SipFlow, reason: string) => void): void {
    this.closedHandlers.push(handler);
  }

  async flowTo(protocol: SipProtocol, target: Endpoint): Promise<SipFlow> {
    if (this.closing) throw new Error('SIP transport is closed');
    switch (protocol) {
      case 'UDP':
        return this.udp.flowFor(target);
      case 'TCP':
        return this.tcp.connect(target);
      case 'TLS':
        // RFC 3261 26.2 / RFC 5923: an open TLS connection to the target (e.g. the one an agent
        // registered on) is reused; otherwise a new one, checked as RFC 5922 says.
        if (!this.tls) throw new Error('SIP over TLS is not enabled (no certificate)');
        return this.tls.transport.connect(target);
      case 'WS': {
        // RFC 7118: the server cannot open WebSocket connections; only an existing one will do.
        const conn = this.ctx.findOpen('WS', target);
        if (conn) return conn;
        throw new Error(`no open SIP WebSocket connection from ${target.address}:${target.port}`);
      }
    }
  }

  /**
   * RFC 5923 4-5: a request on a TLS connection whose top Via has `alias` offers that connection
   * for requests to its sent-by. It is taken only when the peer's certificate is trusted and names
   * the sent-by host (5.3), so nobody can capture another host's traffic. Returns whether it was.
   */
  addAlias(flow: SipFlow, sentBy: Endpoint): boolean {
    const conn = this.connections.get(flow.id);
    if (!conn || conn.protocol !== 'TLS' || !conn.certifies?.(sentBy.address)) return false;
    this.aliases.set(endpointKey(sentBy), conn);
    return true;
  }

  getFlow(id: string): SipFlow | undefined {
    const conn = this.connections.get(id);
    if (conn) return conn;
    const remote = parseUdpFlowId(id);
    return remote && !this.closing ? this.udp.flowFor(remote) : undefined;
  }

  localEndpoint(protocol: SipProtocol): Endpoint {
    switch (protocol) {
      case 'UDP':
        return { ...this.udp.local };
      case 'TCP':
        return { ...this.tcp.local };
      case 'TLS':
        if (!this.tls) throw new Error('SIP over TLS is not enabled (no certificate)');
        return { ...this.tls.transport.local };
      case 'WS':
        if (!this.ws) throw new Error('SIP over WebSocket is not enabled (no httpServer)');
        return this.ws.local;
    }
  }

  close(): Promise<void> {
    this.closing ??= this.shutdown();
    return this.closing;
  }

  private async shutdown(): Promise<void> {
    this.ws?.close();
    const conns = [...this.connections.values()];
    for (const conn of conns) conn.close('transport closed');
    await Promise.all([this.udp?.close(), this.tcp?.close(), this.tls?.transport.close(), ...conns.map((c) => c.finished)]);
    this.messageHandler = undefined;
  }

  private deliver(data: Buffer, flow: SipFlow): void {
    const handler = this.messageHandler;
    if (!handler) {
      this.logger.debug({ flow: flow.id }, 'sip message dropped: no consumer');
      return;
    }
    // design.md practice 8: a consumer's exception never takes the transport down.
    try {
      handler({ data, flow });
    } catch (err) {
      this.logger.error({ err, flow: flow.id }, 'sip message handler threw');
    }
  }

  private unregister(conn: ConnectionFlow, reason: string): void {
    if (this.connections.get(conn.id) !== conn) return;
    this.connections.delete(conn.id);
    for (const [key, c] of this.aliases) if (c === conn) this.aliases.delete(key);
    for (const h of this.closedHandlers) {
      try {
        h(conn, reason);
      } catch (err) {
        this.logger.error({ err, flow: conn.id }, 'sip flowClosed handler threw');
      }
    }
  }
}

/** Creates the transport layer and binds its sockets (see {@link TransportLayerOptions}). */
export async function createTransportLayer(opts: TransportLayerOptions): Promise<TransportLayerImpl> {
  const limits: Limits = { ...TransportLimits, ...opts.limits };
  const logger = opts.logger.child({ mod: 'sip.transport' });
  const layer = new TransportLayerImpl(logger, limits, opts.clock ?? systemClock);
  await layer.start(opts);
  return layer;
}

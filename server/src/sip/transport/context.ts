import type { Clock, TimerHandle } from '../../lib/clock.js';
import type { Logger } from '../../observability/logger.js';
import type { TransportLimits } from '../constants.js';
import type { Endpoint, SipFlow } from './types.js';

/** The limits with plain number types, so tests can pass small values. */
export type Limits = { -readonly [K in keyof typeof TransportLimits]: number };

/** Counters kept by the transports (read with `TransportLayerImpl.stats()`; wire to metrics above). */
export interface TransportStats {
  udpReceived: number;
  /** Datagrams larger than MAX_MESSAGE_BYTES, dropped. */
  udpOversizeDropped: number;
  tcpAccepted: number;
  tcpConnected: number;
  wsAccepted: number;
  /** WS handshakes refused (no `sip` subprotocol, limit, closing). */
  wsRefused: number;
  /** Connections refused because MAX_CONNECTIONS was reached. */
  connectionsRejected: number;
  /** TCP streams closed because they could not be framed (oversize, bad Content-Length). */
  framingErrors: number;
  idleTimeouts: number;
  partialTimeouts: number;
  keepAlivePings: number;
  tlsAccepted: number;
  tlsConnected: number;
  /** TLS handshakes that failed (old protocol version, no shared cipher, bad client certificate). */
  tlsHandshakeFailures: number;
}

export function newStats(): TransportStats {
  return {
    udpReceived: 0, udpOversizeDropped: 0, tcpAccepted: 0, tcpConnected: 0, wsAccepted: 0, wsRefused: 0,
    connectionsRejected: 0, framingErrors: 0, idleTimeouts: 0, partialTimeouts: 0, keepAlivePings: 0,
    tlsAccepted: 0, tlsConnected: 0, tlsHandshakeFailures: 0,
  };
}

/** A connection-oriented flow (TCP, TLS or WS) as the layer tracks it. */
export interface ConnectionFlow extends SipFlow {
  /** Closes the connection; the layer reports `reason` through onFlowClosed once. */
  close(reason: string): void;
  /** Settles when the underlying socket is gone (after close() or when the peer left). */
  readonly finished: Promise<void>;
  /** TLS: true when the peer's trusted certificate names `host` (RFC 5923 aliases). */
  readonly certifies?: (host: string) => boolean;
}

/** What the layer gives to each transport: shared limits, clock, counters and the connection registry. */
export interface TransportContext {
  readonly logger: Logger;
  readonly limits: Limits;
  readonly clock: Clock;
  readonly stats: TransportStats;
  /** True once close() has begun: no new connections are accepted. */
  isClosing(): boolean;
  /** Hands one framed message to the consumer (exceptions are caught and logged). */
  deliver(data: Buffer, flow: SipFlow): void;
  /**
   * True when one more TCP/WS connection fits under MAX_CONNECTIONS (counts `pending` too) and,
   * given the remote `address`, under MAX_CONNECTIONS_PER_IP.
   */
  hasRoom(pending?: number, address?: string): boolean;
  register(conn: ConnectionFlow): void;
  /** Called once by a connection when it closes: unregisters it and reports the reason. */
  unregister(conn: ConnectionFlow, reason: string): void;
  nextConnectionId(prefix: 'tcp' | 'tls' | 'ws'): string;
  /** An open connection of that protocol whose remote is `target` (inbound or outbound). */
  findOpen(protocol: 'TCP' | 'TLS' | 'WS', target: Endpoint): ConnectionFlow | undefined;
}

/** A restartable one-shot timer on the injected clock (idle timeouts). */
export class Deadline {
  private handle: TimerHandle | null = null;

  constructor(
    private readonly clock: Clock,
    private readonly ms: number,
    private readonly onExpire: () => void,
  ) {}

  /** (Re)starts the countdown. */
  restart(): void {
    this.handle?.cancel();
    this.handle = this.clock.setTimeout(() => {
      this.handle = null;
      this.onExpire();
    }, this.ms);
  }

  /** Starts the countdown only if it is not already running. */
  ensure(): void {
    if (!this.handle) this.restart();
  }

  get running(): boolean {
    return this.handle !== null;
  }

  cancel(): void {
    this.handle?.cancel();
    this.handle = null;
  }
}

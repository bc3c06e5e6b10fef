/**
 * Transport abstraction: UDP, TCP (RFC 3261 18.3 framing), TLS (RFC 3261 26.2, the TCP framing
 * inside TLS 1.2+) and WebSocket (RFC 7118).
 * A flow is "where a message came from / where to send": a UDP 5-tuple or a TCP/WS connection.
 * Responses go back on the flow the request came on (RFC 3261 18.2.2, RFC 3581, RFC 7118 5.2).
 */
export type SipProtocol = 'UDP' | 'TCP' | 'TLS' | 'WS';

/** What a TLS connection's peer proved (RFC 3261 26.3.2.2: mutual TLS between servers). */
export interface TlsPeer {
  /** `sha256:AB:CD:...` of the certificate the peer presented (and proved it holds the key of); undefined when it sent none. */
  readonly fingerprint: string | undefined;
  /** The fingerprint is in TRUSTED_PEERS (or, outbound, the chain was valid for the name dialled). */
  readonly trusted: boolean;
}

export interface Endpoint {
  address: string;
  port: number;
}

export interface SipFlow {
  /** Stable id: `udp:1.2.3.4:5060`, `tcp:<n>`, `tls:<n>`, `ws:<n>`. */
  readonly id: string;
  readonly protocol: SipProtocol;
  /** TCP and WS are reliable: no retransmissions (RFC 3261 17). */
  readonly reliable: boolean;
  readonly remote: Endpoint;
  readonly local: Endpoint;
  /** Sends one complete SIP message. Returns false when the flow is closed (the caller treats it as a transport error). */
  send(message: string): boolean;
  /** True while the flow can carry messages. UDP flows are always open while the socket is. */
  readonly open: boolean;
  /** WS flows: the WebSocket runs over TLS (wss:, RFC 7118 `WSS`). */
  readonly secure?: boolean;
  /** TLS flows only: the peer's certificate fingerprint and whether it is trusted. */
  readonly tlsPeer?: TlsPeer;
}

export interface InboundMessage {
  /** Exactly one SIP message, framed (TCP) or one datagram / WS frame. */
  data: Buffer;
  flow: SipFlow;
}

export interface TransportEvents {
  message: (m: InboundMessage) => void;
  /** A connection-oriented flow closed (peer gone, idle, limit exceeded). */
  flowClosed: (flow: SipFlow, reason: string) => void;
}

export interface TransportLayer {
  /** Registers the single consumer of inbound messages. */
  onMessage(handler: (m: InboundMessage) => void): void;
  onFlowClosed(handler: (flow: SipFlow, reason: string) => void): void;
  /**
   * A flow to reach `target`. UDP: a flow on the listening socket. TCP: an open connection to that
   * address or a new one (RFC 3261 18.1.1). WS: only an existing connection (we cannot dial a browser),
   * otherwise rejects.
   */
  flowTo(protocol: SipProtocol, target: Endpoint): Promise<SipFlow>;
  /** An existing flow by id (e.g. the one a REGISTER came on). */
  getFlow(id: string): SipFlow | undefined;
  /** Address/port advertised in Via/Contact for a protocol. */
  localEndpoint(protocol: SipProtocol): Endpoint;
  close(): Promise<void>;
}

import { isIP } from 'node:net';
import type { Clock } from '../lib/clock.js';
import type { Logger } from '../observability/logger.js';
import {
  addReceived,
  buildResponse,
  parseSip,
  responseDestination,
  topVia,
  DEFAULT_ACCEPTED_CONTENT_TYPES,
  type ParseOptions,
  type ResponseOptions,
} from './message/index.js';
import {
  InviteServerState,
  TransactionLayer,
  type ClientTransaction,
  type ClientTransactionUser,
  type IncomingRequestMessage,
  type IncomingResponseMessage,
  type ServerTransaction,
} from './transaction/index.js';
import { udpFlowId, type TransportLayerImpl } from './transport/index.js';
import type { Endpoint, InboundMessage, SipFlow, SipProtocol } from './transport/types.js';
import type { ViaParams } from './dialog/dialog.js';

/** Extra facts about a new request that the parser worked out. */
export interface RequestContext {
  requestUri: string;
  maxForwards: number | undefined;
  body: Buffer;
  /** The flow the request arrived on (for UDP: its source address). */
  source: SipFlow;
}

/** The transaction user: calls/ implements it. Exceptions thrown here are caught and logged. */
export interface SipUser {
  onRequest(req: IncomingRequestMessage, txn: ServerTransaction, ctx: RequestContext): void;
  /** ACK for a 2xx (no transaction of its own, RFC 3261 17.1.1.3 / 13.3.1.4). */
  onAck(ack: IncomingRequestMessage, flow: SipFlow): void;
  /** A CANCEL matched `target` (already answered 200 by the stack, RFC 3261 9.2). */
  onCancel(target: ServerTransaction): void;
  /** A 2xx retransmission to an INVITE whose client transaction is gone (RFC 3261 13.2.2.4: re-ACK). */
  onUnmatched2xx(res: IncomingResponseMessage, flow: SipFlow): void;
  onFlowClosed(flow: SipFlow): void;
}

export interface SipStackStats {
  received: number;
  rejected: number;
  dropped: number;
  retransmissionsAbsorbed: number;
  transactions: number;
}

const ACCEPTED = { ...DEFAULT_ACCEPTED_CONTENT_TYPES, INFO: ['application/dtmf-relay', 'application/dtmf'] };

/**
 * The SIP stack: transport -> edge parsing (stateless replies) -> transactions -> the TU.
 * Protocol only (docs/architecture.md): it knows nothing of payments.
 */
export class SipStack {
  readonly transactions: TransactionLayer;
  private user: SipUser | undefined;
  private closed = false;
  private readonly counters = { received: 0, rejected: 0, dropped: 0, retransmissionsAbsorbed: 0 };
  private readonly parseOpts: ParseOptions;

  constructor(
    readonly transport: TransportLayerImpl,
    private readonly clock: Clock,
    private readonly log: Logger,
    parseOpts: ParseOptions = {},
  ) {
    this.parseOpts = { acceptedContentTypes: ACCEPTED, ...parseOpts };
    this.transactions = new TransactionLayer({ clock, logger: log });
    transport.onMessage((m) => this.safe(() => this.onInbound(m), 'inbound message'));
    transport.onFlowClosed((flow, reason) =>
      this.safe(() => {
        this.log.debug({ flow: flow.id, reason }, 'flow closed');
        this.transactions.flowClosed(flow);
        this.user?.onFlowClosed(flow);
      }, 'flow closed'),
    );
  }

  /**
   * Starts handing requests to the transaction user, once every part it needs exists (the
   * composition root calls it last). Until then new requests are answered 503 (RFC 3261 21.5.4).
   */
  serve(user: SipUser): void {
    if (this.user) throw new Error('the SIP stack already serves a transaction user');
    this.user = user;
  }

  get now(): number {
    return this.clock.now();
  }

  private safe(fn: () => void, what: string): void {
    try {
      fn();
    } catch (err) {
      this.log.error({ err, what }, 'SIP handler failed; message discarded');
    }
  }

  private onInbound({ data, flow }: InboundMessage): void {
    if (this.closed) return;
    this.counters.received++;
    // RFC 3261 18.2.1 / RFC 3581: stamp received/rport into the top Via before anything reads it.
    const stamped = addReceived(data, flow.remote);
    const r = parseSip(stamped, this.parseOpts);
    switch (r.kind) {
      case 'drop':
        this.counters.dropped++;
        this.log.debug({ flow: flow.id, reason: r.reason, ...(r.detail ? { detail: r.detail } : {}) }, 'SIP message dropped');
        return;
      case 'reject': {
        this.counters.rejected++;
        this.log.info({ flow: flow.id, status: r.status, reason: r.reason, ...(r.detail ? { detail: r.detail } : {}) }, 'SIP request rejected statelessly');
        this.replyFlow(r.topVia, flow).send(r.response);
        return;
      }
      case 'response':
        return this.onResponse(r.msg, flow);
      case 'request':
        return this.onRequest(r.msg, flow, { requestUri: r.requestUri, maxForwards: r.maxForwards, body: r.body, source: flow });
    }
  }

  /** The flow responses go on (RFC 3261 18.2.2, RFC 3581 4). */
  private replyFlow(via: Parameters<typeof responseDestination>[0] | undefined, flow: SipFlow): SipFlow {
    if (!via || flow.reliable) return flow;
    // RFC 3261 18.2.1: `received` is the packet source. addReceived stamps it into a well-formed top
    // Via; a stateless reply to a broken one (RFC 4475 badinv01) must still go there, not to sent-by
    // nor to a `received` the client wrote into it.
    const d = responseDestination({ ...via, received: flow.remote.address }, flow);
    if (d.kind !== 'address' || d.resolve) return flow;
    return this.transport.getFlow(udpFlowId({ address: d.address, port: d.port })) ?? flow;
  }

  private onRequest(msg: IncomingRequestMessage, flow: SipFlow, ctx: RequestContext): void {
    const user = this.user;
    if (flow.protocol === 'TLS') this.noteAlias(msg, flow);
    const res = this.transactions.receiveRequest(msg, this.replyFlow(topVia(msg), flow));
    switch (res.kind) {
      case 'new':
        if (!user) {
          this.respond(res.txn, 503);
          return;
        }
        return user.onRequest(msg, res.txn, ctx);
      case 'retransmission':
      case 'ack-absorbed':
        this.counters.retransmissionsAbsorbed++;
        return;
      case 'ack-2xx':
        return user?.onAck(res.ack, flow);
      case 'cancel': {
        // RFC 3261 9.2: 481 when no INVITE matches; otherwise 200 to the CANCEL and let the TU
        // answer the INVITE with 487 if it has not sent a final response yet. Once a final was
        // sent the CANCEL has no effect on the INVITE (the TU is not told).
        const target = res.target;
        if (!target || target.terminated) {
          this.respond(res.txn, 481);
          return;
        }
        this.respond(res.txn, 200);
        if (target.state === InviteServerState.Proceeding) user?.onCancel(target);
        return;
      }
      case 'dropped':
        this.counters.dropped++;
        this.log.debug({ flow: flow.id, reason: res.reason }, 'request dropped by the transaction layer');
        return;
    }
  }

  /** RFC 5923: `;alias` in the top Via of a request over TLS offers the connection for requests to its sent-by. */
  private noteAlias(msg: IncomingRequestMessage, flow: SipFlow): void {
    const via = topVia(msg);
    if (!via?.alias) return;
    const host = via.host.replace(/^\[(.*)\]$/, '$1');
    const sentBy = { address: host, port: via.port ?? 5061 };
    const taken = this.transport.addAlias(flow, sentBy);
    this.log.debug({ flow: flow.id, sentBy: `${host}:${sentBy.port}`, taken }, 'RFC 5923 alias');
  }

  private onResponse(msg: IncomingResponseMessage, flow: SipFlow): void {
    const res = this.transactions.receiveResponse(msg, flow);
    if (res.kind === 'unmatched-2xx') this.user?.onUnmatched2xx(res.response, res.flow);
    else if (res.kind === 'unmatched') {
      this.counters.dropped++;
      this.log.debug({ flow: flow.id, status: msg.statusCode, callId: msg.callId }, 'stray response dropped');
    }
  }

  /** Builds and sends a response on a server transaction. Returns the serialised response. */
  respond(txn: ServerTransaction, status: number, opts: ResponseOptions = {}): string {
    const text = buildResponse(txn.request, status, opts);
    txn.respond(status, text);
    return text;
  }

  sendRequest(opts: {
    request: string;
    method: string;
    branch: string;
    flow: SipFlow;
    user: ClientTransactionUser;
    buildAck?: (res: IncomingResponseMessage) => string;
  }): ClientTransaction {
    return this.transactions.sendRequest(opts);
  }

  /**
   * Via/Contact values for a message we send on `flow` (RFC 3261 8.1.1.7, 18.1.1). `peerUri` is the
   * URI whose scheme the dialog follows: the Request-URI of a request we answer, or the target of a
   * request we send (see viaParams).
   */
  via(flow: SipFlow, peerUri?: string): ViaParams {
    const local = this.transport.localEndpoint(flow.protocol);
    return viaParams(flow.protocol, flow.protocol === 'WS' && flow.secure === true, `${hostPart(local.address)}:${local.port}`, peerUri);
  }

  /**
   * A flow to send a request on: the preferred one if it is still open (RFC 5626-style: where the
   * peer registered or dialled from), else the target URI's address and transport.
   */
  async flowFor(target: { uri?: string; flowId?: string }): Promise<SipFlow> {
    if (target.flowId) {
      const f = this.transport.getFlow(target.flowId);
      if (f?.open) return f;
    }
    const dest = target.uri ? uriDestination(target.uri) : undefined;
    if (!dest) throw new Error(`no route to ${target.uri ?? target.flowId ?? 'nowhere'}`);
    return this.transport.flowTo(dest.protocol, dest.endpoint);
  }

  stats(): SipStackStats {
    return { ...this.counters, transactions: this.transactions.size };
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.transactions.close();
    await this.transport.close();
  }
}

const hostPart = (a: string): string => (a.includes(':') ? `[${a}]` : a);

/**
 * Via protocol and Contact for `sentBy`. Over TLS the Contact is a SIPS URI (RFC 5630 3.1.3), as
 * RFC 3261 12.1.1 requires when the dialog's Request-URI is SIPS; but when the peer addressed us
 * (or is addressed) with a `sip:` URI over TLS (`;transport=tls`, still what desk phones send), the
 * Contact stays `sip:...;transport=tls`: a UA that does not handle SIPS URIs (baresip 1.0) could not
 * send its ACK or BYE to a `sips:` Contact it never asked for (docs/security.md, "Encryption").
 */
export function viaParams(transport: SipProtocol, secureWs: boolean, sentBy: string, peerUri?: string): ViaParams {
  if (transport === 'TLS') {
    const plainSip = peerUri !== undefined && /^\s*<?sip:/i.test(peerUri);
    return { protocol: 'TLS', sentBy, contact: plainSip ? `<sip:tonegate@${sentBy};transport=tls>` : `<sips:tonegate@${sentBy}>` };
  }
  // RFC 7118 5.2 / 7: `WSS` in Via and `transport=wss` when the WebSocket runs over TLS.
  const protocol = transport === 'WS' && secureWs ? 'WSS' : transport;
  const t = transport === 'UDP' ? '' : `;transport=${protocol.toLowerCase()}`;
  return { protocol, sentBy, contact: `<sip:tonegate@${sentBy}${t}>` };
}

/**
 * Address, port and transport of a SIP URI with an IP host (no DNS: RFC 3263 is out of scope here).
 * A `sips:` URI is reached over TLS, port 5061 by default (RFC 3261 19.1.2, 26.2; RFC 5630 3.1.2);
 * so is a `;transport=tls` one (deprecated by RFC 5630 but still sent).
 */
export function uriDestination(uri: string): { protocol: SipProtocol; endpoint: Endpoint } | undefined {
  const m = /^(sips?):(?:[^@]*@)?(\[[^\]]+\]|[^:;?>]+)(?::(\d+))?([^?>]*)/i.exec(uri.trim());
  if (!m) return undefined;
  const host = m[2]!.replace(/^\[|\]$/g, '');
  if (isIP(host) === 0) return undefined;
  const sips = m[1]!.toLowerCase() === 'sips';
  const t = /;transport=(\w+)/i.exec(m[4] ?? '')?.[1]?.toUpperCase();
  const protocol: SipProtocol = t === 'WS' || t === 'WSS' ? 'WS' : sips || t === 'TLS' ? 'TLS' : t === 'TCP' ? 'TCP' : 'UDP';
  return { protocol, endpoint: { address: host, port: m[3] ? Number(m[3]) : protocol === 'TLS' ? 5061 : 5060 } };
}

/**
 * TransactionLayer: creates, matches and reaps the transactions of RFC 3261 section 17.
 * Inbound requests are matched per 17.2.3 (with the RFC 2543 fallback) and 9.2 (CANCEL);
 * inbound responses per 17.1.3. Every timer runs on the injected Clock.
 */
import { ackForNon2xx } from './ack.js';
import { Core } from 'sip.js';
import type { Clock } from '../../lib/clock.js';
import type { SipFlow } from '../transport/types.js';
import { InviteClientTransaction, NonInviteClientTransaction } from './client.js';
import { type TopVia, clientKey, legacyKey, parseTopVia, serverKey } from './matching.js';
import { InviteServerTransaction, NonInviteServerTransaction } from './server.js';
import {
  type ClientTransaction,
  type ClientTransactionUser,
  type IncomingRequestMessage,
  type IncomingResponseMessage,
  type ServerTransaction,
  type TransactionLogger,
  InvalidStateError,
  isSuccess,
} from './types.js';

export interface TransactionLayerOptions {
  readonly clock: Clock;
  readonly logger: TransactionLogger;
  /** Builds the automatic 100 Trying (17.2.1). Default: sip.js `constructOutgoingResponse` (8.2.6, no To tag). */
  readonly buildTrying?: (request: IncomingRequestMessage) => string;
}

export interface SendRequestOptions {
  /** The full serialised request; its top Via already carries `branch` (with the z9hG4bK cookie). */
  readonly request: string;
  readonly method: string;
  readonly branch: string;
  readonly flow: SipFlow;
  readonly user: ClientTransactionUser;
  /**
   * INVITE only: builds the ACK for a non-2xx final (17.1.1.3); called once per transaction.
   * Default: the transaction builds it from the INVITE it sent (./ack.ts).
   */
  readonly buildAck?: (response: IncomingResponseMessage) => string;
}

export type RequestResult =
  /** A new request: the TU must answer it through `txn.respond`. */
  | { readonly kind: 'new'; readonly txn: ServerTransaction }
  /** A retransmission, absorbed (the last response was resent if the machine says so). */
  | { readonly kind: 'retransmission'; readonly txn: ServerTransaction }
  /** ACK for a 2xx: matched no transaction, or an INVITE transaction in Accepted (13.3.1.4, RFC 6026). */
  | { readonly kind: 'ack-2xx'; readonly ack: IncomingRequestMessage; readonly flow: SipFlow; readonly txn?: ServerTransaction }
  /** ACK for a non-2xx final (INVITE server now Confirmed), or its retransmission (17.2.1). */
  | { readonly kind: 'ack-absorbed'; readonly txn: ServerTransaction }
  /** A new CANCEL with its own transaction; `target` is the INVITE server transaction it matches (9.2). */
  | { readonly kind: 'cancel'; readonly txn: ServerTransaction; readonly target?: ServerTransaction }
  /** Not processable here (no top Via, ACK before any final, layer closed): the caller drops it. */
  | { readonly kind: 'dropped'; readonly reason: string };

export type ResponseResult =
  | { readonly kind: 'matched'; readonly txn: ClientTransaction }
  /** A 2xx to INVITE with no transaction left (retransmission or late fork): the dialog layer re-ACKs it (13.2.2.4). */
  | { readonly kind: 'unmatched-2xx'; readonly response: IncomingResponseMessage; readonly flow: SipFlow }
  /** Anything else unmatched: dropped (17.1.3; RFC 6026 8.4). */
  | { readonly kind: 'unmatched' };

type AnyServer = InviteServerTransaction | NonInviteServerTransaction;
type AnyClient = InviteClientTransaction | NonInviteClientTransaction;

const defaultBuildTrying = (request: IncomingRequestMessage): string =>
  Core.constructOutgoingResponse(request, { statusCode: 100 }).message;

export class TransactionLayer {
  private readonly clock: Clock;
  private readonly logger: TransactionLogger;
  private readonly buildTrying: (request: IncomingRequestMessage) => string;
  /** 17.2.3 keys (branch + sent-by + method). */
  private readonly servers = new Map<string, AnyServer>();
  /** RFC 2543 keys; several transactions may share one and differ by To tag. */
  private readonly legacyServers = new Map<string, AnyServer[]>();
  /** 17.1.3 keys (branch + CSeq method). */
  private readonly clients = new Map<string, AnyClient>();
  private readonly live = new Set<AnyServer | AnyClient>();
  private closed = false;

  constructor(opts: TransactionLayerOptions) {
    this.clock = opts.clock;
    this.logger = opts.logger;
    this.buildTrying = opts.buildTrying ?? defaultBuildTrying;
  }

  /** Live (not Terminated) transactions. */
  get size(): number {
    return this.live.size;
  }

  receiveRequest(msg: IncomingRequestMessage, flow: SipFlow): RequestResult {
    if (this.closed) return { kind: 'dropped', reason: 'transaction layer closed' };
    const via = parseTopVia(msg);
    if (!via) return { kind: 'dropped', reason: 'no parsable top Via' };
    if (msg.method === 'ACK') return this.receiveAck(msg, via, flow);

    const existing = this.findServer(msg, via, msg.method);
    if (existing) {
      this.guard(() => existing.receiveRetransmission(), existing.id);
      return { kind: 'retransmission', txn: existing };
    }
    const txn = this.createServer(msg, via, flow);
    if (msg.method === 'CANCEL') {
      // 9.2: the CANCEL matches the INVITE server transaction the same way, with method INVITE.
      const target = this.findServer(msg, via, 'INVITE');
      return target ? { kind: 'cancel', txn, target } : { kind: 'cancel', txn };
    }
    return { kind: 'new', txn };
  }

  receiveResponse(msg: IncomingResponseMessage, flow: SipFlow): ResponseResult {
    const branch = parseTopVia(msg)?.branch;
    // A parsed response's `method` is its CSeq method (17.1.3 matches on it, so CANCEL is told from INVITE).
    const txn = branch === undefined ? undefined : this.clients.get(clientKey(branch, msg.method));
    if (txn) {
      this.guard(() => txn.receiveResponse(msg), txn.id);
      return { kind: 'matched', txn };
    }
    if (msg.method === 'INVITE' && isSuccess(msg.statusCode ?? 0)) return { kind: 'unmatched-2xx', response: msg, flow };
    return { kind: 'unmatched' };
  }

  /**
   * Starts a client transaction and sends the request (17.1.1 / 17.1.2). A transport error on the
   * first send reaches `user.onTransportError` before this returns.
   */
  sendRequest(opts: SendRequestOptions): ClientTransaction {
    if (this.closed) throw new InvalidStateError('TransactionLayer', 'closed', 'sendRequest');
    const method = opts.method.toUpperCase();
    if (method === 'ACK') throw new TypeError('ACK is not sent in a client transaction (17.1.1.3, 13.2.2.4)');
    const key = clientKey(opts.branch, method);
    if (this.clients.has(key)) throw new TypeError(`a client transaction ${key} already exists`);
    const deps = { ...opts, id: key, clock: this.clock, logger: this.logger, method };
    let txn: AnyClient;
    if (method === 'INVITE') {
      const request = opts.request;
      txn = new InviteClientTransaction({ ...deps, buildAck: opts.buildAck ?? ((res) => ackForNon2xx(request, res)) });
    } else {
      txn = new NonInviteClientTransaction(deps);
    }
    this.clients.set(key, txn);
    this.live.add(txn);
    txn.onTerminated(() => {
      if (this.clients.get(key) === txn) this.clients.delete(key);
      this.live.delete(txn);
    });
    txn.start();
    return txn;
  }

  /** A TCP/WS flow closed: every transaction on it gets a transport error (17.1.4, 17.2.4). */
  flowClosed(flow: SipFlow): void {
    for (const txn of [...this.live]) {
      if (txn.flow === flow || txn.flow.id === flow.id) this.guard(() => txn.transportFailed(), txn.id);
    }
  }

  /** Idempotent: disposes every transaction (cancelling every timer); later requests are dropped. */
  close(): void {
    this.closed = true;
    for (const txn of [...this.live]) txn.dispose();
  }

  private receiveAck(msg: IncomingRequestMessage, via: TopVia, flow: SipFlow): RequestResult {
    const txn = this.findServer(msg, via, 'INVITE');
    if (!(txn instanceof InviteServerTransaction)) return { kind: 'ack-2xx', ack: msg, flow };
    let outcome: 'to-tu' | 'absorbed';
    try {
      outcome = txn.receiveAck();
    } catch (err) {
      if (!(err instanceof InvalidStateError)) throw err;
      return { kind: 'dropped', reason: `ACK in ${txn.state}` };
    }
    return outcome === 'to-tu' ? { kind: 'ack-2xx', ack: msg, flow, txn } : { kind: 'ack-absorbed', txn };
  }

  /** 17.2.3 (and 9.2 with method INVITE). */
  private findServer(msg: IncomingRequestMessage, via: TopVia, method: string): AnyServer | undefined {
    const key = serverKey(method, via);
    if (key !== undefined) return this.servers.get(key);
    // RFC 2543: an ACK's To tag is the one of the response; other requests carry the INVITE's own.
    const toTag = msg.toTag || undefined;
    return this.legacyServers.get(legacyKey(msg, via, method))?.find((t) =>
      msg.method === 'ACK'
        ? t.responseToTag === undefined || t.responseToTag === toTag
        : (t.request.toTag || undefined) === toTag,
    );
  }

  private createServer(msg: IncomingRequestMessage, via: TopVia, flow: SipFlow): AnyServer {
    const cookieKey = serverKey(msg.method, via);
    const legacy = cookieKey === undefined ? legacyKey(msg, via, msg.method) : undefined;
    const id = cookieKey ?? `${legacy}|${msg.toTag ?? ''}`;
    const deps = { id, clock: this.clock, flow, logger: this.logger, request: msg };
    const txn: AnyServer =
      msg.method === 'INVITE'
        ? new InviteServerTransaction({ ...deps, buildTrying: this.buildTrying })
        : new NonInviteServerTransaction(deps);
    if (cookieKey !== undefined) this.servers.set(cookieKey, txn);
    else this.legacyServers.set(legacy!, [...(this.legacyServers.get(legacy!) ?? []), txn]);
    this.live.add(txn);
    txn.onTerminated(() => {
      this.live.delete(txn);
      if (cookieKey !== undefined) {
        if (this.servers.get(cookieKey) === txn) this.servers.delete(cookieKey);
        return;
      }
      const rest = (this.legacyServers.get(legacy!) ?? []).filter((t) => t !== txn);
      if (rest.length > 0) this.legacyServers.set(legacy!, rest);
      else this.legacyServers.delete(legacy!);
    });
    txn.start();
    return txn;
  }

  /** Network-driven events the machine has no arrow for are dropped, not thrown at the transport. */
  private guard(fn: () => void, id: string): void {
    try {
      fn();
    } catch (err) {
      if (!(err instanceof InvalidStateError)) throw err;
      this.logger.debug({ txn: id, err: err.message }, 'sip transaction: message dropped by the state machine');
    }
  }
}

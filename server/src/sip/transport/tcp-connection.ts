import type net from 'node:net';
import { Deadline, type ConnectionFlow, type TransportContext } from './context.js';
import { StreamFramer } from './framer.js';
import type { Endpoint, TlsPeer } from './types.js';

/** RFC 5626 4.4.1: the answer to a CRLF CRLF ping is a single CRLF pong. */
const PONG = '\r\n';

/**
 * One TCP or TLS connection (either direction) as a SIP flow: `tcp:<n>` / `tls:<n>`, framed per
 * RFC 3261 18.3 (TLS carries the same byte stream, RFC 3261 26.2).
 */
export class TcpConnection implements ConnectionFlow {
  /** RFC 3261 17: reliable transport, no retransmissions. */
  readonly reliable = true;
  readonly remote: Endpoint;
  readonly local: Endpoint;
  private readonly framer: StreamFramer;
  private readonly idle: Deadline;
  private readonly partial: Deadline;
  private closed = false;
  private errorReason: string | undefined;
  readonly finished: Promise<void>;

  constructor(
    private readonly ctx: TransportContext,
    private readonly socket: net.Socket,
    readonly id: string,
    readonly protocol: 'TCP' | 'TLS' = 'TCP',
    readonly tlsPeer?: TlsPeer,
    /** TLS: true when the peer's certificate names `host` (RFC 5923 5.3 / RFC 5922 7.1) and is trusted. */
    readonly certifies?: (host: string) => boolean,
  ) {
    const { limits, clock } = ctx;
    this.remote = { address: socket.remoteAddress ?? '', port: socket.remotePort ?? 0 };
    this.local = { address: socket.localAddress ?? '', port: socket.localPort ?? 0 };
    this.framer = new StreamFramer({ maxMessageBytes: limits.MAX_MESSAGE_BYTES, maxHeaderBytes: limits.MAX_HEADER_BYTES });
    // Idle: no complete message (or keep-alive) for IDLE_TIMEOUT_MS. Keep-alives count, so an
    // RFC 5626 flow kept open by CRLF pings outlives the timeout as the UA intends.
    this.idle = new Deadline(clock, limits.IDLE_TIMEOUT_MS, () => {
      ctx.stats.idleTimeouts++;
      this.close('idle timeout');
    });
    // Partial: runs from the first byte of a message and is not extended by further bytes, so a
    // sender trickling a header (slowloris) is cut off after PARTIAL_MESSAGE_TIMEOUT_MS.
    this.partial = new Deadline(clock, limits.PARTIAL_MESSAGE_TIMEOUT_MS, () => {
      ctx.stats.partialTimeouts++;
      ctx.logger.warn({ flow: this.id, remote: this.remoteText, buffered: this.framer.buffered }, `sip ${this.protocol.toLowerCase()} partial message timeout`);
      this.close('partial message timeout');
    });
    socket.setNoDelay(true);
    socket.on('data', (chunk: Buffer) => this.onData(chunk));
    socket.on('error', (err: NodeJS.ErrnoException) => {
      this.errorReason ??= `socket error: ${err.code ?? err.message}`;
      ctx.logger.debug({ err, flow: this.id, remote: this.remoteText }, 'sip tcp socket error');
    });
    this.finished = new Promise((resolve) => socket.once('close', () => resolve()));
    socket.on('close', () => this.close(this.errorReason ?? 'peer closed'));
    this.idle.restart();
    ctx.register(this);
  }

  get open(): boolean {
    return !this.closed && !this.socket.destroyed && this.socket.writable;
  }

  send(message: string): boolean {
    if (!this.open) return false;
    // A peer that stops reading must not make us buffer without bound.
    if (this.socket.writableLength > 4 * this.ctx.limits.MAX_MESSAGE_BYTES) {
      this.ctx.logger.warn({ flow: this.id, remote: this.remoteText, queued: this.socket.writableLength }, 'sip tcp peer not reading');
      this.close('send buffer overflow');
      return false;
    }
    this.socket.write(message, 'utf8'); // write errors arrive as 'error', then 'close'
    return true;
  }

  close(reason: string): void {
    if (this.closed) return;
    this.closed = true;
    this.idle.cancel();
    this.partial.cancel();
    this.socket.destroy();
    this.ctx.logger.debug({ flow: this.id, remote: this.remoteText, reason }, 'sip tcp connection closed');
    this.ctx.unregister(this, reason);
  }

  private get remoteText(): string {
    return `${this.remote.address}:${this.remote.port}`;
  }

  private onData(chunk: Buffer): void {
    if (this.closed) return;
    const { items, error } = this.framer.push(chunk);
    for (const item of items) {
      if (this.closed) return; // the consumer may close the flow while handling a message
      this.idle.restart();
      if (item.kind === 'ping') {
        this.ctx.stats.keepAlivePings++;
        this.socket.write(PONG);
      } else {
        this.partial.cancel();
        this.ctx.deliver(item.data, this);
      }
    }
    if (this.closed) return;
    if (error) {
      // RFC 3261 18.3: a stream whose framing is lost cannot be resynchronised: close it.
      this.ctx.stats.framingErrors++;
      this.ctx.logger.warn({ flow: this.id, remote: this.remoteText, code: error.code, detail: error.message }, 'sip tcp framing error, closing');
      this.close(`framing error: ${error.code}`);
      return;
    }
    if (this.framer.partial) this.partial.ensure();
    else this.partial.cancel();
  }
}

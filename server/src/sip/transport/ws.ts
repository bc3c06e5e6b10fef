import type http from 'node:http';
import tls from 'node:tls';
import type { Duplex } from 'node:stream';
import { WebSocket, WebSocketServer, type RawData } from 'ws';
import { Deadline, type ConnectionFlow, type TransportContext } from './context.js';
import { isOnlyLineEnds } from './framer.js';
import type { Endpoint } from './types.js';

/** RFC 7118 4: the WebSocket subprotocol for SIP. */
export const SIP_SUBPROTOCOL = 'sip';
/** After we send a close frame, how long the peer has to answer before the socket is dropped. */
const CLOSE_GRACE_MS = 1_000;

/** True when the handshake offers the `sip` subprotocol (Sec-WebSocket-Protocol, RFC 6455 4.1). */
export function offersSip(header: string | undefined): boolean {
  return (header ?? '').split(',').some((p) => p.trim() === SIP_SUBPROTOCOL);
}

/**
 * SIP over WebSocket (RFC 7118) on an existing HTTP server. Upgrades to other paths are left alone
 * for other handlers (e.g. the `/events` hub), since the server is created with `noServer`.
 */
export class WsTransport {
  private readonly wss: WebSocketServer;
  private readonly onUpgrade: (req: http.IncomingMessage, socket: Duplex, head: Buffer) => void;
  private closed = false;

  constructor(
    private readonly ctx: TransportContext,
    private readonly httpServer: http.Server,
    readonly path: string,
    private readonly originAllowed?: (origin: string | undefined, host: string | undefined) => boolean,
  ) {
    this.wss = new WebSocketServer({
      noServer: true,
      clientTracking: false,
      perMessageDeflate: false,
      // RFC 7118 5.1 / 6455 5.1: one SIP message per frame; a larger one closes with 1009.
      maxPayload: ctx.limits.MAX_MESSAGE_BYTES,
      // RFC 7118 4: the server's handshake answer carries `Sec-WebSocket-Protocol: sip`.
      handleProtocols: (protocols) => (protocols.has(SIP_SUBPROTOCOL) ? SIP_SUBPROTOCOL : false),
    });
    this.onUpgrade = (req, socket, head) => this.handleUpgrade(req, socket, head);
    httpServer.on('upgrade', this.onUpgrade);
  }

  /** Where the HTTP server listens (what WS clients connect to). */
  get local(): Endpoint {
    const a = this.httpServer.address();
    return a && typeof a === 'object' ? { address: a.address, port: a.port } : { address: '', port: 0 };
  }

  private handleUpgrade(req: http.IncomingMessage, socket: Duplex, head: Buffer): void {
    if (pathOf(req.url) !== this.path) return; // not ours: another 'upgrade' listener handles it
    socket.on('error', (err) => this.ctx.logger.debug({ err }, 'sip ws handshake socket error'));
    if (this.closed || this.ctx.isClosing()) return refuse(socket, 503, 'Service Unavailable', 'shutting down');
    // RFC 7118 4: a SIP WebSocket handshake must negotiate `sip`; without it we do not upgrade.
    if (!offersSip(req.headers['sec-websocket-protocol'])) {
      this.ctx.stats.wsRefused++;
      this.ctx.logger.debug({ remote: req.socket.remoteAddress }, 'sip ws handshake without sip subprotocol refused');
      return refuse(socket, 400, 'Bad Request', 'the sip WebSocket subprotocol is required (RFC 7118)');
    }
    // RFC 6455 10.2: a browser page from another origin may not drive an agent's SIP (like /events).
    if (this.originAllowed && !this.originAllowed(req.headers.origin, req.headers.host)) {
      this.ctx.stats.wsRefused++;
      this.ctx.logger.info({ remote: req.socket.remoteAddress }, 'sip ws handshake refused: Origin not allowed');
      return refuse(socket, 403, 'Forbidden', 'origin not allowed');
    }
    if (!this.ctx.hasRoom(0, req.socket.remoteAddress)) {
      this.ctx.stats.wsRefused++;
      this.ctx.stats.connectionsRejected++;
      this.ctx.logger.warn({ remote: req.socket.remoteAddress }, 'sip ws connection refused: MAX_CONNECTIONS or MAX_CONNECTIONS_PER_IP reached');
      return refuse(socket, 503, 'Service Unavailable', 'too many connections');
    }
    const remote = { address: req.socket.remoteAddress ?? '', port: req.socket.remotePort ?? 0 };
    const local = { address: req.socket.localAddress ?? '', port: req.socket.localPort ?? 0 };
    this.wss.handleUpgrade(req, socket, head, (ws) => {
      if (this.closed || this.ctx.isClosing()) {
        ws.terminate();
        return;
      }
      this.ctx.stats.wsAccepted++;
      // An HTTPS server is a tls.Server: its WebSockets are wss: (RFC 7118 `WSS`).
      new WsConnection(this.ctx, ws, this.ctx.nextConnectionId('ws'), remote, local, this.httpServer instanceof tls.Server);
    });
  }

  /** Stops accepting upgrades; the layer closes open connections. The HTTP server is not ours. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.httpServer.removeListener('upgrade', this.onUpgrade);
    this.wss.close();
  }
}

function pathOf(url: string | undefined): string | undefined {
  try {
    return new URL(url ?? '/', 'http://localhost').pathname;
  } catch {
    return undefined;
  }
}

function refuse(socket: Duplex, status: number, statusText: string, body: string): void {
  if (socket.writable) {
    socket.end(
      `HTTP/1.1 ${status} ${statusText}\r\nConnection: close\r\nContent-Type: text/plain\r\n` +
        `Content-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`,
    );
  }
  setTimeout(() => socket.destroy(), 100).unref();
}

function toBuffer(data: RawData): Buffer {
  if (Buffer.isBuffer(data)) return data;
  if (Array.isArray(data)) return Buffer.concat(data);
  return Buffer.from(data);
}

/** One WebSocket connection as a SIP flow, `ws:<n>`. Each frame is exactly one message (RFC 7118 5.2). */
class WsConnection implements ConnectionFlow {
  readonly protocol = 'WS' as const;
  readonly reliable = true;
  private readonly idle: Deadline;
  private closed = false;
  private errorReason: string | undefined;
  readonly finished: Promise<void>;
  /** Frames in the current one-second window (docs/security.md: per-connection message rate). */
  private frames = 0;
  private windowStart = 0;

  constructor(
    private readonly ctx: TransportContext,
    private readonly ws: WebSocket,
    readonly id: string,
    readonly remote: Endpoint,
    readonly local: Endpoint,
    readonly secure: boolean,
  ) {
    this.idle = new Deadline(ctx.clock, ctx.limits.IDLE_TIMEOUT_MS, () => {
      ctx.stats.idleTimeouts++;
      this.close('idle timeout');
    });
    ws.on('message', (data) => this.onFrame(toBuffer(data)));
    ws.on('ping', () => this.idle.restart()); // RFC 6455 5.5.2 pings are keep-alives too
    ws.on('error', (err: Error & { code?: string }) => {
      this.errorReason ??=
        err.code === 'WS_ERR_UNSUPPORTED_MESSAGE_LENGTH' ? 'message too large (1009)' : `ws error: ${err.code ?? err.message}`;
      ctx.logger.debug({ err, flow: id }, 'sip ws error');
    });
    this.finished = new Promise((resolve) => ws.once('close', () => resolve()));
    ws.on('close', (code) => this.close(this.errorReason ?? `peer closed (${code})`));
    this.idle.restart();
    ctx.register(this);
  }

  get open(): boolean {
    return !this.closed && this.ws.readyState === WebSocket.OPEN;
  }

  send(message: string): boolean {
    if (!this.open) return false;
    // A string goes out as a text frame; RFC 7118 5.1 allows text or binary.
    this.ws.send(message, (err) => {
      if (err) this.ctx.logger.debug({ err, flow: this.id }, 'sip ws send failed');
    });
    return true;
  }

  close(reason: string): void {
    if (this.closed) return;
    this.closed = true;
    this.idle.cancel();
    if (this.ws.readyState === WebSocket.OPEN || this.ws.readyState === WebSocket.CONNECTING) {
      // RFC 6455 7.4.1: 1001 when the server goes away, 1000 otherwise.
      this.ws.close(reason === 'transport closed' ? 1001 : 1000, reason.slice(0, 100));
      const ws = this.ws;
      const grace = setTimeout(() => ws.terminate(), CLOSE_GRACE_MS);
      grace.unref();
      ws.once('close', () => clearTimeout(grace));
    }
    this.ctx.logger.debug({ flow: this.id, reason }, 'sip ws connection closed');
    this.ctx.unregister(this, reason);
  }

  private onFrame(data: Buffer): void {
    if (this.closed) return;
    const now = this.ctx.clock.now();
    if (now - this.windowStart >= 1000) {
      this.windowStart = now;
      this.frames = 0;
    }
    if (++this.frames > this.ctx.limits.WS_MESSAGES_PER_SECOND) {
      this.ctx.logger.warn({ flow: this.id, remote: this.remote.address }, 'sip ws connection closed: too many messages a second');
      this.errorReason = 'too many messages';
      return this.close('too many messages');
    }
    this.idle.restart();
    if (isOnlyLineEnds(data)) {
      // Keep-alives as SIP.js and JsSIP send them: answer a CRLF CRLF ping with a CRLF pong
      // (RFC 5626 4.4.1 style), ignore anything else made only of line ends.
      if (data.length === 4 && data.toString('latin1') === '\r\n\r\n') {
        this.ctx.stats.keepAlivePings++;
        this.send('\r\n');
      }
      return;
    }
    this.ctx.deliver(data, this);
  }
}

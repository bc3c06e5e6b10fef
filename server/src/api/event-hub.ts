import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocketServer } from 'ws';
import type { TimerHandle } from '../lib/clock.js';
import { EventConnection } from './event-conn.js';
import { DEFAULT_EVENT_HUB_LIMITS, type EventConnHost, type EventHubLimits, type EventHubOptions } from './event-hub-options.js';

export { DEFAULT_EVENT_HUB_LIMITS, type EventHubLimits, type EventHubOptions } from './event-hub-options.js';
import { MAX_CLIENT_FRAME_BYTES, WsClose } from './events-protocol.js';
import { originAllowed, pathOf, refuseUpgrade } from './upgrade.js';

/** Most session owners remembered (sessionId -> agentId) before the oldest are looked up again. */
const OWNER_CACHE = 20_000;

/**
 * The `/events` WebSocket (protocol in capture/EVENTS.md): relays the capture
 * events each principal may see and routes agents' commands to the live captures. The hub does the
 * handshake checks (path, Origin, connection cap), owns the keep-alive and the per-token counts;
 * each socket is an {@link EventConnection}.
 */
export class EventHub implements EventConnHost {
  readonly limits: EventHubLimits;
  readonly #o: EventHubOptions;
  readonly #path: string;
  readonly #wss: WebSocketServer;
  readonly #conns = new Set<EventConnection>();
  readonly #perToken = new Map<string, number>();
  readonly #perIp = new Map<string, number>();
  readonly #owners = new Map<string, string | null>();
  readonly #onUpgrade: (req: IncomingMessage, socket: Duplex, head: Buffer) => void;
  #pingTimer: TimerHandle | undefined;
  #closed = false;

  constructor(o: EventHubOptions) {
    this.#o = o;
    this.#path = o.path ?? '/events';
    this.limits = { ...DEFAULT_EVENT_HUB_LIMITS, ...o.limits };
    // maxPayload: a larger frame closes the socket with 1009 (ws does it, RFC 6455 7.4.1).
    this.#wss = new WebSocketServer({ noServer: true, clientTracking: false, perMessageDeflate: false, maxPayload: MAX_CLIENT_FRAME_BYTES });
    this.#onUpgrade = (req, socket, head) => this.#handleUpgrade(req, socket, head);
    o.server.on('upgrade', this.#onUpgrade);
    this.#schedulePing();
  }

  get path(): string {
    return this.#path;
  }

  /** Open sockets (authenticated or not). */
  get connections(): number {
    return this.#conns.size;
  }

  get deps(): EventHubOptions {
    return this.#o;
  }

  #handleUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void {
    if (pathOf(req.url) !== this.#path) return; // another listener's path (/sip), or refused by refuseUnknownUpgrades
    socket.on('error', (err) => this.#o.logger.debug({ err }, 'events handshake socket error'));
    if (this.#closed) return refuseUpgrade(socket, 503, 'Service Unavailable', 'shutting down');
    if (!originAllowed(req.headers.origin, req.headers.host, this.#o.allowedOrigins)) {
      this.#o.logger.info({ remote: req.socket.remoteAddress }, 'events socket refused: Origin not allowed');
      return refuseUpgrade(socket, 403, 'Forbidden', 'origin not allowed');
    }
    if (this.#conns.size >= this.limits.maxConnections) {
      this.#o.logger.warn({ remote: req.socket.remoteAddress }, 'events socket refused: too many connections');
      return refuseUpgrade(socket, 503, 'Service Unavailable', 'too many connections');
    }
    const remote = req.socket.remoteAddress ?? '';
    const fromIp = this.#perIp.get(remote) ?? 0;
    if (fromIp >= this.limits.maxConnectionsPerIp) {
      this.#o.logger.warn({ remote }, 'events socket refused: too many connections from this address');
      return refuseUpgrade(socket, 503, 'Service Unavailable', 'too many connections from this address');
    }
    this.#perIp.set(remote, fromIp + 1);
    // Counted until the TCP socket closes, whether or not the handshake completes.
    socket.once('close', () => {
      const n = (this.#perIp.get(remote) ?? 1) - 1;
      if (n > 0) this.#perIp.set(remote, n);
      else this.#perIp.delete(remote);
    });
    this.#wss.handleUpgrade(req, socket, head, (ws) => {
      if (this.#closed) return void ws.terminate();
      const conn = new EventConnection(this, ws, remote);
      this.#conns.add(conn);
      void conn.closed.then(() => this.#conns.delete(conn));
    });
  }

  /** Counts a socket against its token; false when the token already has the most allowed. */
  claim(key: string): boolean {
    const n = this.#perToken.get(key) ?? 0;
    if (n >= this.limits.maxConnectionsPerToken) return false;
    this.#perToken.set(key, n + 1);
    return true;
  }

  release(key: string): void {
    const n = (this.#perToken.get(key) ?? 0) - 1;
    if (n > 0) this.#perToken.set(key, n);
    else this.#perToken.delete(key);
  }

  /** Closes (4401) every socket opened with this token key: logout. */
  revoked(key: string): void {
    for (const c of this.#conns) if (c.tokenKey === key) c.close(WsClose.Unauthorized, 'token revoked');
  }

  noteOwner(sessionId: string, agentId: string | null): void {
    if (this.#owners.has(sessionId)) return;
    if (this.#owners.size >= OWNER_CACHE) this.#owners.delete(this.#owners.keys().next().value as string);
    this.#owners.set(sessionId, agentId);
  }

  /** The session's agent from the cache or the store; undefined when the session is unknown. */
  async ownerOf(sessionId: string): Promise<string | null | undefined> {
    const cached = this.#owners.get(sessionId);
    if (cached !== undefined) return cached;
    const rec = await this.#o.store.get(sessionId);
    if (!rec) return undefined;
    this.noteOwner(sessionId, rec.agentId);
    return rec.agentId;
  }

  #schedulePing(): void {
    if (this.#closed) return;
    this.#pingTimer = this.#o.clock.setTimeout(() => {
      for (const c of this.#conns) c.heartbeat();
      this.#schedulePing();
    }, this.limits.pingIntervalMs);
  }

  /** Idempotent: stops accepting, closes every socket with 1001. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#pingTimer?.cancel();
    this.#o.server.off('upgrade', this.#onUpgrade);
    const all = [...this.#conns];
    for (const c of all) c.close(WsClose.GoingAway, 'shutting down');
    await Promise.all(all.map((c) => c.closed));
    this.#wss.close();
  }
}

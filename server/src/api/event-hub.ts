import type { IncomingMessage, Server } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocketServer } from 'ws';
import type { SessionEvent } from '../capture/events.js';
import type { Clock, TimerHandle } from '../lib/clock.js';
import type { Logger } from '../observability/logger.js';
import type { EventBus, SessionStore } from '../store/index.js';
import type { Principal } from './auth.js';
import { EventConnection } from './event-conn.js';
import { MAX_CLIENT_FRAME_BYTES, WsClose, type SessionControl } from './events-protocol.js';
import { originAllowed, pathOf, refuseUpgrade } from './upgrade.js';

export interface EventHubLimits {
  /** The `auth` message must arrive within this. */
  readonly authTimeoutMs: number;
  /** Ping period; a peer that has not answered the previous ping is dropped. */
  readonly pingIntervalMs: number;
  readonly maxConnectionsPerToken: number;
  readonly maxConnections: number;
  /** Bytes queued for a peer before it counts as too slow (close 1013). */
  readonly maxBufferedBytes: number;
  /** Sockets one source address may hold open (docs/security.md); beyond it the handshake is 503. */
  readonly maxConnectionsPerIp: number;
  /** Messages a second one socket may send; beyond it the socket is closed with 1008. */
  readonly maxMessagesPerSecond: number;
}

export const DEFAULT_EVENT_HUB_LIMITS: EventHubLimits = {
  authTimeoutMs: 5_000,
  pingIntervalMs: 30_000,
  maxConnectionsPerToken: 10,
  maxConnections: 2_000,
  maxBufferedBytes: 1024 * 1024,
  maxConnectionsPerIp: 50,
  maxMessagesPerSecond: 20,
};

export interface EventHubOptions {
  readonly server: Server;
  readonly path?: string;
  readonly bus: EventBus<SessionEvent>;
  readonly store: SessionStore;
  readonly control: SessionControl;
  /** Bearer token -> principal (the gateway's resolver: supervisor, agent or handoff key). */
  readonly resolve: (token: string) => Principal | undefined;
  /** A token's non-secret key (hash) for per-token bookkeeping. */
  readonly tokenKey: (token: string) => string;
  /** Config ALLOWED_ORIGINS, normalized; undefined = same origin only. */
  readonly allowedOrigins?: readonly string[];
  readonly logger: Logger;
  readonly clock: Clock;
  readonly limits?: Partial<EventHubLimits>;
  /** A socket failed to authenticate (no, bad or late `auth`): for the audit trail. */
  readonly onAuthFailure?: (remote: string, reason: string) => void;
}

/** Most session owners remembered (sessionId -> agentId) before the oldest are looked up again. */
const OWNER_CACHE = 20_000;

/**
 * The `/events` WebSocket (issue 5 part 4; protocol in capture/EVENTS.md): relays the capture
 * events each principal may see and routes agents' commands to the live captures. The hub does the
 * handshake checks (path, Origin, connection cap), owns the keep-alive and the per-token counts;
 * each socket is an {@link EventConnection}.
 */
export class EventHub {
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

  /** The session's agent when known here without I/O: null = no agent, undefined = unknown. */
  cachedOwner(sessionId: string): string | null | undefined {
    return this.#owners.get(sessionId);
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

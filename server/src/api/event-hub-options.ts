import type { Server } from 'node:http';
import type { Clock } from '../lib/clock.js';
import type { Logger } from '../observability/logger.js';
import type { EventBus, SessionStore } from '../store/index.js';
import type { SessionEvent } from '../capture/events.js';
import type { Principal } from './auth.js';
import type { SessionControl } from './events-protocol.js';

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
  /** Brings a token's state up to date before `resolve` (shared agent tokens with Redis; api/agent-tokens.ts). */
  readonly refresh?: (token: string) => Promise<void>;
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

/** What one `/events` socket (event-conn.ts) needs of the hub that accepted it (event-hub.ts). */
export interface EventConnHost {
  readonly deps: EventHubOptions;
  readonly limits: EventHubLimits;
  /** Counts a socket against its token; false when the token already has the most allowed. */
  claim(key: string): boolean;
  release(key: string): void;
  /** Remembers a session's agent, as its events and records carry it (for agents' commands). */
  noteOwner(sessionId: string, agentId: string | null): void;
  /** The session's agent for a command: from what went by, else the store; undefined when unknown. */
  ownerOf(sessionId: string): Promise<string | null | undefined>;
}

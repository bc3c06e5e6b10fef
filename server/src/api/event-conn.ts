import { WebSocket, type RawData } from 'ws';
import type { AgentCommand, SessionEvent } from '../capture/events.js';
import type { TimerHandle } from '../lib/clock.js';
import type { Subscription } from '../store/index.js';
import type { EventConnHost } from './event-hub-options.js';
import {
  READY_SESSIONS,
  WsClose,
  isEventsPrincipal,
  maySee,
  parseClientMessage,
  principalJson,
  type AuthMessage,
  type CommandReply,
  type EventsPrincipal,
  type ServerFrame,
} from './events-protocol.js';

/**
 * After our close frame, how long the peer has to answer before the socket is dropped. A slow
 * reader (1013) gets its close frame only after reading the backlog queued before it.
 */
const CLOSE_GRACE_MS = 5_000;
/** A batch never holds more events than this; the next one flushes it (server/src/capture/EVENTS.md, "batch"). */
export const MAX_BATCH = 256;

type Phase = 'auth' | 'starting' | 'open' | 'closed';

/**
 * One `/events` socket: waits for `auth`, sends `ready`, then relays the visible events of every
 * session in seq order (by the agent each event carries) and answers commands.
 */
export class EventConnection {
  #phase: Phase = 'auth';
  #principal: EventsPrincipal | undefined;
  #token: string | undefined;
  #key: string | undefined;
  #sub: Subscription | undefined;
  /** Frames held back until `ready` (and any resync) has gone out. */
  #startBuffer: ServerFrame[] = [];
  /** Supervisors that asked for batches (`auth.batch`): events of this event-loop turn, sent as one frame. */
  #batching = false;
  #batch: SessionEvent[] = [];
  #flushScheduled = false;
  #alive = true;
  /** Messages in the current one-second window (limits.maxMessagesPerSecond). */
  #frames = 0;
  #windowStart = 0;
  #authTimer: TimerHandle | undefined;
  #graceTimer: NodeJS.Timeout | undefined;
  #markClosed!: () => void;
  readonly closed = new Promise<void>((r) => (this.#markClosed = r));

  constructor(
    private readonly hub: EventConnHost,
    private readonly ws: WebSocket,
    private readonly remote: string,
  ) {
    const { clock, logger } = hub.deps;
    this.#authTimer = clock.setTimeout(() => this.#refuseAuth('no auth message within the time allowed'), hub.limits.authTimeoutMs);
    ws.on('message', (data, isBinary) => this.#onMessage(data, isBinary));
    ws.on('pong', () => (this.#alive = true));
    // ws reports protocol violations (a frame over maxPayload: it closes with 1009 itself) here.
    ws.on('error', (err) => logger.info({ remote, err: err.message }, 'events socket protocol error'));
    ws.on('close', (code) => this.#cleanup(code));
  }

  /** The key of the token this socket authenticated with (never the token). */
  get tokenKey(): string | undefined {
    return this.#key;
  }

  /** Keep-alive tick: drop a peer that did not pong the last ping; drop a token no longer valid. */
  heartbeat(): void {
    if (this.#phase === 'closed') return;
    if (!this.#alive) {
      this.hub.deps.logger.info({ ...this.#who(), remote: this.remote }, 'events socket did not answer ping');
      this.ws.terminate();
      return;
    }
    if (this.#token !== undefined && !isEventsPrincipal(this.hub.deps.resolve(this.#token))) {
      this.close(WsClose.Unauthorized, 'token expired or revoked');
      return;
    }
    // With Redis: a sign-out on another gateway is seen here by the next ping at the latest (the
    // refresh drops the token, and the hub closes its sockets: EventHub.revoked). Never rejects.
    if (this.#token !== undefined) void this.hub.deps.refresh?.(this.#token);
    this.#alive = false;
    this.ws.ping();
  }

  /** Idempotent. */
  close(code: number, reason: string): void {
    if (this.#phase === 'closed') return;
    this.#teardown();
    if (this.ws.readyState === WebSocket.OPEN || this.ws.readyState === WebSocket.CONNECTING) this.ws.close(code, reason);
    this.#graceTimer = setTimeout(() => this.ws.terminate(), CLOSE_GRACE_MS);
    this.#graceTimer.unref();
  }

  /** A method, not a field read: the phase changes across awaits, which narrowing does not see. */
  #isClosed(): boolean {
    return this.#phase === 'closed';
  }

  #who(): Record<string, string> {
    const p = this.#principal;
    return p ? { principal: p.kind, ...(p.kind === 'agent' ? { agentId: p.agentId } : {}) } : { principal: 'none' };
  }

  #teardown(): void {
    const wasAuthed = this.#key !== undefined;
    this.#phase = 'closed';
    this.#authTimer?.cancel();
    this.#startBuffer = [];
    this.#batch = [];
    void this.#sub?.unsubscribe();
    this.#sub = undefined;
    if (wasAuthed) this.hub.release(this.#key!);
    this.#key = undefined;
    this.#token = undefined;
  }

  #cleanup(code: number): void {
    if (this.#graceTimer) clearTimeout(this.#graceTimer);
    const who = this.#who();
    if (this.#phase !== 'closed') this.#teardown();
    this.hub.deps.logger.info({ ...who, remote: this.remote, code }, 'events socket closed');
    this.#markClosed();
  }

  /** Any frame goes out after the events batched before it: coalescing never reorders. */
  #send(frame: ServerFrame): void {
    this.#flush();
    this.#write(frame);
  }

  /**
   * Events to a supervisor that asked for batches: collected until the end of this event-loop
   * turn (setImmediate runs after the I/O callbacks of the turn), then one frame. A lone event
   * goes out as itself, several as `{"type":"batch","events":[...]}` in bus order.
   */
  #enqueue(e: SessionEvent): void {
    this.#batch.push(e);
    if (this.#batch.length >= MAX_BATCH) return this.#flush();
    if (this.#flushScheduled) return;
    this.#flushScheduled = true;
    setImmediate(() => {
      this.#flushScheduled = false;
      this.#flush();
    });
  }

  #flush(): void {
    const events = this.#batch;
    if (events.length === 0) return;
    this.#batch = [];
    this.#write(events.length === 1 ? events[0]! : { type: 'batch', events });
  }

  #write(frame: ServerFrame): void {
    if (this.#phase === 'closed' || this.ws.readyState !== WebSocket.OPEN) return;
    this.ws.send(JSON.stringify(frame));
    if (this.ws.bufferedAmount > this.hub.limits.maxBufferedBytes) {
      this.hub.deps.logger.info({ ...this.#who(), remote: this.remote, buffered: this.ws.bufferedAmount }, 'events socket reads too slowly: closing');
      this.close(WsClose.TryAgainLater, 'reading too slowly');
    }
  }

  #refuseAuth(message: string): void {
    if (this.#phase !== 'auth') return;
    try {
      this.hub.deps.onAuthFailure?.(this.remote, message); // audited (docs/security.md)
    } catch {
      // an audit listener never changes the answer
    }
    this.#send({ type: 'error', error: 'unauthorized', message });
    this.close(WsClose.Unauthorized, 'unauthorized');
  }

  #onMessage(data: RawData, isBinary: boolean): void {
    if (this.#phase === 'closed') return;
    const now = this.hub.deps.clock.now();
    if (now - this.#windowStart >= 1000) {
      this.#windowStart = now;
      this.#frames = 0;
    }
    if (++this.#frames > this.hub.limits.maxMessagesPerSecond) return this.close(WsClose.PolicyViolation, 'too many messages');
    const text = isBinary ? undefined : Array.isArray(data) ? Buffer.concat(data).toString('utf8') : Buffer.from(data as Buffer).toString('utf8');
    const m = text === undefined ? ({ kind: 'error', error: 'invalid', message: 'binary frames are not accepted' } as const) : parseClientMessage(text);
    if (this.#phase === 'auth') {
      if (m.kind !== 'auth') return this.#refuseAuth('the first message must be a valid auth message');
      return void this.#authenticate(m.msg);
    }
    switch (m.kind) {
      case 'auth':
        return this.#send({ type: 'error', error: 'invalid', message: 'already authenticated' });
      case 'error':
        return this.#send({ type: 'error', error: m.error, message: m.message });
      case 'bad-command':
        return this.#send({ type: 'command.result', id: m.id, ok: false, error: 'invalid', message: m.message });
      case 'command':
        return void this.#command(m.id, m.sessionId, m.command);
    }
  }

  async #authenticate(msg: AuthMessage): Promise<void> {
    const { resolve, refresh, tokenKey, logger, bus, store } = this.hub.deps;
    if (refresh) await refresh(msg.token);
    if (this.#isClosed()) return;
    const who = resolve(msg.token);
    if (!isEventsPrincipal(who)) return this.#refuseAuth('unknown token, or one that may not open this socket');
    const key = tokenKey(msg.token);
    this.#authTimer?.cancel();
    if (!this.hub.claim(key)) {
      this.#phase = 'starting';
      logger.info({ principal: who.kind, ...(who.kind === 'agent' ? { agentId: who.agentId } : {}), remote: this.remote }, 'events socket refused: too many for this token');
      this.#send({ type: 'error', error: 'unauthorized', message: 'too many open sockets for this token' });
      return this.close(WsClose.TooManyConnections, 'too many connections for this token');
    }
    this.#phase = 'starting';
    this.#principal = who;
    this.#batching = msg.batch === true && who.kind === 'supervisor';
    this.#token = msg.token;
    this.#key = key;
    logger.info({ ...this.#who(), remote: this.remote }, 'events socket opened');
    try {
      // Subscribe first (events buffer until ready has gone), then read the records: nothing published
      // in between is lost.
      const sub = await bus.subscribe((e) => this.#route(e), msg.resume ? { resume: msg.resume } : {});
      if (this.#isClosed()) return void sub.unsubscribe();
      this.#sub = sub;
      const sessions = await store.list({ ...(who.kind === 'agent' ? { agentId: who.agentId } : {}), limit: READY_SESSIONS });
      for (const s of sessions) this.hub.noteOwner(s.id, s.agentId);
      const resyncs: ServerFrame[] = [];
      for (const sid of sub.truncated) {
        const rec = await store.get(sid);
        // A session the principal may not see looks exactly like one that does not exist.
        resyncs.push({ type: 'session.resync', sessionId: sid, record: rec && maySee(who, rec.agentId) ? rec : null });
      }
      if (this.#isClosed()) return;
      const held = this.#startBuffer;
      this.#startBuffer = [];
      this.#phase = 'open';
      this.#send({ type: 'ready', principal: principalJson(who), sessions });
      for (const f of resyncs) this.#send(f);
      for (const f of held) this.#send(f);
    } catch (err) {
      logger.warn({ ...this.#who(), err: (err as Error).message }, 'events socket could not start');
      this.close(WsClose.TryAgainLater, 'could not start');
    }
  }

  /**
   * Bus listener: relays an event if the principal may see its session. Every event carries its
   * session's agent (contract/events.ts), so routing needs no look-up and keeps the bus's order.
   */
  #route(e: SessionEvent): void {
    if (this.#phase === 'closed' || this.#phase === 'auth') return;
    this.hub.noteOwner(e.sessionId, e.agentId);
    if (!this.#principal || !maySee(this.#principal, e.agentId)) return;
    if (this.#phase === 'starting') this.#startBuffer.push(e);
    else if (this.#batching) this.#enqueue(e);
    else this.#send(e);
  }

  async #command(id: string, sessionId: string, command: AgentCommand): Promise<void> {
    const p = this.#principal;
    const reply = (r: CommandReply): void => this.#send({ type: 'command.result', id, ...r });
    if (!p) return;
    if (p.kind !== 'agent') return reply({ ok: false, error: 'forbidden', message: 'a supervisor watches sessions and controls none' });
    try {
      const owner = await this.hub.ownerOf(sessionId);
      if (!maySee(p, owner)) return reply({ ok: false, error: 'not-found', message: 'no such session of yours' });
      const r = await this.hub.deps.control.command(sessionId, command, p.agentId);
      this.hub.deps.logger.info({ ...this.#who(), sessionId, command: command.type, ok: r.ok }, 'events: agent command');
      reply(r.ok ? { ok: true } : { ok: false, error: r.error, message: r.message });
    } catch (err) {
      this.hub.deps.logger.warn({ ...this.#who(), sessionId, err: (err as Error).message }, 'events: agent command failed');
      reply({ ok: false, error: 'refused', message: 'the command could not be carried out' });
    }
  }
}

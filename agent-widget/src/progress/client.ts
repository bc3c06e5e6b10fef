import { Emitter } from '../lib/emitter.js';
import { isCaptureEvent, MAX_RESUME_ENTRIES, type AgentCommand, type CaptureEvent, type ServerMessage, type SessionRecord } from './types.js';

/**
 * Client of the gateway's `/events` WebSocket: authenticates with the agent's token, resumes every
 * session it has seen from the last seq, reconnects with exponential backoff and jitter, and sends
 * agent commands (`field.retry`, `session.cancel`) matched to their `command.result` by id.
 *
 *   connecting --open+auth--> authenticating --ready--> open --close--> waiting --timer--> connecting
 *        any --close 4401--> auth-failed (no retry: the token is no good)      close() --> closed
 */
export type ConnectionState = 'connecting' | 'authenticating' | 'open' | 'waiting' | 'auth-failed' | 'closed';

export interface ProgressClientEvents extends Record<string, unknown> {
  state: { state: ConnectionState; retryInMs?: number };
  ready: { sessions: readonly SessionRecord[]; principal?: { readonly kind: string; readonly agentId?: string } };
  event: CaptureEvent;
  resync: { sessionId: string; record: SessionRecord };
  error: { error: string; message: string };
}

export interface CommandResult {
  ok: boolean;
  error?: string;
  message?: string;
}

/** What the client needs of a WebSocket (the browser's, or a fake in tests). */
export interface SocketLike {
  onopen: ((ev: Event) => void) | null;
  onmessage: ((ev: MessageEvent) => void) | null;
  onclose: ((ev: CloseEvent) => void) | null;
  onerror: ((ev: Event) => void) | null;
  readonly readyState: number;
  send(data: string): void;
  close(code?: number, reason?: string): void;
}

export interface ProgressClientOptions {
  url: string;
  token: string;
  socket?: (url: string) => SocketLike;
  setTimer?: (fn: () => void, ms: number) => unknown;
  clearTimer?: (handle: unknown) => void;
  random?: () => number;
  commandTimeoutMs?: number;
  /** Ask for `batch` frames (the gateway sends them to supervisors only): the dashboard does. */
  batch?: boolean;
}

/** Delay before reconnect attempt `n` (0-based): 0.5 s doubling to 15 s, times 0.5-1.0 jitter. */
export function backoffDelay(n: number, random: () => number = Math.random): number {
  const base = Math.min(15_000, 500 * 2 ** Math.min(n, 10));
  return Math.round(base * (0.5 + random() / 2));
}

const OPEN = 1;
/** Resume entries the gateway accepts in one `auth` (the contract's MAX_RESUME_ENTRIES). */
export const MAX_RESUME = MAX_RESUME_ENTRIES;

export class ProgressClient extends Emitter<ProgressClientEvents> {
  private ws: SocketLike | null = null;
  private attempts = 0;
  private timer: unknown = null;
  private stopped = false;
  private nextId = 1;
  private readonly lastSeq = new Map<string, number>();
  private readonly pending = new Map<string, { resolve: (r: CommandResult) => void; timer: unknown }>();
  private readonly setTimer: (fn: () => void, ms: number) => unknown;
  private readonly clearTimer: (h: unknown) => void;

  constructor(private readonly opts: ProgressClientOptions) {
    super();
    this.setTimer = opts.setTimer ?? ((fn, ms) => setTimeout(fn, ms));
    this.clearTimer = opts.clearTimer ?? ((h) => clearTimeout(h as ReturnType<typeof setTimeout>));
  }

  start(): void {
    if (this.stopped || this.ws) return;
    this.emit('state', { state: 'connecting' });
    const ws = (this.opts.socket ?? ((u) => new WebSocket(u)))(this.opts.url);
    this.ws = ws;
    ws.onopen = () => {
      this.emit('state', { state: 'authenticating' });
      // The gateway takes at most MAX_RESUME entries: the sessions heard from most recently.
      const resume = Object.fromEntries([...this.lastSeq].slice(-MAX_RESUME));
      ws.send(JSON.stringify({ type: 'auth', token: this.opts.token, ...(this.lastSeq.size ? { resume } : {}), ...(this.opts.batch ? { batch: true } : {}) }));
    };
    ws.onmessage = (ev) => this.onMessage(typeof ev.data === 'string' ? ev.data : '');
    ws.onerror = () => undefined; // onclose follows and decides
    ws.onclose = (ev) => this.onClose(ev.code);
  }

  /** Last seq seen per session (what a reconnect resumes from). */
  resumePoints(): Readonly<Record<string, number>> {
    return Object.fromEntries(this.lastSeq);
  }

  command(sessionId: string, command: AgentCommand): Promise<CommandResult> {
    const ws = this.ws;
    if (!ws || ws.readyState !== OPEN) return Promise.resolve({ ok: false, error: 'disconnected', message: 'Not connected to the gateway' });
    const id = `c${this.nextId++}`;
    return new Promise((resolve) => {
      const timer = this.setTimer(() => {
        this.pending.delete(id);
        resolve({ ok: false, error: 'timeout', message: 'The gateway did not answer' });
      }, this.opts.commandTimeoutMs ?? 10_000);
      this.pending.set(id, { resolve, timer });
      ws.send(JSON.stringify({ type: 'command', id, sessionId, command }));
    });
  }

  /** Idempotent: stops reconnecting and closes the socket. */
  close(): void {
    if (this.stopped) return;
    this.stopped = true;
    if (this.timer !== null) this.clearTimer(this.timer);
    this.ws?.close(1000, 'bye');
    this.ws = null;
    this.failPending('closed');
    this.emit('state', { state: 'closed' });
  }

  private onMessage(text: string): void {
    let m: ServerMessage;
    try {
      m = JSON.parse(text) as ServerMessage;
    } catch {
      return; // not JSON: ignore, the server never sends that
    }
    if (m.type === 'batch') {
      // Several events of one gateway tick, in order (server/src/capture/EVENTS.md).
      if (Array.isArray(m.events)) for (const e of m.events) this.handle(e);
      return;
    }
    this.handle(m);
  }

  private handle(m: ServerMessage): void {
    if (isCaptureEvent(m)) {
      const last = this.lastSeq.get(m.sessionId) ?? 0;
      if (m.seq <= last) return; // replayed on resume: already applied
      this.lastSeq.delete(m.sessionId); // re-inserted last: the Map's order is recency
      this.lastSeq.set(m.sessionId, m.seq);
      this.emit('event', m);
      return;
    }
    switch (m.type) {
      case 'ready':
        this.attempts = 0;
        this.emit('state', { state: 'open' });
        this.emit('ready', { sessions: m.sessions, principal: m.principal });
        return;
      case 'session.resync':
        // null: the gateway no longer knows the session; there is nothing to resync it to.
        if (m.record) this.emit('resync', { sessionId: m.sessionId, record: m.record });
        return;
      case 'command.result': {
        const p = this.pending.get(m.id);
        if (!p) return;
        this.pending.delete(m.id);
        this.clearTimer(p.timer);
        p.resolve(m.ok ? { ok: true } : { ok: false, error: m.error, message: m.message });
        return;
      }
      case 'error':
        this.emit('error', { error: m.error, message: m.message });
        return;
    }
  }

  private onClose(code: number): void {
    this.ws = null;
    this.failPending('disconnected');
    if (this.stopped) return;
    if (code === 4401) {
      this.stopped = true;
      this.emit('state', { state: 'auth-failed' });
      return;
    }
    const delay = backoffDelay(this.attempts++, this.opts.random);
    this.emit('state', { state: 'waiting', retryInMs: delay });
    this.timer = this.setTimer(() => {
      this.timer = null;
      this.start();
    }, delay);
  }

  private failPending(error: string): void {
    for (const [id, p] of this.pending) {
      this.clearTimer(p.timer);
      p.resolve({ ok: false, error, message: 'The connection to the gateway was lost' });
      this.pending.delete(id);
    }
  }
}

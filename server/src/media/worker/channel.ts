import { Worker } from 'node:worker_threads';
import { SafeEmitter } from '../../lib/emitter.js';

/**
 * A numbered request/notification channel to a worker thread (docs/architecture.md practice 7, after
 * mediasoup's Channel): each request carries an id and is answered exactly once, by a response
 * with that id or, when the worker dies or the request times out, by a rejection. Notifications
 * flow from the worker unprompted.
 *
 * Wire format (structured clone, no JSON):
 *   main -> worker   { id, method, params }
 *   worker -> main   { id, ok: true, result } | { id, ok: false, error: { message, code? } }
 *                    { event, data }                       (notification)
 */
const BOOTSTRAP = new URL('./bootstrap.mjs', import.meta.url);

export interface WireRequest {
  id: number;
  method: string;
  params: unknown;
}
export type WireResponse = { id: number; ok: true; result: unknown } | { id: number; ok: false; error: { message: string; code?: string } };
export interface WireNotification {
  event: string;
  data: unknown;
}

/** Request methods: name -> [params, result]. */
export type MethodMap = Record<string, [unknown, unknown]>;
/** Notifications: name -> data. */
export type NotificationMap = Record<string, unknown>;

export class ChannelError extends Error {
  constructor(
    message: string,
    readonly code: 'TIMEOUT' | 'CLOSED' | 'WORKER_DIED' | 'REMOTE',
    readonly remoteCode?: string,
  ) {
    super(message);
    this.name = 'ChannelError';
  }
}

export interface ChannelEvents<N extends NotificationMap> {
  notification: <K extends keyof N & string>(event: K, data: N[K]) => void;
  /** The worker exited or failed; every pending request has been rejected. */
  died: (reason: string) => void;
}

interface Pending {
  resolve: (v: unknown) => void;
  reject: (e: Error) => void;
  timer: NodeJS.Timeout;
  method: string;
}

/** Transport to the worker: a real Worker, or a fake in unit tests. */
export interface Port {
  postMessage(msg: WireRequest): void;
  on(ev: 'message', fn: (m: WireResponse | WireNotification) => void): void;
  on(ev: 'error', fn: (err: Error) => void): void;
  on(ev: 'exit', fn: (code: number) => void): void;
  terminate(): Promise<number>;
}

export class Channel<M extends MethodMap, N extends NotificationMap> {
  readonly events: SafeEmitter<{ notification: (event: string, data: unknown) => void; died: (reason: string) => void }>;
  private nextId = 1;
  private readonly pending = new Map<number, Pending>();
  private closed = false;
  private deadReason: string | undefined;

  constructor(
    private readonly port: Port,
    private readonly opts: { timeoutMs: number; onListenerError?: (err: unknown) => void },
  ) {
    this.events = new SafeEmitter((err) => opts.onListenerError?.(err));
    port.on('message', (m) => this.onMessage(m));
    port.on('error', (err) => this.die(`worker error: ${err.message}`));
    port.on('exit', (code) => this.die(`worker exited with code ${code}`));
  }

  static spawn<M extends MethodMap, N extends NotificationMap>(
    file: URL,
    opts: { timeoutMs: number; workerData?: unknown; onListenerError?: (err: unknown) => void },
  ): Channel<M, N> {
    // bootstrap.mjs registers tsx inside the worker, so TypeScript entries load under tsx and vitest
    // alike; compiled JavaScript (npm run build, server/dist) starts the entry itself, without tsx.
    const workerData = { entry: file.href, data: opts.workerData };
    const w = file.pathname.endsWith('.ts') ? new Worker(BOOTSTRAP, { workerData }) : new Worker(file, { workerData });
    return new Channel<M, N>(w as unknown as Port, opts);
  }

  get alive(): boolean {
    return !this.closed && this.deadReason === undefined;
  }

  get inFlight(): number {
    return this.pending.size;
  }

  request<K extends keyof M & string>(method: K, params: M[K][0]): Promise<M[K][1]> {
    if (!this.alive) return Promise.reject(new ChannelError(`${method}: channel ${this.deadReason ?? 'closed'}`, this.closed ? 'CLOSED' : 'WORKER_DIED'));
    const id = this.nextId++;
    return new Promise<M[K][1]>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        reject(new ChannelError(`${method}: no answer from the media worker within ${this.opts.timeoutMs} ms`, 'TIMEOUT'));
      }, this.opts.timeoutMs);
      timer.unref();
      this.pending.set(id, { resolve: resolve as (v: unknown) => void, reject, timer, method });
      this.port.postMessage({ id, method, params });
    });
  }

  onNotification<K extends keyof N & string>(event: K, fn: (data: N[K]) => void): () => void {
    return this.events.on('notification', (ev, data) => {
      if (ev === event) fn(data as N[K]);
    });
  }

  private onMessage(m: WireResponse | WireNotification): void {
    if ('event' in m) {
      this.events.emit('notification', m.event, m.data);
      return;
    }
    const p = this.pending.get(m.id);
    if (!p) return; // answered after its timeout: already rejected
    this.pending.delete(m.id);
    clearTimeout(p.timer);
    if (m.ok) p.resolve(m.result);
    else p.reject(new ChannelError(`${p.method}: ${m.error.message}`, 'REMOTE', m.error.code));
  }

  private die(reason: string): void {
    if (this.deadReason !== undefined || this.closed) return;
    this.deadReason = reason;
    this.rejectAll(new ChannelError(reason, 'WORKER_DIED'));
    this.events.emit('died', reason);
  }

  private rejectAll(err: ChannelError): void {
    for (const [, p] of this.pending) {
      clearTimeout(p.timer);
      p.reject(err);
    }
    this.pending.clear();
  }

  /** Idempotent: rejects pending requests and stops the worker. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.rejectAll(new ChannelError('channel closed', 'CLOSED'));
    this.events.removeAll();
    await this.port.terminate();
  }
}

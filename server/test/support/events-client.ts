import { WebSocket } from 'ws';

/** A frame the /events socket sent, parsed. */
export type Frame = { type: string; [k: string]: unknown };

/**
 * A real `ws` client of the gateway's /events socket that keeps every frame (for assertions and for
 * leak scans) and lets a test wait for a frame, the handshake refusal or the close.
 */
export class EventsClient {
  readonly frames: Frame[] = [];
  readonly raw: string[] = [];
  readonly opened: Promise<void>;
  /** Resolves with the close code. */
  readonly closed: Promise<{ code: number; reason: string }>;
  /** The HTTP status of a refused handshake (never settles when the handshake succeeds). */
  readonly refused: Promise<number>;
  readonly ws: WebSocket;
  #waiters: { pred: (f: Frame) => boolean; resolve: (f: Frame) => void }[] = [];

  constructor(url: string, opts: { origin?: string; headers?: Record<string, string>; autoPong?: boolean; ca?: Buffer } = {}) {
    this.ws = new WebSocket(url, { ...(opts.origin ? { origin: opts.origin } : {}), ...(opts.ca ? { ca: opts.ca } : {}), headers: opts.headers ?? {}, autoPong: opts.autoPong ?? true });
    this.opened = new Promise((resolve, reject) => {
      this.ws.once('open', () => resolve());
      this.ws.once('error', reject);
    });
    this.opened.catch(() => {});
    this.refused = new Promise((resolve) => {
      this.ws.on('unexpected-response', (req, res) => {
        resolve(res.statusCode ?? 0);
        res.resume();
        req.destroy(); // with this listener, ws leaves aborting the request to us
      });
    });
    this.ws.on('error', () => {});
    this.closed = new Promise((resolve) => this.ws.once('close', (code, reason) => resolve({ code, reason: reason.toString() })));
    this.ws.on('message', (data) => {
      const text = data.toString();
      this.raw.push(text);
      const m = JSON.parse(text) as Frame;
      // A `batch` (supervisors that asked for it, capture/EVENTS.md) is its events in order; `raw` keeps the messages.
      for (const f of m.type === 'batch' && Array.isArray(m.events) ? (m.events as Frame[]) : [m]) {
        this.frames.push(f);
        this.#waiters = this.#waiters.filter((w) => (w.pred(f) ? (w.resolve(f), false) : true));
      }
    });
  }

  send(msg: unknown): void {
    this.ws.send(typeof msg === 'string' ? msg : JSON.stringify(msg));
  }

  /** The first frame (already received or to come) matching `pred`. */
  next(pred: (f: Frame) => boolean, what = 'a frame', timeoutMs = 60_000): Promise<Frame> {
    const seen = this.frames.find(pred);
    if (seen) return Promise.resolve(seen);
    return new Promise((resolve, reject) => {
      const t = setTimeout(() => reject(new Error(`timed out waiting for ${what}; got ${this.raw.slice(-5).join(' | ')}`)), timeoutMs);
      this.#waiters.push({ pred, resolve: (f) => (clearTimeout(t), resolve(f)) });
    });
  }

  /** Opens, authenticates, and waits for `ready`. */
  async auth(token: string, resume?: Record<string, number>, opts: { batch?: boolean } = {}): Promise<Frame> {
    await this.opened;
    this.send({ type: 'auth', token, ...(resume ? { resume } : {}), ...(opts.batch !== undefined ? { batch: opts.batch } : {}) });
    return this.next((f) => f.type === 'ready', 'ready');
  }

  /** Sends a command and waits for its result. */
  async command(id: string, sessionId: string, command: unknown): Promise<Frame> {
    this.send({ type: 'command', id, sessionId, command });
    return this.next((f) => f.type === 'command.result' && f.id === id, `command.result ${id}`);
  }

  /** Capture events of one session, in arrival order. */
  eventsOf(sessionId: string): Frame[] {
    return this.frames.filter((f) => f.sessionId === sessionId && f.type !== 'session.resync');
  }

  close(): void {
    this.ws.close();
  }
}

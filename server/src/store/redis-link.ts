import { createClient } from 'redis';
import type { Logger } from '../observability/logger.js';

/**
 * The gateway's connection to Redis: one command client and one pub/sub client, fast
 * failure while disconnected (no offline queue, a command timeout that holds: {@link RedisLink.timed}), reconnection with a capped
 * backoff, and the up/down state that `/healthz` reports. It logs exactly one line per change:
 * `redis down` (warn, with the reason) and `redis back` (info, with how long it was down).
 *
 * Components built on it (store, bus, heartbeat) keep working from local memory while it is down
 * and register an `onUp` hook to write what they queued once it is back.
 */
export type RedisState = 'connecting' | 'up' | 'down' | 'closed';

/** A command got no answer within the link's command timeout (it may still run on the server later). */
export class RedisTimeoutError extends Error {
  constructor(
    readonly what: string,
    readonly timeoutMs: number,
  ) {
    super(`redis: no answer to ${what} within ${timeoutMs} ms`);
    this.name = 'RedisTimeoutError';
  }
}

export interface RedisLinkOptions {
  readonly url: string;
  readonly logger: Logger;
  /** A command that gets no answer within this is failed (the caller buffers). Default 2 000 ms. */
  readonly commandTimeoutMs?: number;
  /** How long `open()` waits for the first connection before going on degraded. Default 3 000 ms. */
  readonly connectWaitMs?: number;
  /** AUTH password (REDIS_PASSWORD / REDIS_PASSWORD_FILE) when the URL carries none. */
  readonly password?: string | undefined;
  /** `rediss://`: PEM CA bundle that signed the server's certificate (REDIS_TLS_CA_FILE); unset: Node's CA store. */
  readonly tlsCa?: Buffer | undefined;
}

/** RFC 8996: no TLS 1.0/1.1 to Redis either. */
const REDIS_TLS_MIN_VERSION = 'TLSv1.2' as const;

const makeClient = (url: string, commandTimeoutMs: number, o: Pick<RedisLinkOptions, 'password' | 'tlsCa'> = {}) => {
  const tls = /^rediss:/i.test(url);
  const common = { connectTimeout: 2_000, reconnectStrategy: (retries: number) => Math.min(50 * 2 ** retries, 1_000) };
  // A password in the URL wins (node-redis reads it from there); otherwise the configured one.
  const hasUrlPassword = (() => {
    try {
      return new URL(url).password !== '';
    } catch {
      return false;
    }
  })();
  return createClient({
    url,
    ...(o.password !== undefined && !hasUrlPassword ? { password: o.password } : {}),
    disableOfflineQueue: true,
    commandOptions: { timeout: commandTimeoutMs },
    // rediss://: the server's certificate is checked against the CA (and the host name), TLS 1.2+.
    socket: tls ? { ...common, tls: true as const, minVersion: REDIS_TLS_MIN_VERSION, ...(o.tlsCa ? { ca: o.tlsCa } : {}) } : common,
  });
};
export type RedisClient = ReturnType<typeof makeClient>;

export interface RedisHealth {
  readonly state: RedisState;
  /** Why it is down (the client's last error message). */
  readonly reason?: string;
  /** ISO time of the last change. */
  readonly since: string;
}

export class RedisLink {
  /** Use it through {@link timed}: a bare command to a hung server never settles. */
  readonly client: RedisClient;
  /** How long {@link timed} waits for an answer. */
  readonly commandTimeoutMs: number;
  /** A command timed out: down until a PING queued behind it is answered. */
  #hung = false;
  /** Pub/sub only (a subscribed connection can run no other command). */
  readonly sub: RedisClient;
  readonly #log: Logger;
  readonly #onUp = new Set<(restarted: boolean) => Promise<void> | void>();
  /** The server's `run_id`: a new one after a reconnection means Redis restarted (and, without persistence, lost its data). */
  #runId: string | undefined;
  readonly #onChange = new Set<(state: RedisState) => void>();
  #state: RedisState = 'connecting';
  #reason: string | undefined;
  #since = Date.now();
  #closing: Promise<void> | undefined;

  private constructor(o: RedisLinkOptions) {
    this.#log = o.logger;
    const t = o.commandTimeoutMs ?? 2_000;
    this.commandTimeoutMs = t;
    this.client = makeClient(o.url, t, o);
    this.sub = makeClient(o.url, t, o);
    for (const c of [this.client, this.sub]) {
      c.on('error', (err: unknown) => this.#down(err instanceof Error ? err.message : String(err)));
      c.on('reconnecting', () => this.#down(this.#reason ?? 'reconnecting'));
      c.on('ready', () => this.#maybeUp());
    }
  }

  /** Connects (waiting up to `connectWaitMs`); a Redis that is not there yet leaves the link down, retrying. */
  static async open(o: RedisLinkOptions): Promise<RedisLink> {
    const link = new RedisLink(o);
    const connecting = Promise.all([link.client.connect(), link.sub.connect()]).then(() => undefined);
    connecting.catch((err: unknown) => link.#down(err instanceof Error ? err.message : String(err)));
    const wait = new Promise<void>((r) => setTimeout(r, o.connectWaitMs ?? 3_000).unref());
    await Promise.race([connecting.catch(() => undefined), wait]);
    if (link.#state === 'connecting') link.#down('no connection yet');
    return link;
  }

  get up(): boolean {
    return this.#state === 'up';
  }

  /**
   * Runs one command (or MULTI) on the command client with a deadline that holds. node-redis's own
   * command timeout covers only a command still waiting to be written: once it is on the socket it
   * waits for its answer for good, so a server that stops answering without closing the connection
   * (SIGSTOP, a partition that drops packets) would hold every caller. Past `commandTimeoutMs` this
   * rejects with {@link RedisTimeoutError} and the link goes down ("not answering"): callers take
   * their outage paths (local memory, buffers), and the link is up again once a PING queued behind
   * the stuck command is answered. The command itself may still run on the server after that.
   */
  timed<T>(what: string, run: (c: RedisClient) => Promise<T>): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const timer = setTimeout(() => {
        reject(new RedisTimeoutError(what, this.commandTimeoutMs));
        this.#notAnswering(what);
      }, this.commandTimeoutMs);
      run(this.client).then(
        (v) => {
          clearTimeout(timer);
          resolve(v);
        },
        (err: unknown) => {
          clearTimeout(timer);
          reject(err instanceof Error ? err : new Error(String(err)));
        },
      );
    });
  }

  #notAnswering(what: string): void {
    if (this.#state === 'closed') return;
    this.#down(`not answering within ${this.commandTimeoutMs} ms (${what})`);
    if (this.#hung) return;
    this.#hung = true;
    // FIFO on one connection: the PING's answer means the server has worked through what was stuck.
    this.client.ping().then(
      () => {
        this.#hung = false;
        this.#maybeUp();
      },
      () => {
        this.#hung = false; // the connection failed instead: its 'error' / 'ready' events take over
        this.#maybeUp();
      },
    );
  }

  get state(): RedisState {
    return this.#state;
  }

  health(): RedisHealth {
    return { state: this.#state, ...(this.#state !== 'up' && this.#reason ? { reason: this.#reason } : {}), since: new Date(this.#since).toISOString() };
  }

  /** Runs after every reconnection; `restarted`: the server is a new process (its data may be gone). Errors are logged. */
  onUp(fn: (restarted: boolean) => Promise<void> | void): void {
    this.#onUp.add(fn);
  }

  onChange(fn: (state: RedisState) => void): void {
    this.#onChange.add(fn);
  }

  /** Idempotent. */
  close(): Promise<void> {
    this.#closing ??= (async () => {
      this.#set('closed');
      // QUIT waits behind commands in flight: a hung server gets the socket destroyed instead.
      const wait = (ms: number) => new Promise<'late'>((r) => setTimeout(() => r('late'), ms).unref());
      await Promise.all(
        [this.sub, this.client].map(async (c) => {
          if (!c.isOpen) return;
          const r = await Promise.race([c.close().catch(() => 'failed' as const), wait(this.commandTimeoutMs)]);
          if (r === 'late' || r === 'failed') c.destroy();
        }),
      );
    })();
    return this.#closing;
  }

  #down(reason: string): void {
    this.#reason = reason;
    if (this.#state === 'down' || this.#state === 'closed') return;
    const wasUp = this.#state === 'up';
    this.#set('down');
    this.#log.warn({ redis: 'down', reason, wasUp }, `redis down: ${reason}; capturing from local memory, buffering events and session writes`);
  }

  #maybeUp(): void {
    if (this.#state === 'closed' || this.#state === 'up' || this.#hung || !this.client.isReady || !this.sub.isReady) return;
    const downMs = Date.now() - this.#since;
    const first = this.#state === 'connecting';
    this.#set('up');
    this.#reason = undefined;
    if (first) this.#log.info({ redis: 'up' }, 'redis connected');
    else this.#log.info({ redis: 'up', downMs }, `redis back after ${downMs} ms; flushing buffered events and session writes`);
    void this.#runUpHooks();
  }

  async #runUpHooks(): Promise<void> {
    let restarted = false;
    try {
      const runId = /run_id:(\w+)/.exec(await this.timed('INFO', (c) => c.info('server')))?.[1];
      restarted = this.#runId !== undefined && runId !== this.#runId;
      this.#runId = runId;
      if (restarted) this.#log.warn({ redis: 'restarted' }, 'redis restarted: rewriting this instance\'s recent sessions and events');
    } catch {
      // unknown: treat as the same server
    }
    for (const fn of this.#onUp) {
      try {
        await fn(restarted);
      } catch (err) {
        this.#log.warn({ err: (err as Error).message }, 'redis: flush after reconnect failed (retried)');
      }
    }
  }

  #set(state: RedisState): void {
    this.#state = state;
    this.#since = Date.now();
    for (const fn of this.#onChange) {
      try {
        fn(state);
      } catch {
        // a state listener must not break the link
      }
    }
  }
}

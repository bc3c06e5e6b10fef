/**
 * A fault-injecting HTTP proxy between the gateway and the payment provider (bench:faults). Every
 * request goes to `upstream` unchanged (method, path, body, Idempotency-Key); the proxy may
 *   - hold the provider's answer back `delayMs` before passing it on (a slow provider);
 *   - answer 500 itself, seeded random with probability `fail500`, either `before` forwarding
 *     (the provider never sees the request) or `after` (the provider acted, its answer is lost:
 *     the case that double-charges a careless client).
 * Counts requests and injected faults per operation (method + path with ids replaced).
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { prng } from '../../devtools/prng.js';

export interface FaultMode {
  delayMs: number;
  fail500: number;
  failWhen: 'before' | 'after';
  seed: number;
  /** The provider is down (every request answered 500 before forwarding) in this span after setMode, ms. */
  outage?: { fromMs: number; toMs: number };
}

export const NO_FAULTS: FaultMode = { delayMs: 0, fail500: 0, failWhen: 'before', seed: 1 };

export interface OpCount {
  requests: number;
  injected: number;
  /** Answers the provider gave (status -> count), before any injected 500 replaced them. */
  upstream: Record<string, number>;
}

const HOP = new Set(['host', 'connection', 'content-length', 'keep-alive', 'transfer-encoding']);

export const opOf = (method: string, path: string): string =>
  `${method} ${path.split('?')[0]!.split('/').map((seg) => (seg.length >= 12 || (/\d/.test(seg) && seg.length > 3) ? ':id' : seg)).join('/')}`;

export class FaultProxy {
  readonly ops = new Map<string, OpCount>();
  private mode: FaultMode = NO_FAULTS;
  private random = prng(1);
  private since = performance.now();

  private constructor(
    private readonly server: Server,
    private readonly upstream: string,
  ) {
    server.on('request', (req: IncomingMessage, res: ServerResponse) => void this.handle(req, res));
  }

  static async start(upstream: string): Promise<FaultProxy> {
    const server = createServer();
    server.keepAliveTimeout = 30_000;
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
    return new FaultProxy(server, upstream.replace(/\/+$/, ''));
  }

  get url(): string {
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  /** New faults from now on; counts restart. */
  setMode(m: FaultMode): void {
    this.mode = m;
    this.random = prng(m.seed);
    this.since = performance.now();
    this.ops.clear();
  }

  private count(op: string): OpCount {
    let c = this.ops.get(op);
    if (!c) this.ops.set(op, (c = { requests: 0, injected: 0, upstream: {} }));
    return c;
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const op = opOf(req.method ?? 'GET', req.url ?? '/');
    const n = this.count(op);
    n.requests++;
    const m = this.mode;
    const t = performance.now() - this.since;
    const down = !!m.outage && t >= m.outage.fromMs && t < m.outage.toMs;
    const fail = down || (m.fail500 > 0 && this.random() < m.fail500);
    const fail500 = (): void => {
      n.injected++;
      res.writeHead(500, { 'content-type': 'application/json' }).end('{"error":{"code":"internal-error"}}');
    };
    if (fail && (down || m.failWhen === 'before')) return fail500();
    let status = 502;
    let body = Buffer.alloc(0);
    const headers: Record<string, string> = {};
    try {
      const fwd: Record<string, string> = {};
      for (const [k, v] of Object.entries(req.headers)) if (!HOP.has(k) && typeof v === 'string') fwd[k] = v;
      const up = await fetch(`${this.upstream}${req.url ?? '/'}`, {
        method: req.method ?? 'GET',
        headers: fwd,
        body: chunks.length ? Buffer.concat(chunks) : null,
        signal: res.closed ? AbortSignal.abort() : null,
      });
      status = up.status;
      body = Buffer.from(await up.arrayBuffer());
      for (const k of ['content-type', 'retry-after']) {
        const v = up.headers.get(k);
        if (v) headers[k] = v;
      }
    } catch {
      status = 502;
    }
    n.upstream[status] = (n.upstream[status] ?? 0) + 1;
    if (m.delayMs > 0) await new Promise((r) => setTimeout(r, m.delayMs));
    if (res.closed) return; // the gateway gave up (its timeout)
    if (fail) return fail500();
    res.writeHead(status, headers).end(body);
  }

  close(): Promise<void> {
    return new Promise((r) => {
      this.server.close(() => r());
      this.server.closeAllConnections();
    });
  }
}

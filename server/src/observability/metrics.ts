import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';

/** What the gateway reads at scrape time (observability/ imports no upper layer: the gateway wires these). */
export interface MetricSources {
  activeCalls(): number;
  activeCaptures(): number;
  /** Breaker state per provider name. */
  breakers(): Readonly<Record<string, string>>;
  /** Media plane RTP totals since start. */
  rtp(): Promise<{ packetsIn: number; packetsOut: number; lost: number; wrongSource: number }>;
  /** Each live media worker thread's own memory, bytes (media/engine/protocol.ts WorkerMemory). */
  mediaWorkerMemory?(): Promise<{ worker: number; memory: Readonly<Record<'heapUsed' | 'heapTotal' | 'external' | 'arrayBuffers' | 'malloced', number>> }[]>;
  /** Undefined: memory store (no Redis). */
  redis(): { up: boolean; bufferedEvents: number; droppedEvents: number; pendingWrites: number } | undefined;
  /** Undefined: no audit export to syslog (AUDIT_SYSLOG_URL unset). */
  auditSyslog?(): { connected: boolean; queued: number; dropped: number } | undefined;
}

const BREAKER = { closed: 0, 'half-open': 1, open: 2 } as const;

/**
 * Prometheus metrics (`GET /metrics`) on a registry of tonegate's own (not prom-client's global
 * one), so two gateways in one process (tests) never share counters. Node's default metrics come
 * with it, `nodejs_eventloop_lag_seconds` among them.
 */
export class Metrics {
  readonly registry = new Registry();
  readonly outcomes: Counter<'outcome'>;
  readonly digits: Counter<'transport'>;
  readonly providerLatency: Histogram<'provider' | 'op' | 'status'>;
  /** Requests refused at the trust boundary, by reason (docs/security.md). */
  readonly refusals: Counter<'reason'>;
  /** SMS refused before sending because they do not fit their DLT template, by problem (providers/dlt.ts). */
  readonly smsRefused: Counter<'reason'>;

  constructor(src: MetricSources) {
    const registers = [this.registry];
    collectDefaultMetrics({ register: this.registry, prefix: 'tonegate_' });
    new Gauge({ name: 'tonegate_active_calls', help: 'Calls through the gateway now (bridged and payment calls)', registers, collect() { this.set(src.activeCalls()); } });
    new Gauge({ name: 'tonegate_active_captures', help: 'Payment captures running on this instance now', registers, collect() { this.set(src.activeCaptures()); } });
    this.outcomes = new Counter({ name: 'tonegate_capture_outcomes_total', help: 'Ended captures by outcome', labelNames: ['outcome'], registers });
    this.refusals = new Counter({ name: 'tonegate_refusals_total', help: 'Requests refused at the trust boundary (untrusted peer, signature, velocity, rate, lockout), by reason', labelNames: ['reason'], registers });
    this.smsRefused = new Counter({ name: 'tonegate_sms_refused_total', help: 'SMS never sent because the rendered text does not fit its DLT template, by problem', labelNames: ['reason'], registers });
    this.digits = new Counter({ name: 'tonegate_capture_digits_total', help: 'Digits keyed into capture fields, by DTMF transport (counted when the capture ends)', labelNames: ['transport'], registers });
    this.providerLatency = new Histogram({
      name: 'tonegate_provider_request_duration_seconds',
      help: 'Provider HTTP calls (payment, OTP, SMS): time to the response headers',
      labelNames: ['provider', 'op', 'status'],
      buckets: [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
      registers,
    });
    new Gauge({
      name: 'tonegate_provider_breaker_state', help: 'Circuit breaker per provider: 0 closed, 1 half-open, 2 open', labelNames: ['provider'], registers,
      collect() {
        for (const [p, s] of Object.entries(src.breakers())) this.set({ provider: p }, BREAKER[s as keyof typeof BREAKER] ?? -1);
      },
    });
    // Totals kept by the media workers: re-read on each scrape.
    let rtp: Promise<{ packetsIn: number; packetsOut: number; lost: number; wrongSource: number }> | undefined;
    const readRtp = () => (rtp ??= src.rtp().finally(() => setImmediate(() => (rtp = undefined))));
    new Counter({
      name: 'tonegate_rtp_packets_total', help: 'RTP packets on anchored media legs', labelNames: ['direction'], registers,
      async collect() {
        const r = await readRtp();
        this.reset();
        this.inc({ direction: 'in' }, r.packetsIn);
        this.inc({ direction: 'out' }, r.packetsOut);
      },
    });
    new Counter({
      name: 'tonegate_rtp_packets_lost_total', help: 'RTP packets lost on receive (RFC 3550 A.3)', registers,
      async collect() {
        const r = await readRtp();
        this.reset();
        this.inc(r.lost);
      },
    });
    new Counter({
      name: 'tonegate_rtp_unexpected_source_packets_total',
      help: 'RTP packets dropped because they came from another address than the SDP named or than the latched source (symmetric RTP latching)',
      registers,
      async collect() {
        const r = await readRtp();
        this.reset();
        this.inc(r.wrongSource);
      },
    });
    const mediaWorkerMemory = src.mediaWorkerMemory?.bind(src);
    if (mediaWorkerMemory) {
      const KIND = { heapUsed: 'heap_used', heapTotal: 'heap_total', external: 'external', arrayBuffers: 'array_buffers', malloced: 'malloced' } as const;
      new Gauge({
        name: 'tonegate_media_worker_memory_bytes',
        help: 'Memory of each media worker thread: its V8 heap (used, total), external memory, ArrayBuffers and V8 malloc use (the process RSS is shared by all threads)',
        labelNames: ['worker', 'kind'],
        registers,
        async collect() {
          const list = await mediaWorkerMemory();
          this.reset();
          for (const w of list) for (const [k, kind] of Object.entries(KIND)) this.set({ worker: String(w.worker), kind }, w.memory[k as keyof typeof KIND]);
        },
      });
    }
    new Gauge({
      name: 'tonegate_redis_up', help: 'Redis connection: 1 up, 0 down (absent with the memory store)', registers,
      collect() {
        const r = src.redis();
        this.reset();
        if (r) this.set(r.up ? 1 : 0);
      },
    });
    new Gauge({
      name: 'tonegate_redis_backlog', help: 'Waiting for Redis: events (buffered) and session records (writes)', labelNames: ['kind'], registers,
      collect() {
        const r = src.redis();
        this.reset();
        if (r) {
          this.set({ kind: 'events' }, r.bufferedEvents);
          this.set({ kind: 'writes' }, r.pendingWrites);
        }
      },
    });
    // PCI DSS 10.7: an alert can watch the audit export (absent without AUDIT_SYSLOG_URL).
    new Gauge({
      name: 'tonegate_audit_syslog_up', help: 'Audit export to the syslog collector: 1 connected, 0 not (absent without AUDIT_SYSLOG_URL)', registers,
      collect() {
        const a = src.auditSyslog?.();
        this.reset();
        if (a) this.set(a.connected ? 1 : 0);
      },
    });
    new Gauge({
      name: 'tonegate_audit_syslog_queued', help: 'Audit entries waiting for the syslog collector', registers,
      collect() {
        const a = src.auditSyslog?.();
        this.reset();
        if (a) this.set(a.queued);
      },
    });
    new Counter({
      name: 'tonegate_audit_syslog_dropped_total', help: 'Audit entries dropped from the full syslog queue (the file keeps them)', registers,
      collect() {
        const a = src.auditSyslog?.();
        this.reset();
        if (a) this.inc(a.dropped);
      },
    });
    new Counter({
      name: 'tonegate_redis_dropped_events_total', help: 'Events dropped because the outage buffer was full', registers,
      collect() {
        this.reset();
        this.inc(src.redis()?.droppedEvents ?? 0);
      },
    });
  }

  /** A fetch that times each provider call into the latency histogram (op = method + path with ids replaced). */
  timedFetch(provider: string, inner: typeof fetch = globalThis.fetch): typeof fetch {
    return async (input, init) => {
      const url = new URL(typeof input === 'string' ? input : input instanceof URL ? input.href : input.url);
      const op = `${(init?.method ?? 'GET').toUpperCase()} ${url.pathname.split('/').map((seg) => (seg.length >= 12 || (/\d/.test(seg) && seg.length > 3) ? ':id' : seg)).join('/')}`;
      const end = this.providerLatency.startTimer({ provider, op });
      try {
        const res = await inner(input, init);
        end({ status: String(res.status) });
        return res;
      } catch (err) {
        end({ status: 'error' });
        throw err;
      }
    };
  }

  metrics(): Promise<string> {
    return this.registry.metrics();
  }
}

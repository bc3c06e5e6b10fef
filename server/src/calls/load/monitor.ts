import { createHistogram, performance, type RecordableHistogram } from 'node:perf_hooks';
import { limitsReached, loadRefusal, PORT_PAIRS, type LoadLimits, type LoadMeasures, type LoadReason, type LoadRefusal, type LoadRequestKind } from './decide.js';

const DRIFT_MS = 20;

/** What the monitor reads: counts and ports now, worker activity when it samples. */
export interface LoadSources {
  calls(): number;
  captures(): number;
  ports(): { allocated: number; capacity: number } | undefined;
  /** Each media worker's cumulative event-loop active time, ms (media/engine/protocol.ts `activeMs`). */
  workerActiveMs(): Promise<{ worker: number; activeMs: number }[]>;
}

export interface LoadMonitorOptions {
  readonly sources: LoadSources;
  readonly limits: LoadLimits;
  /** Sample period of worker activity and loop lag, ms. Default 1000. */
  readonly sampleMs?: number;
  /** Milliseconds, monotonic. */
  readonly now?: () => number;
  /** Counts and logs one refusal (metrics `tonegate_load_refusals_total{reason}`). */
  readonly onRefused?: (r: LoadRefusal, kind: LoadRequestKind) => void;
}

/**
 * Measures the gateway's load and answers the admission question of calls/load/decide.ts
 * (docs/operations.md, "Overload"). Held calls, captures and free RTP ports are read at the moment
 * of the decision; the media workers' busy share and the main event loop's lag (p99 of how late a
 * 20 ms timer runs) are sampled every second, so a decision costs no I/O; each counts as the lower
 * of its last two samples, so only overload lasting two samples refuses.
 */
export class LoadMonitor {
  readonly limits: LoadLimits;
  /** The last two samples of each (newest last): a measure counts only when both pass, i.e. sustained. */
  #mediaBusy: [number, number] = [0, 0];
  #loopLagMs: [number, number] = [0, 0];
  /**
   * How late a 20 ms timer of our own runs: it sees a loop starved of CPU (late wake-ups from poll)
   * and a callback that holds the thread. (perf_hooks' monitorEventLoopDelay, used before, misses
   * the second on Node 20, and it records a stall on its own timer's schedule, so one stall across a
   * sample's boundary could land in both samples and refuse calls as if it had lasted two seconds:
   * 15 refusals for one 271 ms stall in the 2026-12-07 soak, server/bench/RESULTS.md.)
   */
  readonly #drift: RecordableHistogram = createHistogram();
  #driftTimer: NodeJS.Timeout | undefined;
  /** When the drift timer should next run (performance.now()). */
  #driftDue = 0;
  readonly #last = new Map<number, { activeMs: number; at: number }>();
  #timer: NodeJS.Timeout | undefined;
  #sampling = false;
  readonly #now: () => number;
  /** Admitted but not yet counted by the sources (the handoff is being read): a burst cannot slip past a limit. */
  readonly #pending = { calls: 0, captures: 0, ports: 0 };

  constructor(private readonly o: LoadMonitorOptions) {
    this.limits = o.limits;
    this.#now = o.now ?? (() => performance.now());
  }

  start(): void {
    if (this.#timer) return;
    this.#timer = setInterval(() => void this.sample(), this.o.sampleMs ?? 1000);
    this.#timer.unref();
    this.#driftDue = performance.now() + DRIFT_MS;
    this.#driftTimer = setInterval(() => this.#recordDrift(performance.now()), DRIFT_MS);
    this.#driftTimer.unref();
  }

  stop(): void {
    if (this.#timer) clearInterval(this.#timer);
    if (this.#driftTimer) clearInterval(this.#driftTimer);
    this.#timer = this.#driftTimer = undefined;
  }

  /**
   * Records how late the drift timer is at `now` and moves its due time on. Called by the timer,
   * and by sample() for a tick that is overdue when the sample is taken: the stall then counts in
   * the sample it happened in, once (the late tick that follows finds itself early: 1 µs).
   */
  #recordDrift(now: number): void {
    this.#drift.record(Math.max(1, Math.round((now - this.#driftDue) * 1000))); // µs; record() needs >= 1
    this.#driftDue = now + DRIFT_MS;
  }

  /** One sample: loop lag since the last one, and each worker's active share since the last one. */
  async sample(): Promise<void> {
    if (this.#sampling) return;
    this.#sampling = true;
    try {
      const t = performance.now();
      if (this.#driftTimer && t > this.#driftDue) this.#recordDrift(t);
      const drift = this.#drift.count > 0 ? this.#drift.percentile(99) / 1e3 : 0;
      this.#loopLagMs = [this.#loopLagMs[1], drift];
      this.#drift.reset();
      const workers = await this.o.sources.workerActiveMs();
      const at = this.#now();
      let busiest = 0;
      for (const w of workers) {
        const prev = this.#last.get(w.worker);
        this.#last.set(w.worker, { activeMs: w.activeMs, at });
        // A replaced worker starts again from 0: no share until its second sample.
        if (prev && at > prev.at && w.activeMs >= prev.activeMs) busiest = Math.max(busiest, Math.min(1, (w.activeMs - prev.activeMs) / (at - prev.at)));
      }
      this.#mediaBusy = [this.#mediaBusy[1], busiest];
    } catch {
      // A worker that does not answer is being replaced (media/plane.ts); keep the last figure.
    } finally {
      this.#sampling = false;
    }
  }

  measures(): LoadMeasures {
    const p = this.o.sources.ports();
    const q = this.#pending;
    return {
      calls: this.o.sources.calls() + q.calls,
      captures: this.o.sources.captures() + q.captures,
      freePortPairs: p ? p.capacity - p.allocated - q.ports : Infinity,
      // The lower of the last two samples: one stall (a GC pause, a slow callback) refuses nothing;
      // a second of it in a row does (RFC 7339 reacts to sustained overload, not to a spike).
      mediaBusy: Math.min(...this.#mediaBusy),
      loopLagMs: Math.min(...this.#loopLagMs),
    };
  }

  /** May this request start? A refusal is counted (onRefused) before it is returned. */
  refusal(kind: LoadRequestKind): LoadRefusal | undefined {
    const r = loadRefusal(kind, this.measures(), this.limits);
    if (r) this.o.onRefused?.(r, kind);
    return r;
  }

  /**
   * Admits or refuses; an admitted request counts as pending until `release()` (call it once the
   * call or capture is counted by the sources, or when the request is refused later). Idempotent.
   */
  admit(kind: LoadRequestKind): { refusal: LoadRefusal } | { release: () => void } {
    const r = this.refusal(kind);
    if (r) return { refusal: r };
    const add = { calls: kind === 'payment-refer' ? 0 : 1, captures: kind === 'bridged' ? 0 : 1, ports: PORT_PAIRS[kind] };
    const q = this.#pending;
    q.calls += add.calls;
    q.captures += add.captures;
    q.ports += add.ports;
    let done = false;
    return {
      release: () => {
        if (done) return;
        done = true;
        q.calls -= add.calls;
        q.captures -= add.captures;
        q.ports -= add.ports;
      },
    };
  }

  /** The limits reached now (`/healthz` degraded reasons). */
  reached(): { reason: LoadReason; text: string }[] {
    return limitsReached(this.measures(), this.limits).map((r) => ({ reason: r.reason, text: r.text.replace(/^overload: /, '').replace(/; retry later$/, '') }));
  }
}

/** `Retry-After` and `Warning` for a 503 (RFC 3261 21.5.4, 20.33, 20.43). */
export function retryAfterHeader(r: Pick<LoadRefusal, 'retryAfterS'>): string {
  return `Retry-After: ${r.retryAfterS}`;
}

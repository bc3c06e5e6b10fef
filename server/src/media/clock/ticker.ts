/**
 * Drift-free periodic ticker for a media worker.
 *
 * Tick n is due at `start + n * periodMs`, computed from one monotonic start time, so a timer
 * that fires late never pushes the later deadlines back (a naive setInterval re-arms from the
 * moment it fired and drifts by its own lateness every period; RFC 3550 §5.1 senders must
 * advance the RTP timestamp with the sampling clock, not with the scheduler).
 *
 * When the thread was blocked and several ticks are overdue, up to `maxCatchUp` of them run
 * back to back (audio stays continuous); the rest are skipped (`onSkip`, counted) so a long
 * stall does not turn into a burst of hundreds of frames.
 *
 * Accounting per tick: `late` when it started more than `lateMs` after its due time; `missed`
 * when it finished after the due time of the tick after it (its budget), or was skipped. A
 * media worker is "keeping up" while `missed` stays 0.
 */

export interface TickerStats {
  ticks: number;
  /** Started more than lateMs after the due time. */
  late: number;
  /** Finished after the next tick's due time, or skipped. */
  missed: number;
  skipped: number;
  maxLatenessMs: number;
  /** Longest time one tick's callback ran. */
  maxBusyMs: number;
  /** Total time spent in callbacks (for a utilisation figure). */
  busyMs: number;
}

export interface TickerOptions {
  periodMs: number;
  onTick(n: number, dueMs: number): void;
  onSkip?(n: number): void;
  /** A callback threw; the ticker carries on. */
  onError?(err: unknown): void;
  /** Monotonic milliseconds. Default performance.now. */
  now?: () => number;
  /** Timer primitive (fake clocks in tests). Default setTimeout. */
  setTimer?: (fn: () => void, ms: number) => { cancel(): void };
  /** Default periodMs / 2. */
  lateMs?: number;
  /** Overdue ticks run back to back before the rest are skipped. Default 4. */
  maxCatchUp?: number;
}

const defaultTimer = (fn: () => void, ms: number): { cancel(): void } => {
  const t = setTimeout(fn, ms);
  return { cancel: () => clearTimeout(t) };
};

/** Timers fire on whole milliseconds; a tick due within this much is run now rather than re-armed. */
const EARLY_TOLERANCE_MS = 0.3;

export class Ticker {
  readonly stats: TickerStats = { ticks: 0, late: 0, missed: 0, skipped: 0, maxLatenessMs: 0, maxBusyMs: 0, busyMs: 0 };
  private readonly now: () => number;
  private readonly setTimer: (fn: () => void, ms: number) => { cancel(): void };
  private readonly lateMs: number;
  private readonly maxCatchUp: number;
  private startMs = 0;
  private n = 0;
  private timer: { cancel(): void } | undefined;
  private running = false;

  constructor(private readonly opts: TickerOptions) {
    if (!(opts.periodMs > 0)) throw new RangeError(`Ticker: period ${opts.periodMs}`);
    this.now = opts.now ?? (() => performance.now());
    this.setTimer = opts.setTimer ?? defaultTimer;
    this.lateMs = opts.lateMs ?? opts.periodMs / 2;
    this.maxCatchUp = opts.maxCatchUp ?? 4;
  }

  /** The monotonic time tick 0 was due (the phase reference of the tick grid). */
  get epochMs(): number {
    return this.startMs;
  }

  get periodMs(): number {
    return this.opts.periodMs;
  }

  /** Index of the next tick to run. */
  get nextTick(): number {
    return this.n;
  }

  get isRunning(): boolean {
    return this.running;
  }

  /** Start with tick 0 due after one period. Idempotent while running. */
  start(): void {
    if (this.running) return;
    this.running = true;
    this.startMs = this.now() + this.opts.periodMs;
    this.n = 0;
    this.arm();
  }

  /** Restart the peak figures (maxLatenessMs, maxBusyMs), e.g. at each stats scrape. */
  resetPeaks(): void {
    this.stats.maxLatenessMs = 0;
    this.stats.maxBusyMs = 0;
  }

  stop(): void {
    this.running = false;
    this.timer?.cancel();
    this.timer = undefined;
  }

  private arm(): void {
    if (!this.running) return;
    const due = this.startMs + this.n * this.opts.periodMs;
    const wait = Math.max(0, due - this.now());
    this.timer = this.setTimer(this.fire, wait);
  }

  private readonly fire = (): void => {
    this.timer = undefined;
    if (!this.running) return;
    const period = this.opts.periodMs;
    let now = this.now();
    while (this.running) {
      const due = this.startMs + this.n * period;
      if (due > now + EARLY_TOLERANCE_MS) break;
      const overdue = Math.floor((now - due) / period) + 1; // ticks due now, this one included
      if (overdue > this.maxCatchUp) {
        for (let k = overdue - this.maxCatchUp; k > 0; k--) {
          this.stats.skipped++;
          this.stats.missed++;
          const skippedTick = this.n++;
          this.call(() => this.opts.onSkip?.(skippedTick));
        }
        continue;
      }
      const lateness = now - due;
      if (lateness > this.lateMs) this.stats.late++;
      if (lateness > this.stats.maxLatenessMs) this.stats.maxLatenessMs = lateness;
      const n = this.n++;
      this.call(() => this.opts.onTick(n, due));
      const end = this.now();
      const busy = end - now;
      this.stats.ticks++;
      this.stats.busyMs += busy;
      if (busy > this.stats.maxBusyMs) this.stats.maxBusyMs = busy;
      if (end > due + period) this.stats.missed++;
      now = end;
    }
    this.arm();
  };

  private call(fn: () => void): void {
    try {
      fn();
    } catch (err) {
      try {
        this.opts.onError?.(err);
      } catch {
        // an error listener must not stop the clock either
      }
    }
  }
}

import { constants, PerformanceObserver } from 'node:perf_hooks';
import { setFlagsFromString } from 'node:v8';

/**
 * Compaction now and then (docs/operations.md, Memory): every `everyMs`, V8's
 * `--compact-on-every-full-gc` is set for the next full collections and cleared again, so the old
 * space's fragmented pages are evacuated once per period instead of never (V8's latency-first
 * default moves at most 4 MB of live objects per full collection) or at every collection
 * (`HEAP_COMPACTION`, whose pauses refuse calls for event-loop lag).
 *
 * V8 reads the flag when a full collection starts compacting, which for an incremental collection
 * is when its marking starts (MarkCompactCollector::StartCompaction); a collection whose marking
 * began before the flag was set ends without it. So the flag stays set until the second full
 * collection that ends after it was set: that one began after it.
 */
export const FULL_GCS_PER_WINDOW = 2;
// Measured (server/bench/RESULTS.md, soak R11 against R12, 30 min at 9.6 payment calls/s): every
// 300 s, RSS +8.3 MB per 10 min after warm-up against +15.2 without; the compacting collections
// paused the event loop 195-316 ms, no more than twice per period; hence the default of 300 s.
// V8's flags are the whole process's, so the media worker threads' collections compact too while
// a window is open: their longer pauses once cut in-band DTMF tones, until the playout buffer
// learnt to wait for late packets inside a tone (docs/operations.md, Memory).

/** The state machine, without timers or V8 (unit-tested). */
export class CompactionWindow {
  #fullGcsSeen = 0;
  #open = false;
  /** Windows opened and closed so far. */
  windows = 0;

  constructor(private readonly setFlag: (flag: string) => void) {}

  /** True while the flag is set. */
  get open(): boolean {
    return this.#open;
  }

  /** The period elapsed: set the flag (a window still open stays open and is not counted again). */
  period(): void {
    if (this.#open) return;
    this.setFlag('--compact-on-every-full-gc');
    this.#open = true;
    this.#fullGcsSeen = 0;
  }

  /** A full (mark-compact) collection ended. */
  fullGc(): void {
    if (!this.#open || ++this.#fullGcsSeen < FULL_GCS_PER_WINDOW) return;
    this.setFlag('--no-compact-on-every-full-gc');
    this.#open = false;
    this.windows++;
  }

  /** Clears the flag if set (shutdown). */
  close(): void {
    if (this.#open) this.setFlag('--no-compact-on-every-full-gc');
    this.#open = false;
  }
}

export interface PeriodicCompaction {
  readonly window: CompactionWindow;
  stop(): void;
}

/** Starts the period timer (unref'd: it keeps no process alive) and watches full collections. */
export function startPeriodicCompaction(everyMs: number, setFlag: (flag: string) => void = setFlagsFromString): PeriodicCompaction {
  if (!(Number.isFinite(everyMs) && everyMs > 0)) throw new RangeError(`compaction period must be > 0 ms, not ${everyMs}`);
  const window = new CompactionWindow(setFlag);
  const observer = new PerformanceObserver((list) => {
    for (const e of list.getEntries()) {
      // A 'gc' entry's detail is { kind, flags } (Node's perf_hooks); kind 4 is a mark-compact.
      const { detail } = e as { detail?: { kind?: number } };
      if (detail?.kind === constants.NODE_PERFORMANCE_GC_MAJOR) window.fullGc();
    }
  });
  observer.observe({ entryTypes: ['gc'] });
  const timer = setInterval(() => window.period(), everyMs);
  timer.unref();
  return {
    window,
    stop: () => {
      clearInterval(timer);
      observer.disconnect();
      window.close();
    },
  };
}

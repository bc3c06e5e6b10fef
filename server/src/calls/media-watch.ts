import type { Clock, TimerHandle } from '../lib/clock.js';
import type { BridgeStats } from '../media/plane.js';

/**
 * Media inactivity (docs/architecture.md, "Timers that end stuck calls"): a call whose BYE was
 * lost (RFC 3261 15: the BYE's client transaction times out and nothing else ends the dialog) or
 * whose peer vanished is ended when one of its legs sends no RTP for `timeoutMs`. A call on hold
 * (a=sendonly / a=inactive, RFC 3264 8.4) is exempt: its legs may be silent by design; the count
 * starts again when it is taken off hold.
 *
 * `InactivityTracker` is pure (tested with tables); `watchMedia` polls the bridge's per-leg
 * counters (`stats().legs[].rx.packets`, counted in the media worker) on the call's clock.
 */
export class InactivityTracker {
  /** Per leg: the packet count last seen and when it last changed. */
  private readonly legs = new Map<string, { packets: number; since: number }>();

  constructor(private readonly timeoutMs: number) {}

  /**
   * One sample at `now`: the legs' received-packet counters and whether the call is on hold.
   * Returns the id of a leg silent for `timeoutMs` or longer, or undefined.
   */
  observe(now: number, legs: ReadonlyArray<{ id: string; packets: number }>, exempt: boolean): string | undefined {
    let silent: string | undefined;
    for (const { id, packets } of legs) {
      const seen = this.legs.get(id);
      if (!seen || seen.packets !== packets || exempt) {
        this.legs.set(id, { packets, since: now });
        continue;
      }
      if (silent === undefined && now - seen.since >= this.timeoutMs) silent = id;
    }
    return silent;
  }
}

/**
 * The capture's hang-up cause for a call ended with `reason` (call.ts, session-timers.ts word their
 * reasons so): a payment killed by a timer says why (capture/machine.ts HangupCause).
 */
export function hangupCauseOf(reason: string): 'media-timeout' | 'session-expired' | undefined {
  if (reason.startsWith('media timeout')) return 'media-timeout';
  if (reason.startsWith('session expired')) return 'session-expired';
  return undefined;
}

/** How often the counters are read: a quarter of the timeout, at most every 5 s, at least every 250 ms. */
export const pollIntervalMs = (timeoutMs: number): number => Math.max(250, Math.min(5_000, Math.floor(timeoutMs / 4)));

export interface MediaWatchOptions {
  clock: Clock;
  timeoutMs: number;
  stats: () => Promise<BridgeStats>;
  /** True while the call is on hold (exempt). */
  exempt: () => boolean;
  /** Called once, with the silent leg's id and how long it was silent. */
  onTimeout: (legId: string, silentMs: number) => void;
  /** Stats could not be read (bridge gone): the watch stops; the bridge's own failure ends the call. */
  onError?: (err: unknown) => void;
}

/** Polls until stopped or until a leg times out. `timeoutMs` 0 disables the watch. */
export function watchMedia(o: MediaWatchOptions): { stop(): void } {
  if (o.timeoutMs <= 0) return { stop: () => {} };
  const tracker = new InactivityTracker(o.timeoutMs);
  const every = pollIntervalMs(o.timeoutMs);
  let stopped = false;
  let handle: TimerHandle | undefined;
  const schedule = (): void => {
    if (!stopped) handle = o.clock.setTimeout(() => void poll(), every);
  };
  const poll = async (): Promise<void> => {
    let st: BridgeStats;
    try {
      st = await o.stats();
    } catch (err) {
      if (!stopped) o.onError?.(err);
      stopped = true;
      return;
    }
    if (stopped) return;
    const silent = tracker.observe(o.clock.now(), st.legs.map((l) => ({ id: l.id, packets: l.rx.packets })), o.exempt());
    if (silent !== undefined) {
      stopped = true;
      o.onTimeout(silent, o.timeoutMs);
      return;
    }
    schedule();
  };
  void poll();
  return {
    stop: () => {
      stopped = true;
      handle?.cancel();
    },
  };
}

import { setFlagsFromString } from 'node:v8';

/** How the main thread's V8 heap is collected (docs/operations.md, Memory). */
export interface HeapPolicy {
  /** Old-space headroom over the live heap before a full collection, percent; 0: V8's own choice. */
  readonly growthPercent: number;
  /** Compact every fragmented old-space page at each full collection. */
  readonly compactEveryGc: boolean;
}

/**
 * Sets V8's collection flags for this process; both are read at every full collection, so they
 * take effect when set after start. Returns the flags set.
 *
 * - `--compact-on-every-full-gc` (off by default): at a steady payment load the old space fragments
 *   faster than V8 compacts it by default (its regular mode evacuates at most 4 MB of live objects
 *   per full collection), so its committed size, and the RSS, climbed ~40 MB per 10 minutes with
 *   the live heap flat; compacting every fragmented page keeps the committed size at the live size,
 *   but each full collection then pauses the event loop for hundreds of ms (server/bench/RESULTS.md,
 *   "Where the soak's RSS went").
 * - `--heap-growing-percent`: the collection trigger is the live heap plus this share, instead of a
 *   factor V8 picks from its collector's speed (up to 4x when the heap limit is 2 GiB or more).
 */
export function applyHeapPolicy(p: HeapPolicy): string[] {
  if (!Number.isInteger(p.growthPercent) || p.growthPercent < 0) throw new RangeError(`heap growth percent must be a whole number >= 0, not ${p.growthPercent}`);
  const flags = [...(p.growthPercent > 0 ? [`--heap-growing-percent=${p.growthPercent}`] : []), ...(p.compactEveryGc ? ['--compact-on-every-full-gc'] : [])];
  for (const f of flags) setFlagsFromString(f);
  return flags;
}

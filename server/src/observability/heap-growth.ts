import { setFlagsFromString } from 'node:v8';

/**
 * The main thread's V8 heap headroom: how far the old space may grow past the live heap before the
 * next full collection (`--heap-growing-percent`, read by V8's heap controller at every full
 * collection, so it can be set after start). Unset, V8 picks the factor from the collector's speed
 * against the allocation rate, up to 4x the live heap when the heap limit is 2 GiB or more (Node
 * sizes it from the machine's memory): at a steady payment load the gateway's RSS then climbs for
 * tens of minutes with nothing leaking (server/bench/RESULTS.md, "Where the soak's RSS went").
 * Returns the flag set, or undefined for 0 (V8's own heuristic).
 */
export function applyHeapGrowth(percent: number): string | undefined {
  if (!Number.isInteger(percent) || percent < 0) throw new RangeError(`heap growth percent must be a whole number >= 0, not ${percent}`);
  if (percent === 0) return undefined;
  const flag = `--heap-growing-percent=${percent}`;
  setFlagsFromString(flag);
  return flag;
}

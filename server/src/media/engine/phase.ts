/**
 * Tick phase alignment. A worker's clock ticks every 20 / slots ms; each bridge runs on one slot
 * (once per 20 ms). A customer packet waits in the playout buffer from its arrival to its
 * bridge's next tick: up to 20 ms with one slot. Choosing the slot that comes soonest after the
 * customer's packets usually arrive (with a 1 ms margin for jitter) cuts that wait to about
 * 0-6 ms with four slots, which is what keeps customer -> agent delay (40 ms look-ahead
 * included) under 60 ms at the 99th percentile. Spreading bridges over slots also spreads the
 * worker's load over the 20 ms period.
 */

/** Mean wait (ms) from arrivals to slot `s`, with arrivals inside the margin counted as missing it. */
export function slotCosts(arrivals: Float64Array, count: number, epochMs: number, periodMs: number, slots: number, marginMs: number): number[] {
  const n = Math.min(count, arrivals.length);
  const costs: number[] = [];
  const step = periodMs / slots;
  for (let s = 0; s < slots; s++) {
    let sum = 0;
    for (let i = 0; i < n; i++) {
      const phase = (((arrivals[i]! - epochMs) % periodMs) + periodMs) % periodMs;
      sum += ((((s * step - phase - marginMs) % periodMs) + periodMs) % periodMs) + marginMs;
    }
    costs.push(n > 0 ? sum / n : 0);
  }
  return costs;
}

/** The slot with the smallest mean wait, or `current` unless another is better by `hysteresisMs`. */
export function bestSlot(costs: number[], current: number, hysteresisMs: number): number {
  let best = current;
  for (let s = 0; s < costs.length; s++) if (costs[s]! < costs[best]!) best = s;
  return costs[best]! < costs[current]! - hysteresisMs ? best : current;
}

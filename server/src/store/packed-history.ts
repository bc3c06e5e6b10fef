/**
 * A quiet session's event history, packed: one deflated JSON array in memory outside V8's heap
 * instead of a few hundred small objects in it. Why (server/bench/RESULTS.md, "Where the soak's RSS
 * went"): the memory bus keeps the history of up to 10,000 sessions, ~9 KB and ~150 heap objects
 * each; evicted first-in-first-out, they leave V8's old space fragmented faster than its default
 * compaction (at most 4 MB of live objects moved per full collection) frees it, and its committed
 * size grew ~40 MB per 10 minutes at a steady payment load. Packed, a history is one ArrayBuffer
 * the heap does not hold, and the full collections have ~90 MB less to mark.
 *
 * Events are JSON data: they already cross WebSockets and Redis as JSON (docs/architecture.md), so a
 * round trip through JSON changes nothing a subscriber can see.
 */
import { deflateRawSync, inflateRawSync } from 'node:zlib';

export interface PackedHistory {
  readonly lastSeq: number;
  readonly lastAt: number;
  /** How many events the bytes hold (no unpacking needed to know). */
  readonly count: number;
  readonly bytes: Uint8Array;
}

export class PackedHistoryError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'PackedHistoryError';
  }
}

export function packHistory<E>(h: { readonly lastSeq: number; readonly lastAt: number; readonly events: readonly E[] }): PackedHistory {
  const deflated = deflateRawSync(JSON.stringify(h.events), { level: 6 });
  // A copy of exactly the deflated length: zlib's result may be a view of a larger output buffer,
  // and a view keeps all of it alive.
  return { lastSeq: h.lastSeq, lastAt: h.lastAt, count: h.events.length, bytes: new Uint8Array(deflated) };
}

export function unpackHistory<E>(p: PackedHistory): { lastSeq: number; lastAt: number; events: E[] } {
  let events: unknown;
  try {
    events = JSON.parse(inflateRawSync(p.bytes).toString('utf8'));
  } catch (err) {
    throw new PackedHistoryError('packed event history is unreadable', { cause: err });
  }
  if (!Array.isArray(events) || events.length !== p.count) throw new PackedHistoryError(`packed event history holds ${Array.isArray(events) ? events.length : 'no'} events, ${p.count} expected`);
  return { lastSeq: p.lastSeq, lastAt: p.lastAt, events: events as E[] };
}

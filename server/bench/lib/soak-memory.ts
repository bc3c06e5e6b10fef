/**
 * bench:soak's memory break-down: where the gateway's RSS goes, one 10 s sample at a time.
 *   - the main thread: V8 heap used and total, `external` and `arrayBuffers` (the bench probe's
 *     process.memoryUsage()), its old space committed and in use (v8.getHeapSpaceStatistics) and
 *     the full collections so far;
 *   - each media worker thread: its own V8 heap, external memory, ArrayBuffers and V8 malloc use,
 *     read from the gateway's /metrics (`tonegate_media_worker_memory_bytes`, which the workers'
 *     `stats` answer feeds);
 *   - what none of them explains: RSS minus every thread's V8 heap total and ArrayBuffers (the
 *     allocator's arenas and free lists, native libraries, code, stacks).
 */

/** One worker thread's memory, MiB. */
export interface WorkerMem {
  heapUsed: number;
  heapTotal: number;
  external: number;
  arrayBuffers: number;
  malloced: number;
}

export interface MemSample {
  t: number;
  rssMb: number;
  heapMb: number;
  heapTotalMb: number;
  externalMb: number;
  arrayBuffersMb: number;
  /** The main thread's V8 old space: committed and in use, MiB. */
  oldSpaceMb: number;
  oldSpaceUsedMb: number;
  /** Full (mark-compact) collections on the main thread since the gateway started. */
  fullGcs: number;
  /** By worker index; empty when /metrics did not answer. */
  workers: WorkerMem[];
}

const KIND: Record<string, keyof WorkerMem> = { heap_used: 'heapUsed', heap_total: 'heapTotal', external: 'external', array_buffers: 'arrayBuffers', malloced: 'malloced' };

/** The media workers' memory from the gateway's /metrics (demo mode serves it without a token). */
export async function workerMemory(httpPort: number): Promise<WorkerMem[]> {
  const r = await fetch(`http://127.0.0.1:${httpPort}/metrics`, { signal: AbortSignal.timeout(2000) });
  const out: WorkerMem[] = [];
  for (const m of (await r.text()).matchAll(/^tonegate_media_worker_memory_bytes\{(?=[^}]*worker="(\d+)")(?=[^}]*kind="(\w+)")[^}]*\} (\S+)$/gm)) {
    const key = KIND[m[2]!];
    if (!key) continue;
    const w = (out[Number(m[1])] ??= { heapUsed: NaN, heapTotal: NaN, external: NaN, arrayBuffers: NaN, malloced: NaN });
    w[key] = Number(m[3]) / 2 ** 20;
  }
  return out;
}

/** RSS that no thread's V8 heap or ArrayBuffers account for, MiB. */
export function unaccountedMb(s: MemSample): number {
  return s.rssMb - s.heapTotalMb - s.arrayBuffersMb - s.workers.reduce((a, w) => a + w.heapTotal + w.arrayBuffers, 0);
}

/** Least-squares slope of y over x. */
export function slope(xs: number[], ys: number[]): number {
  const n = xs.length;
  if (n < 2) return 0;
  const mx = xs.reduce((a, b) => a + b, 0) / n;
  const my = ys.reduce((a, b) => a + b, 0) / n;
  let num = 0;
  let den = 0;
  for (let i = 0; i < n; i++) {
    num += (xs[i]! - mx) * (ys[i]! - my);
    den += (xs[i]! - mx) ** 2;
  }
  return den ? num / den : 0;
}

/** Every memory series the soak tracks: a name, and its value in a sample (NaN when not measured). */
export function memSeries(workers: number): { name: string; of: (s: MemSample) => number }[] {
  const per = (i: number, k: keyof WorkerMem, name: string) => ({ name: `worker ${i} ${name}`, of: (s: MemSample) => s.workers[i]?.[k] ?? NaN });
  return [
    { name: 'RSS', of: (s) => s.rssMb },
    { name: 'main heap used', of: (s) => s.heapMb },
    { name: 'main heap total', of: (s) => s.heapTotalMb },
    { name: 'main external', of: (s) => s.externalMb },
    { name: 'main arrayBuffers', of: (s) => s.arrayBuffersMb },
    { name: 'main old space committed', of: (s) => s.oldSpaceMb },
    { name: 'main old space in use', of: (s) => s.oldSpaceUsedMb },
    ...Array.from({ length: workers }, (_, i) => [per(i, 'heapUsed', 'heap used'), per(i, 'heapTotal', 'heap total'), per(i, 'external', 'external'), per(i, 'arrayBuffers', 'arrayBuffers'), per(i, 'malloced', 'V8 malloced')]).flat(),
    { name: 'RSS not in any heap or ArrayBuffers', of: (s) => (s.workers.length === workers ? unaccountedMb(s) : NaN) },
  ];
}

/** Each series' least-squares slope over the samples from `fromS` on, MiB per 10 minutes. */
export function slopesPer10Min<S extends MemSample>(samples: S[], fromS: number, workers: number): { name: string; per10Min: number; first: number; last: number }[] {
  const win = samples.filter((s) => s.t >= fromS);
  return memSeries(workers).map(({ name, of }) => {
    const ok = win.filter((s) => Number.isFinite(of(s)));
    return { name, per10Min: slope(ok.map((s) => s.t), ok.map(of)) * 600, first: ok[0] ? of(ok[0]) : NaN, last: ok.length ? of(ok[ok.length - 1]!) : NaN };
  });
}

/** CSV columns for the memory part of a sample. */
export function memCsvHeader(workers: number): string[] {
  const w = Array.from({ length: workers }, (_, i) => [`w${i}_heap_used_mb`, `w${i}_heap_total_mb`, `w${i}_external_mb`, `w${i}_array_buffers_mb`, `w${i}_malloced_mb`]).flat();
  return ['heap_total_mb', 'external_mb', 'array_buffers_mb', 'old_space_mb', 'old_space_used_mb', 'full_gcs', ...w, 'unaccounted_mb'];
}

export function memCsvRow(s: MemSample, workers: number): string[] {
  const f = (x: number | undefined): string => (x !== undefined && Number.isFinite(x) ? x.toFixed(1) : '');
  const w = Array.from({ length: workers }, (_, i) => {
    const m = s.workers[i];
    return [f(m?.heapUsed), f(m?.heapTotal), f(m?.external), f(m?.arrayBuffers), f(m?.malloced)];
  }).flat();
  return [f(s.heapTotalMb), f(s.externalMb), f(s.arrayBuffersMb), f(s.oldSpaceMb), f(s.oldSpaceUsedMb), Number.isFinite(s.fullGcs) ? String(s.fullGcs) : '', ...w, f(s.workers.length === workers ? unaccountedMb(s) : NaN)];
}

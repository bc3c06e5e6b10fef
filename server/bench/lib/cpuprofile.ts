/**
 * Summarises a V8 .cpuprofile (as written by `node --cpu-prof` or the inspector's Profiler.stop):
 * self time per function and per code area (a package under node_modules, a folder of server/src,
 * Node internals, GC, idle).
 */
import { readFileSync } from 'node:fs';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  hitCount?: number;
  children?: number[];
}

interface CpuProfile {
  nodes: ProfileNode[];
  startTime: number;
  endTime: number;
  samples?: number[];
  timeDeltas?: number[];
}

export interface SelfTime {
  name: string;
  ms: number;
  pct: number;
}

export interface ProfileSummary {
  totalMs: number;
  /** Busy share: everything except (idle). */
  busyPct: number;
  functions: SelfTime[];
  areas: SelfTime[];
}

/** Short place of a script URL: `sip.js/lib/...`, `src/sip/...`, `node:internal/...`. */
export function placeOf(url: string): string {
  if (!url) return '';
  const u = url.replace(/^file:\/\//, '');
  const nm = u.lastIndexOf('/node_modules/');
  if (nm >= 0) return u.slice(nm + '/node_modules/'.length);
  const src = u.indexOf('/server/');
  if (src >= 0) return u.slice(src + '/server/'.length);
  return u;
}

export function areaOf(url: string, fn: string): string {
  if (!url) return fn.startsWith('(') ? fn : '(native/V8)';
  const p = placeOf(url);
  if (p.startsWith('node:')) return 'node internals';
  if (url.includes('/node_modules/')) {
    const parts = p.split('/');
    return parts[0]!.startsWith('@') ? `${parts[0]}/${parts[1]}` : parts[0]!;
  }
  const m = /^(src|bench)\/([^/]+)/.exec(p);
  return m ? `${m[1]}/${m[2]!.replace(/\.ts$/, '')}` : p;
}

export function summariseProfile(file: string, top = 15): ProfileSummary {
  const prof = JSON.parse(readFileSync(file, 'utf8')) as CpuProfile;
  const byId = new Map(prof.nodes.map((n) => [n.id, n]));
  const selfUs = new Map<number, number>();
  const samples = prof.samples ?? [];
  const deltas = prof.timeDeltas ?? [];
  // A sample's time is the delta to the next sample (the profiler's own convention).
  for (let i = 0; i < samples.length; i++) {
    const dt = deltas[i + 1] ?? 0;
    selfUs.set(samples[i]!, (selfUs.get(samples[i]!) ?? 0) + Math.max(0, dt));
  }
  const totalUs = [...selfUs.values()].reduce((a, b) => a + b, 0) || 1;
  const fns = new Map<string, number>();
  const areas = new Map<string, number>();
  let idleUs = 0;
  for (const [id, us] of selfUs) {
    const n = byId.get(id);
    if (!n) continue;
    const { functionName, url, lineNumber } = n.callFrame;
    const fn = functionName || '(anonymous)';
    if (fn === '(idle)') idleUs += us;
    const key = url ? `${fn}  ${placeOf(url)}:${lineNumber + 1}` : fn;
    fns.set(key, (fns.get(key) ?? 0) + us);
    const area = areaOf(url, fn);
    areas.set(area, (areas.get(area) ?? 0) + us);
  }
  const rank = (m: Map<string, number>, n: number): SelfTime[] =>
    [...m]
      .sort((a, b) => b[1] - a[1])
      .slice(0, n)
      .map(([name, us]) => ({ name, ms: us / 1000, pct: (100 * us) / totalUs }));
  return { totalMs: totalUs / 1000, busyPct: (100 * (totalUs - idleUs)) / totalUs, functions: rank(fns, top), areas: rank(areas, 12) };
}

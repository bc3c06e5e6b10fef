// Usage: node scripts/arch-measures.mjs <repo-root>. Counts import circles (relative imports, type-only included) and non-test files over 400 lines.
// Import circles (strongly connected components > 1 file, and 2-file mutual imports) and files over 400 lines.
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { join, dirname, resolve, relative } from 'node:path';
const root = process.argv[2];
const dirs = ['server/src', 'agent-widget/src', 'e2e', 'server/bench', 'server/devtools', 'server/test'];
const files = [];
const walk = (d) => { for (const f of readdirSync(d)) { const p = join(d, f); if (statSync(p).isDirectory()) { if (f !== 'node_modules' && f !== 'dist') walk(p); } else if (/\.tsx?$/.test(f)) files.push(p); } };
for (const d of dirs) { try { walk(join(root, d)); } catch { /* a folder this checkout lacks */ } }
const set = new Set(files);
const graph = new Map();
for (const f of files) {
  const src = readFileSync(f, 'utf8');
  const deps = [];
  // value and type imports both count as import edges (type-only ones flagged)
  for (const m of src.matchAll(/(?:^|\n)\s*(?:import|export)\s+(type\s+)?[^'";]*?from\s+['"](\.[^'"]+)['"]/g)) {
    let t = resolve(dirname(f), m[2]).replace(/\.js$/, '.ts');
    if (!set.has(t)) t = t.replace(/\.ts$/, '/index.ts');
    if (set.has(t)) deps.push(t);
  }
  graph.set(f, deps);
}
let idx = 0; const st = [], on = new Set(), ix = new Map(), low = new Map(), sccs = [];
const sc = (v) => { ix.set(v, idx); low.set(v, idx++); st.push(v); on.add(v);
  for (const w of graph.get(v)) { if (!ix.has(w)) { sc(w); low.set(v, Math.min(low.get(v), low.get(w))); } else if (on.has(w)) low.set(v, Math.min(low.get(v), ix.get(w))); }
  if (low.get(v) === ix.get(v)) { const c = []; let w; do { w = st.pop(); on.delete(w); c.push(w); } while (w !== v); if (c.length > 1) sccs.push(c); } };
for (const f of files) if (!ix.has(f)) sc(f);
const rel = (f) => relative(root, f);
const pairs = [];
for (const [a, ds] of graph) for (const b of ds) if (a < b && graph.get(b).includes(a)) pairs.push([rel(a), rel(b)]);
console.log('import circles (SCCs > 1 file):', sccs.length);
for (const c of sccs) console.log('  ', c.map(rel).join(' <-> '));
console.log('two-file mutual imports:', pairs.length); for (const p of pairs) console.log('  ', p.join(' <-> '));
const big = files.filter((f) => !/\/test\/|\.test\.ts$|\.spec\.ts$/.test(f)).map((f) => [rel(f), readFileSync(f, 'utf8').split('\n').length - 1]).filter(([, n]) => n > 400);
console.log('non-test files over 400 lines:', big.length); for (const b of big) console.log('  ', b.join(' '));

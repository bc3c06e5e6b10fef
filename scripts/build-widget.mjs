// Builds the browser pages (agent widget /agent, demo phone /phone) into agent-widget/dist/:
//   dist/agent.html, dist/phone.html           pages, with the hashed asset names filled in
//   dist/assets/<name>-<hash>.{js,css,js.map}  ESM bundles (esbuild, browser target) and styles
//   dist/build.json                            hash of the sources, so an up-to-date build is skipped
// Runs before `npm start` (prestart) and before the e2e tests. `--force` rebuilds regardless.
import { createHash } from 'node:crypto';
import { mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { basename, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as esbuild from 'esbuild';

const root = fileURLToPath(new URL('..', import.meta.url));
const src = join(root, 'agent-widget/src');
const dist = join(root, 'agent-widget/dist');
const pages = [
  { name: 'agent', entry: join(src, 'ui/main.ts'), html: join(src, 'ui/agent.html') },
  { name: 'phone', entry: join(src, 'phone/main.ts'), html: join(src, 'phone/phone.html') },
  // The supervisor dashboard (/supervisor).
  { name: 'supervisor', entry: join(src, 'supervisor/main.ts'), html: join(src, 'supervisor/supervisor.html') },
  { name: 'agent-jssip', entry: join(src, 'jssip/main.ts'), html: join(src, 'jssip/jssip.html') },
];

function files(dir) {
  return readdirSync(dir).flatMap((n) => {
    const p = join(dir, n);
    return statSync(p).isDirectory() ? files(p) : [p];
  });
}

/** The one server module the widget bundles: the /events wire contract (eslint.config.js allows only it). */
const contract = join(root, 'server/src/contract/events.ts');

/** Hash over every source file, the contract, this script and the bundler version: the build's identity. */
function sourceHash() {
  const h = createHash('sha256');
  h.update(esbuild.version);
  for (const f of [...files(src), contract, fileURLToPath(import.meta.url)].sort()) {
    h.update(relative(root, f)).update('\0').update(readFileSync(f)).update('\0');
  }
  return h.digest('hex');
}

function upToDate(hash) {
  try {
    const stamp = JSON.parse(readFileSync(join(dist, 'build.json'), 'utf8'));
    return stamp.hash === hash && pages.every((p) => statSync(join(dist, `${p.name}.html`)).isFile());
  } catch {
    return false;
  }
}

export async function buildWidget({ force = false, quiet = false } = {}) {
  const hash = sourceHash();
  if (!force && upToDate(hash)) {
    if (!quiet) console.log('widget: agent-widget/dist is up to date');
    return { built: false };
  }
  rmSync(dist, { recursive: true, force: true });
  mkdirSync(join(dist, 'assets'), { recursive: true });
  const result = await esbuild.build({
    entryPoints: Object.fromEntries(pages.map((p) => [p.name, p.entry])),
    outdir: join(dist, 'assets'),
    entryNames: '[name]-[hash]',
    bundle: true,
    format: 'esm',
    platform: 'browser',
    target: ['chrome110', 'firefox115', 'safari16'],
    minify: true,
    sourcemap: 'linked',
    metafile: true,
    legalComments: 'linked',
    logLevel: 'warning',
  });
  for (const page of pages) {
    const [js, out] = Object.entries(result.metafile.outputs).find(([, o]) => o.entryPoint && join(root, o.entryPoint) === page.entry) ?? [];
    if (!js || !out) throw new Error(`no bundle for ${page.name}`);
    const asset = (p) => `/assets/${basename(p)}`;
    let html = readFileSync(page.html, 'utf8').replace('%SCRIPT%', asset(js));
    html = html.replace('%STYLE%', out.cssBundle ? asset(out.cssBundle) : '');
    if (html.includes('%')) {
      const left = /%[A-Z]+%/.exec(html);
      if (left) throw new Error(`${page.html}: placeholder ${left[0]} not filled`);
    }
    writeFileSync(join(dist, `${page.name}.html`), html);
  }
  writeFileSync(join(dist, 'build.json'), JSON.stringify({ hash, builtAt: new Date().toISOString() }, null, 2) + '\n');
  if (!quiet) console.log(`widget: built ${pages.map((p) => `/${p.name}`).join(', ')} into agent-widget/dist`);
  return { built: true };
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  await buildWidget({ force: process.argv.includes('--force') });
}

/** The soak chart: three panels of the 10 s samples, drawn as SVG and rendered to PNG by Debian's Chromium. */
import { chromium } from 'playwright';
import { unaccountedMb, type MemSample } from './soak-memory.js';

export interface Sample extends MemSample {
  lagP99: number;
  lagMax: number;
  fds: number;
  handles: number;
  calls: number;
  cpuPct: number;
  /** Share of the machine's CPU time the hypervisor stole over the sample, % (/proc/stat). */
  stealPct: number;
}

export function chartSvg(samples: Sample[], title: string): string {
  const W = 1000;
  const panels: { name: string; unit: string; series: { label: string; color: string; y: (s: Sample) => number }[] }[] = [
    { name: 'Memory', unit: 'MB', series: [{ label: 'RSS', color: '#1f77b4', y: (s) => s.rssMb }, { label: 'main V8 heap used', color: '#9467bd', y: (s) => s.heapMb }, { label: 'workers\' V8 heaps', color: '#8c564b', y: (s) => (s.workers.length ? s.workers.reduce((a, w) => a + w.heapTotal, 0) : NaN) }, { label: 'not in any heap', color: '#e377c2', y: (s) => (s.workers.length ? unaccountedMb(s) : NaN) }] },
    { name: 'Event-loop lag (10 s windows)', unit: 'ms', series: [{ label: 'p99', color: '#d62728', y: (s) => s.lagP99 }, { label: 'max', color: '#ff9896', y: (s) => s.lagMax }] },
    { name: 'Descriptors and calls', unit: '', series: [{ label: 'open fds', color: '#2ca02c', y: (s) => s.fds }, { label: 'calls held', color: '#ff7f0e', y: (s) => s.calls }, { label: 'gateway CPU %', color: '#7f7f7f', y: (s) => s.cpuPct }, { label: 'host steal %', color: '#bcbd22', y: (s) => s.stealPct }] },
  ];
  const PH = 220;
  const top = 50;
  const left = 70;
  const pw = W - left - 30;
  const tMax = Math.max(1, ...samples.map((s) => s.t));
  const out: string[] = [`<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${top + panels.length * (PH + 50)}" font-family="sans-serif" font-size="12">`, '<rect width="100%" height="100%" fill="white"/>', `<text x="${left}" y="28" font-size="16" font-weight="bold">${title}</text>`];
  panels.forEach((p, i) => {
    const y0 = top + i * (PH + 50) + 20;
    const yMax = Math.max(1, ...p.series.flatMap((s) => samples.map(s.y).filter(Number.isFinite))) * 1.1;
    out.push(`<text x="${left}" y="${y0 - 6}" font-weight="bold">${p.name}${p.unit ? ` (${p.unit})` : ''}</text>`);
    out.push(`<rect x="${left}" y="${y0}" width="${pw}" height="${PH}" fill="none" stroke="#ccc"/>`);
    for (let k = 0; k <= 4; k++) {
      const v = (yMax * k) / 4;
      const y = y0 + PH - (PH * k) / 4;
      out.push(`<line x1="${left}" x2="${left + pw}" y1="${y}" y2="${y}" stroke="#eee"/><text x="${left - 6}" y="${y + 4}" text-anchor="end">${v >= 100 ? v.toFixed(0) : v.toFixed(1)}</text>`);
    }
    for (let m = 0; m <= tMax / 60; m += Math.max(1, Math.round(tMax / 60 / 10))) {
      const x = left + (pw * m * 60) / tMax;
      out.push(`<text x="${x}" y="${y0 + PH + 14}" text-anchor="middle">${m} min</text>`);
    }
    p.series.forEach((s, j) => {
      const pts = samples.filter((x) => Number.isFinite(s.y(x))).map((x) => `${(left + (pw * x.t) / tMax).toFixed(1)},${(y0 + PH - (PH * s.y(x)) / yMax).toFixed(1)}`);
      out.push(`<polyline fill="none" stroke="${s.color}" stroke-width="1.5" points="${pts.join(' ')}"/>`);
      out.push(`<rect x="${left + 10 + j * 150}" y="${y0 + 8}" width="12" height="3" fill="${s.color}"/><text x="${left + 26 + j * 150}" y="${y0 + 13}">${s.label}</text>`);
    });
  });
  out.push('</svg>');
  return out.join('\n');
}

export async function renderPng(svg: string, file: string): Promise<void> {
  const browser = await chromium.launch({ executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium', args: ['--headless', '--no-sandbox', '--disable-gpu'] });
  try {
    const page = await browser.newPage({ viewport: { width: 1000, height: 900 } });
    await page.setContent(`<body style="margin:0">${svg}</body>`);
    await page.locator('svg').screenshot({ path: file });
  } finally {
    await browser.close();
  }
}


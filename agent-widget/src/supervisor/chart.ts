import type { Outcome } from '../progress/types.js';
import { OUTCOME_LABEL } from './format.js';
import { OUTCOMES, type Timeline } from './stats.js';

/**
 * Outcomes over time as inline SVG: one stacked bar per bucket (paid at the bottom), a light grid,
 * the bucket count at the top of the scale, and times under the first, middle and last bucket.
 * Colours come from CSS classes (`bar-paid`, ...): the page's CSP allows no inline styles.
 * Each bar has a `<title>` (hover); the whole chart is one `role="img"` with a summary label.
 */
const SVG = 'http://www.w3.org/2000/svg';
const PAD = { left: 28, right: 6, top: 10, bottom: 22 };

function el<K extends keyof SVGElementTagNameMap>(name: K, attrs: Record<string, string | number>): SVGElementTagNameMap[K] {
  const e = document.createElementNS(SVG, name);
  // Coordinates to 2 decimals: short markup, and no long digit runs a PAN scan would trip over.
  for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, typeof v === 'number' ? String(Math.round(v * 100) / 100) : v);
  return e;
}

const hm = new Intl.DateTimeFormat(undefined, { hour: '2-digit', minute: '2-digit' });

export function scaleText(t: Timeline): string {
  const min = t.bucketMs / 60_000;
  const per = min < 60 ? `${min} min` : min < 1440 ? `${min / 60} h` : `${min / 1440} day`;
  const span = (t.bucketMs * t.buckets.length) / 60_000;
  const last = span < 120 ? `${span} min` : span < 2880 ? `${span / 60} h` : `${span / 1440} days`;
  return `${per} per bar · last ${last}`;
}

function summary(t: Timeline): string {
  const sums: Record<Outcome, number> = { paid: 0, declined: 0, failed: 0, abandoned: 0, cancelled: 0 };
  for (const b of t.buckets) for (const o of OUTCOMES) sums[o] += b.counts[o];
  const parts = OUTCOMES.filter((o) => sums[o] > 0).map((o) => `${sums[o]} ${OUTCOME_LABEL[o].toLowerCase()}`);
  return `Outcomes over time, ${scaleText(t)}: ${parts.length ? parts.join(', ') : 'none yet'}.`;
}

/** Draws at the host's width in CSS pixels (text stays 11 px at any width); redraw on resize. */
export function renderChart(host: HTMLElement, t: Timeline): void {
  const W = Math.max(240, host.clientWidth || 640);
  const H = W < 500 ? 120 : 150;
  const max = Math.max(1, ...t.buckets.map((b) => OUTCOMES.reduce((n, o) => n + b.counts[o], 0)));
  const svg = el('svg', { viewBox: `0 0 ${W} ${H}`, width: W, height: H, role: 'img', 'aria-label': summary(t), class: 'chart-svg' });
  const plotW = W - PAD.left - PAD.right;
  const plotH = H - PAD.top - PAD.bottom;
  const base = PAD.top + plotH;
  for (const frac of [0, 0.5, 1]) {
    const y = base - frac * plotH;
    svg.append(el('line', { x1: PAD.left, x2: W - PAD.right, y1: y, y2: y, class: frac === 0 ? 'axis' : 'grid' }));
  }
  const top = el('text', { x: PAD.left - 6, y: PAD.top + 4, class: 'tick', 'text-anchor': 'end' });
  top.textContent = String(max);
  const zero = el('text', { x: PAD.left - 6, y: base + 4, class: 'tick', 'text-anchor': 'end' });
  zero.textContent = '0';
  svg.append(top, zero);

  if (t.buckets.every((b) => OUTCOMES.every((o) => b.counts[o] === 0))) {
    const none = el('text', { x: PAD.left + plotW / 2, y: PAD.top + plotH / 2, class: 'chart-empty', 'text-anchor': 'middle' });
    none.textContent = 'No outcomes in this period yet';
    svg.append(none);
  }
  const slot = plotW / t.buckets.length;
  const barW = Math.max(2, slot * 0.7);
  t.buckets.forEach((b, i) => {
    const x = PAD.left + i * slot + (slot - barW) / 2;
    let y = base;
    const g = el('g', {});
    const words: string[] = [];
    for (const o of OUTCOMES) {
      const n = b.counts[o];
      if (!n) continue;
      const h = (n / max) * plotH;
      y -= h;
      g.append(el('rect', { x, y, width: barW, height: h, class: `bar bar-${o}`, rx: 1.5 }));
      words.push(`${n} ${OUTCOME_LABEL[o].toLowerCase()}`);
    }
    if (words.length) {
      const title = el('title', {});
      title.textContent = `${hm.format(b.from)}: ${words.join(', ')}`;
      g.append(title);
      svg.append(g);
    }
    if (i === 0 || i === t.buckets.length - 1 || i === Math.floor(t.buckets.length / 2)) {
      const anchor = i === 0 ? 'start' : i === t.buckets.length - 1 ? 'end' : 'middle';
      const tx = anchor === 'start' ? PAD.left + i * slot : anchor === 'end' ? PAD.left + (i + 1) * slot : PAD.left + (i + 0.5) * slot;
      const label = el('text', { x: tx, y: H - 6, class: 'tick', 'text-anchor': anchor });
      label.textContent = hm.format(b.from);
      svg.append(label);
    }
  });
  host.replaceChildren(svg);
}

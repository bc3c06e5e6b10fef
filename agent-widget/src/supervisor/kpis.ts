import { byId } from '../ui/dom.js';
import { money, percent, shortDuration } from './format.js';
import type { Totals } from './stats.js';

/** The row of totals above the chart. */
export class KpiView {
  private readonly total = byId('kpi-total');
  private readonly live = byId('kpi-live');
  private readonly paid = byId('kpi-paid');
  private readonly paidSub = byId('kpi-paid-sub');
  private readonly declined = byId('kpi-declined');
  private readonly other = byId('kpi-other');
  private readonly otherSub = byId('kpi-other-sub');
  private readonly rate = byId('kpi-rate');
  private readonly rateSub = byId('kpi-rate-sub');
  private readonly p50 = byId('kpi-p50');
  private readonly p95 = byId('kpi-p95');

  render(t: Totals): void {
    const o = t.byOutcome;
    this.total.textContent = String(t.total);
    this.live.textContent = `${t.live} live`;
    this.paid.textContent = String(o.paid);
    const [top, ...more] = t.paidByCurrency;
    this.paidSub.textContent = top ? `${money((top.cents / 100).toFixed(2), top.currency)}${more.length ? ` +${more.length} more` : ''}` : 'nothing collected yet';
    this.paidSub.title = t.paidByCurrency.map((p) => money((p.cents / 100).toFixed(2), p.currency)).join(', ');
    this.declined.textContent = String(o.declined);
    this.other.textContent = String(o.failed + o.abandoned + o.cancelled);
    const parts = ([['failed', o.failed], ['abandoned', o.abandoned], ['cancelled', o.cancelled]] as const).filter(([, n]) => n > 0);
    this.otherSub.textContent = parts.length ? parts.map(([w, n]) => `${n} ${w}`).join(' · ') : 'none';
    this.otherSub.title = `${o.failed} failed, ${o.abandoned} abandoned, ${o.cancelled} cancelled`;
    this.rate.textContent = percent(t.successRate);
    this.rate.dataset.level = t.successRate === null ? '' : t.successRate >= 0.8 ? 'good' : t.successRate >= 0.5 ? 'fair' : 'poor';
    this.rateSub.textContent = t.ended ? `${o.paid} paid of ${t.ended} ended` : 'paid of ended';
    this.p50.textContent = shortDuration(t.p50Ms);
    this.p95.textContent = `p95 ${shortDuration(t.p95Ms)} · ${t.ended} ended`;
  }
}

import { announce, brandLabel, FIELD_LABEL, failureText, stageText } from '../progress/announce.js';
import type { PaymentView } from '../progress/reducer.js';
import { CAPTURE_FIELDS, type CaptureField } from '../progress/types.js';
import { byId, show } from './dom.js';

/** Renders a {@link PaymentView} into the progress block. Pure DOM writes, no state of its own. */
export class ProgressView {
  private readonly root = byId('progress');
  private readonly banner = byId('muted-banner');
  private readonly summary = byId('progress-summary');
  private readonly steps = byId('steps');
  private readonly cardInfo = byId('card-info');
  private readonly otp = byId('otp-info');
  private readonly stage = byId('stage-info');
  private readonly issue = byId('issue-info');
  private readonly outcome = byId('outcome');
  readonly retry = byId('retry', HTMLButtonElement);
  readonly cancel = byId('cancel', HTMLButtonElement);
  readonly newPayment = byId('new-payment', HTMLButtonElement);
  private readonly items = new Map<CaptureField, { li: HTMLLIElement; dots: HTMLElement; status: HTMLElement; sr: HTMLElement }>();

  constructor() {
    for (const f of CAPTURE_FIELDS) {
      const li = document.createElement('li');
      li.className = 'step';
      li.dataset.field = f;
      const label = document.createElement('span');
      label.className = 'step-label';
      label.textContent = FIELD_LABEL[f].replace(/^./, (c) => c.toUpperCase());
      const dots = document.createElement('span');
      dots.className = 'dots';
      dots.setAttribute('aria-hidden', 'true');
      const sr = document.createElement('span');
      sr.className = 'sr-only';
      const status = document.createElement('span');
      status.className = 'step-status';
      li.append(label, dots, sr, status);
      this.steps.append(li);
      this.items.set(f, { li, dots, status, sr });
    }
  }

  render(v: PaymentView): void {
    show(this.root, v.phase !== 'idle');
    show(this.banner, v.muted);
    this.summary.textContent = v.amount && v.currency ? `${v.currency} ${v.amount} · order ${v.orderRef ?? ''}` : '';
    for (const f of CAPTURE_FIELDS) this.renderStep(f, v);

    show(this.cardInfo, v.brand !== null);
    if (v.brand) {
      // Under 15 digits only the last 4 come (docs/security.md, PCI DSS 3.4.1).
      const number = v.first6 && v.last4 ? `${v.first6.slice(0, 4)} ${v.first6.slice(4)}•• •••• ${v.last4}` : v.last4 ? `•••• ${v.last4}` : '';
      const luhn = v.luhn === 'valid' ? '<span class="badge badge-ok">Number valid</span>' : v.luhn === 'invalid' ? '<span class="badge badge-bad">Number invalid</span>' : '';
      this.cardInfo.innerHTML = '';
      const b = document.createElement('span');
      b.className = `brand-badge brand-${v.brand.replace(/[^a-z]/g, '')}`;
      b.textContent = brandLabel(v.brand);
      const n = document.createElement('span');
      n.className = 'card-number';
      n.textContent = number;
      this.cardInfo.append(b, n);
      this.cardInfo.insertAdjacentHTML('beforeend', luhn);
    }

    show(this.otp, v.otpSentTo !== null);
    this.otp.textContent = v.otpSentTo ? `OTP sent to ${v.otpSentTo}${v.otpResends > 0 ? ` (resent ${v.otpResends}×)` : ''}` : '';
    show(this.stage, v.phase === 'processing' && v.stage !== null);
    this.stage.textContent = v.stage ? `${stageText(v.stage)}…` : '';
    show(this.issue, v.providerIssue !== null && v.phase !== 'ended');
    this.issue.textContent = v.providerIssue ? 'The payment provider is slow or failing; the gateway is handling it.' : '';

    show(this.outcome, v.phase === 'ended' || v.phase === 'failed' || v.phase === 'waiting');
    this.outcome.className = `outcome outcome-${v.phase === 'ended' ? (v.outcome?.outcome ?? 'failed') : v.phase}`;
    if (v.phase === 'waiting') this.outcome.textContent = 'Handing the call to secure payment…';
    else if (v.phase === 'failed') this.outcome.textContent = `Payment could not start: ${v.error ?? 'unknown error'}`;
    else if (v.outcome) this.outcome.textContent = announce.outcome(v.outcome);

    const live = v.phase === 'capturing' || v.phase === 'processing';
    show(this.retry, v.phase === 'capturing' && v.field !== null);
    this.retry.textContent = v.field ? `Ask again for ${FIELD_LABEL[v.field]}` : 'Ask again';
    show(this.cancel, live);
    this.cancel.disabled = v.phase === 'processing'; // the gateway refuses a cancel while money moves
    show(this.newPayment, v.phase === 'ended' || v.phase === 'failed');
  }

  private renderStep(f: CaptureField, v: PaymentView): void {
    const item = this.items.get(f);
    if (!item) return;
    const fv = v.fields[f];
    item.li.dataset.status = fv.status;
    if (f === v.field) item.li.setAttribute('aria-current', 'step');
    else item.li.removeAttribute('aria-current');
    const expected = fv.length ? fv.length.min : 0;
    const slots = Math.max(fv.count, expected);
    item.dots.replaceChildren(
      ...Array.from({ length: slots }, (_, i) => {
        const d = document.createElement('span');
        d.className = i < fv.count ? 'dot dot-on' : 'dot';
        return d;
      }),
    );
    item.sr.textContent = fv.status === 'active' ? `${fv.count} digits entered` : '';
    item.status.textContent =
      fv.status === 'done' ? 'Done' : fv.status === 'failed' ? failureText(fv.failure ?? '') : fv.status === 'active' ? 'Entering…' : '';
  }
}

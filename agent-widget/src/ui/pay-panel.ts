import type { ProgressClient } from '../progress/client.js';
import { initialView, reduce, type PaymentAction, type PaymentView } from '../progress/reducer.js';
import type { CaptureEvent, SessionRecord } from '../progress/types.js';
import { handoffHeaders, referRefusalText, type ReferProgress } from '../softphone/refer.js';
import type { Softphone } from '../softphone/softphone.js';
import { byId, show } from './dom.js';
import type { Prefill } from './prefill.js';
import { chosenLanguage, languageChoice, type LanguageChoice } from './languages.js';
import { ProgressView } from './progress-view.js';
import { CURRENCIES, normaliseAmount, normaliseMobile, validatePayment, type PaymentField, type PaymentForm } from './validate.js';

const INPUTS: Readonly<Record<PaymentField, string>> = {
  amount: 'amount', currency: 'currency', orderRef: 'order-ref', customerMobile: 'mobile', merchantId: 'merchant',
};

/** The Pay-by-phone card: the form, the REFER, and the live progress of the capture. */
export class PayPanel {
  private readonly form = byId('pay-form', HTMLFormElement);
  private readonly error = byId('pay-error');
  private readonly commandError = byId('command-error');
  private readonly view = new ProgressView();
  private state: PaymentView = initialView;
  private phone: Softphone | null = null;
  private events: ProgressClient | null = null;
  private agentId = '';

  private readonly language = byId('language', HTMLSelectElement);

  constructor(
    private readonly domain: string,
    private readonly say: (text: string) => void,
    private readonly onOutcome: (v: PaymentView) => void,
    /** The prompt languages the gateway offers (languages.ts). */
    private readonly languages: LanguageChoice = languageChoice(undefined, undefined),
  ) {
    const currency = this.input('currency') as HTMLSelectElement;
    for (const c of CURRENCIES) currency.append(new Option(c, c, c === 'INR', c === 'INR'));
    for (const l of languages.options) this.language.append(new Option(l.label, l.code, l.code === languages.selected, l.code === languages.selected));
    this.form.addEventListener('submit', (e) => {
      e.preventDefault();
      void this.submit();
    });
    this.view.retry.addEventListener('click', () => {
      const f = this.state.field;
      if (f) void this.command({ type: 'field.retry', field: f });
    });
    this.view.cancel.addEventListener('click', () => void this.command({ type: 'session.cancel' }));
    this.view.newPayment.addEventListener('click', () => {
      this.dispatch({ kind: 'reset' });
      this.input('amount').focus();
    });
    this.render();
  }

  attach(agentId: string, phone: Softphone | null, events: ProgressClient | null): void {
    this.agentId = agentId;
    this.phone = phone;
    this.events = events;
    phone?.on('refer', (r) => this.onRefer(r));
    events?.on('event', (e: CaptureEvent) => this.dispatch({ kind: 'event', event: e }));
    events?.on('resync', ({ record }) => this.dispatch({ kind: 'resync', record }));
    events?.on('ready', ({ sessions }) => {
      // After a reconnect: the record of the session we follow (or of our order) says where it is.
      const mine = sessions.find((s: SessionRecord) => s.id === this.state.sessionId || (this.state.phase === 'waiting' && s.orderRef === this.state.orderRef));
      if (mine) this.dispatch({ kind: 'resync', record: mine });
    });
  }

  prefill(p: Prefill): void {
    for (const [k, v] of Object.entries(p) as [PaymentField, string][]) {
      const el = this.input(k);
      if (el instanceof HTMLSelectElement && !Array.from(el.options).some((o) => o.value === v)) el.append(new Option(v, v));
      el.value = v;
    }
  }

  values(): PaymentForm {
    const v = (f: PaymentField) => this.input(f).value;
    return { amount: v('amount'), currency: v('currency'), orderRef: v('orderRef'), customerMobile: v('customerMobile'), merchantId: v('merchantId') };
  }

  private input(f: PaymentField): HTMLInputElement | HTMLSelectElement {
    return byId(INPUTS[f]) as HTMLInputElement | HTMLSelectElement;
  }

  private async submit(): Promise<void> {
    const form = this.values();
    const errors = validatePayment(form);
    let first: HTMLElement | null = null;
    for (const f of Object.keys(INPUTS) as PaymentField[]) {
      const msg = errors[f];
      const el = this.input(f);
      const out = byId(`${f}-error`);
      out.textContent = msg ?? '';
      show(out, !!msg);
      el.setAttribute('aria-invalid', String(!!msg));
      if (msg && !first) first = el;
    }
    if (first) {
      first.focus();
      this.say(`Check the form: ${Object.values(errors).join('. ')}`);
      return;
    }
    const phone = this.phone;
    if (!phone || phone.call.state !== 'connected') return this.fail('Answer a call first: the payment is taken on the call in progress.');
    const amount = normaliseAmount(form.amount) ?? form.amount;
    const headers = handoffHeaders({
      amount, currency: form.currency, merchantId: form.merchantId.trim(), orderRef: form.orderRef.trim(),
      customerMobile: normaliseMobile(form.customerMobile), agentId: this.agentId, language: chosenLanguage(this.language.value, this.languages),
    });
    show(this.error, false);
    this.dispatch({ kind: 'refer.sent', orderRef: form.orderRef.trim(), amount, currency: form.currency });
    try {
      await phone.refer(`sip:pay@${this.domain}`, headers);
    } catch (err) {
      this.dispatch({ kind: 'refer.failed', error: err instanceof Error ? err.message : 'the REFER could not be sent' });
    }
  }

  private onRefer(r: ReferProgress): void {
    if (r.stage === 'rejected') {
      this.dispatch({ kind: 'refer.failed', error: referRefusalText(r) });
    } else if (r.stage === 'done' && r.code >= 300 && this.state.phase === 'waiting') {
      this.dispatch({ kind: 'refer.failed', error: `${r.code} ${r.reason}`.trim() });
    }
  }

  private fail(message: string): void {
    this.error.textContent = message;
    show(this.error, true);
  }

  private async command(c: Parameters<ProgressClient['command']>[1]): Promise<void> {
    const id = this.state.sessionId;
    show(this.commandError, false);
    if (!id || !this.events) return;
    const r = await this.events.command(id, c);
    if (!r.ok) {
      this.commandError.textContent = r.message ?? r.error ?? 'The gateway refused that';
      show(this.commandError, true);
    }
  }

  private dispatch(a: PaymentAction): void {
    const before = this.state;
    this.state = reduce(this.state, a);
    if (this.state === before) return;
    if (this.state.announcement && this.state.announcement !== before.announcement) this.say(this.state.announcement);
    if (this.state.phase === 'ended' && before.phase !== 'ended') this.onOutcome(this.state);
    this.render();
  }

  private render(): void {
    const busy = this.state.phase !== 'idle';
    show(this.form, !busy);
    this.view.render(this.state);
  }
}

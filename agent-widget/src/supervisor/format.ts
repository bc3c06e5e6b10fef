import type { CaptureField, Outcome } from '../progress/types.js';
import type { MaskedCard, SessionRow } from './model.js';

/** Words and numbers as the dashboard shows them. Pure (no DOM). */

export const OUTCOME_LABEL: Record<Outcome, string> = {
  paid: 'Paid',
  declined: 'Declined',
  failed: 'Failed',
  abandoned: 'Abandoned',
  cancelled: 'Cancelled',
};

const STATE_LABEL: Record<string, string> = {
  idle: 'Starting',
  greeting: 'Greeting',
  pan: 'Card details',
  expiry: 'Card details',
  cvv: 'Card details',
  'otp-request': 'Requesting OTP',
  'otp-sms': 'Sending OTP',
  'otp-entry': 'OTP entry',
  'otp-validate': 'Checking OTP',
  paying: 'Charging card',
  confirming: 'Confirming',
  outcome: 'Telling customer',
  done: 'Finished',
  unknown: 'Unknown',
};

export const FIELD_LABEL: Record<CaptureField, string> = { pan: 'Card number', expiry: 'Expiry', cvv: 'CVV', otp: 'OTP' };

export function stateLabel(state: string): string {
  return STATE_LABEL[state] ?? state;
}

const BRAND_LABEL: Record<string, string> = {
  visa: 'Visa',
  mastercard: 'Mastercard',
  amex: 'Amex',
  rupay: 'RuPay',
  diners: 'Diners',
  discover: 'Discover',
  jcb: 'JCB',
  maestro: 'Maestro',
  unknown: 'Card',
};

export function brandLabel(brand: string): string {
  return BRAND_LABEL[brand] ?? brand.charAt(0).toUpperCase() + brand.slice(1);
}

/** `Visa 411111••1111`, `Visa ••1111`, `Visa` (brand only while keyed) or `—`. Never more. */
export function cardText(card: MaskedCard | null): string {
  if (!card) return '—';
  const brand = brandLabel(card.brand);
  if (!card.last4) return brand;
  return `${brand} ${card.first6 ?? ''}••${card.last4}`;
}

const TRANSPORT_LABEL: Record<string, string> = { rfc4733: 'RFC 4733', inband: 'In-band', info: 'SIP INFO' };

export function transportLabel(t: string | null): string {
  return t ? (TRANSPORT_LABEL[t] ?? t) : '—';
}

/** `1,499.00 INR` (grouped as the browser's locale does; the currency code, no symbol guessing). */
export function money(amount: string, currency: string, locale?: string): string {
  if (!amount) return '—';
  const n = Number(amount);
  if (!Number.isFinite(n)) return `${amount} ${currency}`;
  const text = n.toLocaleString(locale, { minimumFractionDigits: 2, maximumFractionDigits: 2 });
  return currency ? `${text} ${currency}` : text;
}

/** `0:42`, `12:05`, `1:02:03`. */
export function duration(ms: number): string {
  const s = Math.max(0, Math.floor(ms / 1000));
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const ss = String(s % 60).padStart(2, '0');
  return h ? `${h}:${String(m).padStart(2, '0')}:${ss}` : `${m}:${ss}`;
}

/** `42 s`, `1 min 5 s` (for the percentiles); `—` for none. */
export function shortDuration(ms: number | null): string {
  if (ms === null) return '—';
  const s = Math.floor(ms / 1000); // floored like the Elapsed clock, so the two agree
  if (s < 60) return `${s} s`;
  const m = Math.floor(s / 60);
  return s % 60 ? `${m} min ${s % 60} s` : `${m} min`;
}

export function percent(rate: number | null): string {
  return rate === null ? '—' : `${Math.round(rate * 100)}%`;
}

/** Elapsed of a row: to the outcome when ended, to `now` (gateway time) while live. */
export function elapsedMs(row: SessionRow, now: number): number {
  return (row.endedAt ?? now) - row.startedAt;
}

/** Reason words: `do-not-honour` -> `do not honour`. */
export function reasonText(reason: string | null): string {
  return reason ? reason.replace(/-/g, ' ') : '';
}

/** What the live region says when a session's outcome is decided. */
export function outcomeAnnouncement(row: SessionRow): string {
  if (!row.outcome) return '';
  const who = row.agentId ? `, agent ${row.agentId}` : '';
  const why = row.outcome !== 'paid' && row.reason ? ` (${reasonText(row.reason)})` : '';
  return `Order ${row.orderRef || row.id}: ${OUTCOME_LABEL[row.outcome].toLowerCase()}${why}, ${money(row.amount, row.currency)}${who}.`;
}

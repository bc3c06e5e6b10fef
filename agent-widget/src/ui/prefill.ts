import type { PaymentForm } from './validate.js';

/**
 * Prefilling the Pay-by-phone form from outside (agent-widget/README.md):
 * - URL parameters: `/agent?amount=1499.00&currency=INR&orderRef=ORD-1&mobile=%2B919800000001&merchant=M-DEMO-01`
 * - postMessage from the embedding page (an allowed origin, and the window's parent):
 *   `{type: 'tonegate:prefill', payment: {amount, currency, orderRef, customerMobile, merchantId}}`
 * Only these fields, only strings, at most 64 characters each; anything else is ignored.
 */
export type Prefill = Partial<PaymentForm>;

const PARAMS: Readonly<Record<string, keyof PaymentForm>> = {
  amount: 'amount',
  currency: 'currency',
  orderRef: 'orderRef',
  order: 'orderRef',
  mobile: 'customerMobile',
  customerMobile: 'customerMobile',
  merchant: 'merchantId',
  merchantId: 'merchantId',
};
const KEYS: readonly (keyof PaymentForm)[] = ['amount', 'currency', 'orderRef', 'customerMobile', 'merchantId'];

function clean(v: unknown): string | undefined {
  return typeof v === 'string' && v.length <= 64 ? v.trim() : undefined;
}

export function prefillFromQuery(search: string): Prefill {
  const out: Prefill = {};
  for (const [k, v] of new URLSearchParams(search)) {
    const field = PARAMS[k];
    const value = clean(v);
    if (field && value !== undefined) out[field] = field === 'currency' ? value.toUpperCase() : value;
  }
  return out;
}

/** The prefill in a postMessage payload, or null when the message is not a prefill. */
export function prefillFromMessage(data: unknown): Prefill | null {
  if (typeof data !== 'object' || data === null) return null;
  const msg = data as { type?: unknown; payment?: unknown };
  if (msg.type !== 'tonegate:prefill' || typeof msg.payment !== 'object' || msg.payment === null) return null;
  const p = msg.payment as Record<string, unknown>;
  const out: Prefill = {};
  for (const k of KEYS) {
    const value = clean(p[k]);
    if (value !== undefined) out[k] = k === 'currency' ? value.toUpperCase() : value;
  }
  return out;
}

/** True when a message from `origin` may prefill: our own origin or one the gateway lists. */
export function originAllowed(origin: string, own: string, allowed: readonly string[]): boolean {
  return origin === own || allowed.includes(origin);
}

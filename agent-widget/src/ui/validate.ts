/**
 * Client-side checks of the Pay-by-phone form, mirroring the gateway's handoff validation
 * (server/src/handoff/transaction.ts) so the agent hears about a typo before the REFER is refused.
 * The gateway stays the authority: its 400 + Warning is shown as well.
 */
export interface PaymentForm {
  amount: string;
  currency: string;
  orderRef: string;
  customerMobile: string;
  merchantId: string;
}

export type PaymentField = keyof PaymentForm;
export type FormErrors = Partial<Record<PaymentField, string>>;

/** Currencies offered in the form (all with 2 minor units). INR first: the default. */
export const CURRENCIES = ['INR', 'USD', 'EUR', 'GBP', 'AED', 'SGD'] as const;
const MAX_CENTS = 100_000_000; // 1000000.00, the gateway's default maximum
const AMOUNT = /^(0|[1-9]\d{0,11})(?:\.(\d{1,2}))?$/;
const REF = /^[A-Za-z0-9][A-Za-z0-9._:/-]{0,63}$/;
const E164 = /^\+[1-9]\d{6,14}$/;

/** Amount as the gateway wants it (`1499` -> `1499.00`); null when it is not a valid amount. */
export function normaliseAmount(raw: string): string | null {
  const m = AMOUNT.exec(raw.trim().replace(/,/g, ''));
  if (!m) return null;
  return `${m[1]}.${(m[2] ?? '').padEnd(2, '0')}`;
}

/** Mobile without spaces, dashes or brackets (`+91 98000 00001` -> `+919800000001`). */
export function normaliseMobile(raw: string): string {
  return raw.replace(/[\s().-]/g, '');
}

export function validatePayment(f: PaymentForm): FormErrors {
  const errors: FormErrors = {};
  const amount = f.amount.trim();
  if (!amount) errors.amount = 'Enter the amount';
  else {
    const norm = normaliseAmount(amount);
    if (norm === null) errors.amount = 'Use digits with at most 2 decimals, e.g. 1499.00';
    else {
      const [units, cents] = norm.split('.') as [string, string];
      const total = Number(units) * 100 + Number(cents);
      if (total <= 0) errors.amount = 'The amount must be greater than 0';
      else if (total > MAX_CENTS) errors.amount = 'The amount must be at most 1,000,000.00';
    }
  }
  if (!(CURRENCIES as readonly string[]).includes(f.currency)) errors.currency = 'Choose a currency';
  const orderRef = f.orderRef.trim();
  if (!orderRef) errors.orderRef = 'Enter the order reference';
  else if (!REF.test(orderRef)) errors.orderRef = 'Use up to 64 letters, digits and . _ : / -';
  const mobile = normaliseMobile(f.customerMobile);
  if (!mobile) errors.customerMobile = "Enter the customer's mobile number";
  else if (!E164.test(mobile)) errors.customerMobile = 'Use international format, e.g. +919800000001';
  const merchantId = f.merchantId.trim();
  if (!merchantId) errors.merchantId = 'Enter the merchant ID';
  else if (!REF.test(merchantId)) errors.merchantId = 'Use up to 64 letters, digits and . _ : / -';
  return errors;
}

import type { Transaction } from '../handoff/index.js';
import { maskMobile } from '../providers/sms-client.js';
import type { Logger } from '../observability/logger.js';
import { errorCode } from './session-ops.js';
import type { CaptureSms, ReceiptSmsTemplate } from './port.js';

/** Placeholders and vars must agree, and the card may appear only as its last 4 digits (checked at construction). */
export function assertReceiptTemplate(t: ReceiptSmsTemplate): void {
  const placeholders = t.template.text.split('{#var#}').length - 1;
  if (placeholders !== t.vars.length) throw new RangeError(`receipt template has ${placeholders} placeholders but ${t.vars.length} vars`);
}

/**
 * The receipt SMS after `paid` (DLT template of kind `receipt`): amount, order reference, payment
 * reference and the card's last 4 digits, never more of it (PCI DSS v4.0 req. 3.4.1). Sent once,
 * after the outcome; a failure is logged and changes nothing about the payment.
 */
export async function sendReceipt(
  sms: CaptureSms,
  t: ReceiptSmsTemplate,
  txn: Transaction,
  paid: { readonly last4: string; readonly paymentId: string },
  log: Logger,
): Promise<boolean> {
  const vars = t.vars.map((v) => (v === 'last4' ? paid.last4 : v === 'paymentId' ? paid.paymentId : txn[v]));
  try {
    const sent = await sms.send({ to: txn.customerMobile, template: t.template, vars });
    log.info({ to: maskMobile(txn.customerMobile), templateId: t.template.templateId, route: sent.route }, 'receipt sms sent');
    return true;
  } catch (err) {
    log.warn({ to: maskMobile(txn.customerMobile), templateId: t.template.templateId, code: errorCode(err) }, 'receipt sms not sent');
    return false;
  }
}

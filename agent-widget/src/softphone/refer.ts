import type { PromptLanguage } from '../../../server/src/contract/events.js';

/**
 * The payment handoff as SIP: X-Pay-* headers for the REFER (docs/architecture.md "Handoff headers", profile
 * `generic`) and the sipfrag bodies of the NOTIFYs that follow (RFC 3515 2.4.5, RFC 3420).
 */
export interface Handoff {
  amount: string;
  currency: string;
  merchantId: string;
  orderRef: string;
  customerMobile: string;
  agentId: string;
  language?: PromptLanguage;
}

export type ReferProgress =
  | { stage: 'sent' }
  | { stage: 'accepted'; code: number }
  | { stage: 'rejected'; code: number; reason: string; warning?: string; retryAfter?: string }
  | { stage: 'progress' | 'done'; code: number; reason: string };

export function handoffHeaders(h: Handoff): string[] {
  return [
    `X-Pay-Amount: ${h.amount}`,
    `X-Pay-Currency: ${h.currency}`,
    `X-Pay-Merchant-Id: ${h.merchantId}`,
    `X-Pay-Order-Ref: ${h.orderRef}`,
    `X-Pay-Customer-Mobile: ${h.customerMobile}`,
    `X-Pay-Agent-Id: ${h.agentId}`,
    `X-Pay-Language: ${h.language ?? 'en'}`,
  ];
}

/** Status line of a `message/sipfrag` body (`SIP/2.0 200 OK`), or null when it is not one. */
export function parseSipfrag(body: string): { code: number; reason: string } | null {
  const m = /^SIP\/2\.0\s+(\d{3})\s*([^\r\n]*)/.exec(body.trimStart());
  return m ? { code: Number(m[1]), reason: m[2]!.trim() } : null;
}

/**
 * The text of a Warning header (RFC 3261 20.43: `399 host "amount: must be greater than 0"`):
 * the quoted warn-text, unescaped; the whole value when it has no quoted part.
 */
export function warningText(warning: string): string {
  const m = /"((?:[^"\\]|\\.)*)"/.exec(warning);
  return m ? m[1]!.replace(/\\(.)/g, '$1') : warning.trim();
}

/**
 * What the agent reads when the REFER is refused: `503` with `Retry-After` is the gateway refusing
 * new payments for load (RFC 3261 21.5.4; docs/operations.md, "Overload"), and the call goes on;
 * otherwise the Warning text, or the status line.
 */
export function referRefusalText(r: { code: number; reason: string; warning?: string; retryAfter?: string }): string {
  const after = r.retryAfter !== undefined ? /^\s*(\d+)/.exec(r.retryAfter)?.[1] : undefined; // RFC 3261 20.33: delta-seconds first
  if (r.code === 503 && after !== undefined) return `Payments busy, try again in ${Number(after)} s`;
  return r.warning ? warningText(r.warning) : `${r.code} ${r.reason}`.trim();
}

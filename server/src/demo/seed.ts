/** Test cards of the demo provider (design.md, "External contract", Demo provider). */
export const DEMO_CARDS = {
  /** Declined (do not honour). */
  decline: '4000000000000002',
  /** The payment answers HTTP 500 (nothing recorded). */
  serverError: '4000000000000119',
  /** The payment never answers (recorded as pending; the request is held until the client gives up). */
  noAnswer: '4000000000000259',
  /** 429 with Retry-After twice per Idempotency-Key, then approved. */
  rateLimited: '4000000000000333',
} as const;

export interface DemoTransaction {
  readonly ref: string;
  readonly amount: string;
  readonly currency: string;
  readonly merchantId: string;
  readonly orderRef: string;
  readonly customerMobile: string;
}

/** Seeded references for `GET /v1/transactions/:ref` (the `reference` handoff profile). */
export const DEMO_TRANSACTIONS: readonly DemoTransaction[] = [
  { ref: 'TXN-1001', amount: '1499.00', currency: 'INR', merchantId: 'M-DEMO-01', orderRef: 'ORD-1001', customerMobile: '+919800000001' },
  { ref: 'TXN-1002', amount: '250.50', currency: 'INR', merchantId: 'M-DEMO-01', orderRef: 'ORD-1002', customerMobile: '+919800000002' },
  { ref: 'TXN-1003', amount: '12000.00', currency: 'INR', merchantId: 'M-DEMO-02', orderRef: 'ORD-1003', customerMobile: '+919800000003' },
  { ref: 'TXN-2001', amount: '89.99', currency: 'USD', merchantId: 'M-DEMO-03', orderRef: 'ORD-2001', customerMobile: '+919800002001' },
];

import { createHmac, randomBytes } from 'node:crypto';
import { mayStartPayment, plainAddress, type PeerSource } from '../security/peers.js';
import { KeyedRateLimit } from '../security/rate-limit.js';
import type { RateSpec, TrustConfig, VelocityKey } from '../security/trust-config.js';
import { MemoryNonceGuard, type NonceGuard } from './signature-v2.js';

/**
 * Who may start a payment and how often (docs/security.md, "Trust boundary" and "Velocity"). The
 * payment entry asks {@link PaymentAdmission.startRefusal} before anything exists (no RTP port, no
 * session), {@link PaymentAdmission.transactionRefusal} once the handoff is read and before any
 * SMS, and {@link PaymentAdmission.cardRefusal} once the card number is keyed. Each refusal has a
 * reason that goes into `tonegate_refusals_total{reason}` and a Warning text for the SIP answer.
 */
export type RefusalReason =
  | 'untrusted-peer'
  | 'mobile-country'
  | 'velocity-source'
  | 'velocity-merchant'
  | 'velocity-mobile'
  | 'velocity-card';

export interface Refusal {
  readonly status: 403;
  readonly reason: RefusalReason;
  /** For a SIP `Warning` (RFC 3261 20.43) or a log line; never holds card data. */
  readonly text: string;
}

/** Where an admitted handoff came from, for the audit trail. */
export interface AdmittedSource {
  readonly address: string;
  readonly protocol: string;
  /** TLS: the `sha256:` fingerprint of the client certificate the peer presented, if any. */
  readonly certificate?: string;
}

export interface AdmissionOptions {
  readonly trust: TrustConfig;
  /** Milliseconds. */
  readonly now: () => number;
  /** v2 nonces (Redis-backed when the gateway has Redis). Default: memory. */
  readonly nonces?: NonceGuard;
  /** Key for the card velocity HMAC; random per instance when absent (then it counts per instance). */
  readonly cardKey?: Buffer;
  readonly onRefusal?: (r: Refusal, source: string | undefined) => void;
  /** A handoff passed every check (for the audit trail: the SIP source and transport of each session). */
  readonly onAdmitted?: (txn: { readonly merchantId: string; readonly orderRef?: string }, source: AdmittedSource | undefined) => void;
}

const TEXT: Record<RefusalReason, string> = {
  'untrusted-peer': 'this source may not start payments (TRUSTED_PEERS)',
  'mobile-country': 'X-Pay-Customer-Mobile: country code not allowed (ALLOWED_MOBILE_PREFIXES)',
  'velocity-source': 'too many payments from this source; retry later',
  'velocity-merchant': 'too many payments for this merchant; retry later',
  'velocity-mobile': 'too many payments for this mobile; retry later',
  'velocity-card': 'too many payments with this card; retry later',
};

export class PaymentAdmission {
  readonly nonces: NonceGuard;
  readonly #limits: Partial<Record<VelocityKey, KeyedRateLimit>> = {};
  readonly #cardKey: Buffer;

  constructor(private readonly o: AdmissionOptions) {
    this.nonces = o.nonces ?? new MemoryNonceGuard(o.now);
    this.#cardKey = o.cardKey ?? randomBytes(32);
    for (const [k, spec] of Object.entries(o.trust.velocity) as [VelocityKey, RateSpec][]) {
      this.#limits[k] = new KeyedRateLimit({ ratePerS: (spec.count * 1000) / spec.periodMs, burst: spec.count, now: o.now });
    }
  }

  /** What extractHandoff needs for signatures (production: v2 required). */
  get handoffDeps(): { nonces: NonceGuard; requireSignatureV2: boolean } {
    return { nonces: this.nonces, requireSignatureV2: this.o.trust.requireSignature };
  }

  /** Before anything is allocated: TRUSTED_PEERS, then the per-source velocity. */
  startRefusal(source: PeerSource): Refusal | undefined {
    const addr = plainAddress(source.remote.address);
    if (!mayStartPayment(source, this.o.trust.trustedPeers).ok) return this.#refuse('untrusted-peer', addr);
    if (this.#limits.source && !this.#limits.source.take(addr)) return this.#refuse('velocity-source', addr);
    return undefined;
  }

  /** True when the mobile's country is allowed (ALLOWED_MOBILE_PREFIXES); counts nothing. */
  mobileAllowed(mobile: string): boolean {
    return this.o.trust.mobilePrefixes.some((p) => mobile.startsWith(p));
  }

  /** After the handoff is read, before the call is answered or any SMS: mobile country, merchant and mobile velocity. */
  transactionRefusal(txn: { readonly merchantId: string; readonly customerMobile: string; readonly orderRef?: string }, source?: PeerSource): Refusal | undefined {
    const addr = source ? plainAddress(source.remote.address) : undefined;
    if (!this.mobileAllowed(txn.customerMobile)) return this.#refuse('mobile-country', addr);
    if (this.#limits.merchant && !this.#limits.merchant.take(txn.merchantId)) return this.#refuse('velocity-merchant', addr);
    if (this.#limits.mobile && !this.#limits.mobile.take(txn.customerMobile)) return this.#refuse('velocity-mobile', addr);
    try {
      const certificate = source?.tlsPeer?.fingerprint;
      this.o.onAdmitted?.(txn, addr !== undefined && source ? { address: addr, protocol: source.protocol, ...(certificate ? { certificate } : {}) } : undefined);
    } catch {
      // never changes the decision
    }
    return undefined;
  }

  /**
   * Once the card number is keyed: the card's velocity, keyed by HMAC-SHA256 of the PAN (never
   * the PAN itself; docs/security.md, PCI DSS 3.5.1). `pan` is read, not kept.
   */
  cardRefusal(pan: string | Uint8Array): Refusal | undefined {
    const limit = this.#limits.card;
    if (!limit) return undefined;
    const key = createHmac('sha256', this.#cardKey).update(pan).digest('base64url');
    return limit.take(key) ? undefined : this.#refuse('velocity-card', undefined);
  }

  #refuse(reason: RefusalReason, source: string | undefined): Refusal {
    const r: Refusal = { status: 403, reason, text: TEXT[reason] };
    try {
      this.o.onRefusal?.(r, source);
    } catch {
      // A metrics or audit listener never changes the decision.
    }
    return r;
  }
}

/** The SIP Warning value for a refusal (RFC 3261 20.43: code 399, agent, quoted text). */
export function refusalWarning(r: Refusal): string {
  return `Warning: 399 tonegate "${r.text}"`;
}

import { PaymentAdmission } from '../handoff/admission.js';
import type { AuditLog } from '../observability/audit.js';
import type { Logger } from '../observability/logger.js';
import type { Metrics } from '../observability/metrics.js';
import { SignInLockout, type LockoutEvent } from '../security/lockout.js';
import type { TrustConfig } from '../security/trust-config.js';

/**
 * The trust boundary's parts wired to the audit trail, the metrics and the logs (docs/security.md):
 * the sign-in lockout shared by SIP REGISTER and the HTTP login, and the payment admission
 * (TRUSTED_PEERS, mobile countries, velocity, production signatures).
 */
export interface TrustParts {
  readonly lockout: SignInLockout;
  readonly admission: PaymentAdmission;
  /** For the SIP edge guard and the socket caps: counts and logs one refusal. */
  refused(reason: string, source: string | undefined): void;
}

export function wireTrust(o: {
  readonly trust: TrustConfig;
  readonly audit: AuditLog;
  readonly metrics: Metrics;
  readonly logger: Logger;
  /** Redis `SET NX EX` when the gateway has Redis (store/backend.ts). */
  readonly claimOnce?: ((key: string, ttlSeconds: number) => Promise<boolean>) | undefined;
}): TrustParts {
  const { audit, metrics, logger } = o;
  const refused = (reason: string, source: string | undefined): void => {
    metrics.refusals.inc({ reason });
    logger.info({ reason, source }, 'refused at the trust boundary');
  };
  const lockout = new SignInLockout({
    now: Date.now,
    onEvent: (e: LockoutEvent) => {
      // Every failure, refusal, lock and unlock is audited with its source (PCI DSS 10.2.1.4).
      audit.record({
        actor: { kind: 'anonymous', id: e.user.slice(0, 64) },
        action: `signin.${e.kind}`,
        target: { type: 'agent', id: e.user.slice(0, 64) },
        outcome: e.kind === 'unlocked' || e.kind === 'success' ? 'success' : 'denied',
        source: e.source,
        details: { channel: e.channel, failures: e.failures, ...(e.reason ? { reason: e.reason } : {}) },
      });
      if (e.kind === 'refused') refused('signin-locked', e.source);
      if (e.kind === 'locked') logger.warn({ user: e.user, source: e.source, channel: e.channel }, 'sign-in locked for 30 minutes after repeated failures');
    },
  });
  const admission = new PaymentAdmission({
    trust: o.trust,
    now: Date.now,
    ...(o.claimOnce ? { nonces: { claim: o.claimOnce } } : {}),
    onAdmitted: (txn, source) =>
      audit.record({
        actor: { kind: 'system' },
        action: 'payment.admitted',
        ...(txn.orderRef ? { target: { type: 'order', id: txn.orderRef.slice(0, 64) } } : {}),
        outcome: 'success',
        ...(source ? { source: source.address } : {}),
        details: { merchantId: txn.merchantId.slice(0, 64), ...(source ? { transport: source.protocol } : { via: 'refer' }), ...(source?.certificate ? { certificate: source.certificate } : {}) },
      }),
    onRefusal: (r, source) => {
      refused(r.reason, source);
      audit.record({ actor: { kind: 'anonymous' }, action: 'payment.refused', outcome: 'denied', ...(source ? { source } : {}), details: { reason: r.reason } });
    },
  });
  return { lockout, admission, refused };
}

/** `/healthz` pressure (docs/security.md): degraded at 90 % of the RTP port pairs or of the SIP connections. */
export function pressure(ports: { allocated: number; capacity: number } | undefined, sockets: { open: number; max: number } | undefined): { reasons: string[]; details: Record<string, unknown> } {
  const reasons: string[] = [];
  if (ports && ports.allocated >= 0.9 * ports.capacity) reasons.push(`rtp ports: ${ports.allocated} of ${ports.capacity} pairs in use`);
  if (sockets && sockets.open >= 0.9 * sockets.max) reasons.push(`sip connections: ${sockets.open} of ${sockets.max} open`);
  return { reasons, details: { ...(ports ? { rtpPorts: ports } : {}), ...(sockets ? { sipConnections: sockets } : {}) } };
}

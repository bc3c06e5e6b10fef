import type { HealthSource } from '../api/http.js';
import type { SessionEvent } from '../capture/events.js';
import type { CallManager } from '../calls/call-manager.js';
import type { LoadMonitor } from '../calls/load/monitor.js';
import type { PaymentCalls } from '../calls/payment/entry.js';
import type { Registrar } from '../calls/registrar/index.js';
import type { MediaPlane } from '../media/plane.js';
import type { OpenedAudit } from '../observability/audit-open.js';
import { TransportLimits } from '../sip/constants.js';
import type { SipStack } from '../sip/stack.js';
import type { StoreBackend } from '../store/index.js';
import { pressure } from './trust.js';

/**
 * `GET /healthz` (docs/operations.md): `ok`, or `degraded` (503) with the reasons: Redis down
 * (captures go on from memory), RTP port pairs or SIP connections near their limits, a load limit
 * reached (new work gets 503), the audit export failing (PCI DSS 10.7). The HTTP listener opens
 * only once every part is up, so a client that sees an answer may use every path at once.
 */
export function gatewayHealth(p: {
  readonly backend: StoreBackend<SessionEvent>;
  readonly auditTrail: OpenedAudit;
  readonly registrar: Registrar;
  readonly sip: SipStack;
  readonly media: MediaPlane;
  readonly load: LoadMonitor;
  readonly calls: CallManager;
  readonly paymentCalls: PaymentCalls;
}): HealthSource {
  return {
    health: () => {
      const redis = p.backend.redis();
      const sipStats = p.sip.transport.stats();
      const press = pressure(p.media.ports(), { open: sipStats.connections, max: TransportLimits.MAX_CONNECTIONS });
      for (const r of p.load.reached()) press.reasons.push(`load: ${r.text}`);
      const exportHealth = p.auditTrail.syslog?.health();
      if (exportHealth?.reason) press.reasons.push(exportHealth.reason);
      return {
        status: (redis && redis.state !== 'up') || press.reasons.length ? 'degraded' : 'ok',
        details: {
          calls: p.calls.calls.size, payments: p.paymentCalls.live.size, registered: p.registrar.registeredAors().length, sip: p.sip.stats(),
          store: p.backend.kind, ...(redis ? { redis } : {}), ...press.details, ...exportHealth?.details, ...(press.reasons.length ? { reasons: press.reasons } : {}),
        },
      };
    },
  };
}

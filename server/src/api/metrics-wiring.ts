import { Router } from 'express';
import type { SessionEvent } from '../capture/events.js';
import type { Metrics } from '../observability/metrics.js';
import type { EventBus, SessionStore } from '../store/index.js';

/** `GET /metrics` in the Prometheus text format. */
export function metricsRouter(metrics: Metrics): Router {
  const r = Router();
  r.get('/metrics', async (_req, res, next) => {
    try {
      const body = await metrics.metrics();
      res.set('Content-Type', metrics.registry.contentType).send(body);
    } catch (err) {
      next(err);
    }
  });
  return r;
}

/**
 * Outcomes and digits from this instance's capture events (no counters inside capture/): digits
 * are counted per session from `digit.entered` and, when the session ends, added under the DTMF
 * transport its record names.
 */
export function countCaptures(metrics: Metrics, bus: EventBus<SessionEvent>, store: SessionStore): Promise<unknown> {
  const digits = new Map<string, number>();
  return bus.subscribe(
    (e) => {
      if (e.type === 'digit.entered') digits.set(e.sessionId, (digits.get(e.sessionId) ?? 0) + 1);
      else if (e.type === 'session.ended') {
        metrics.outcomes.inc({ outcome: e.outcome });
        const n = digits.get(e.sessionId) ?? 0;
        digits.delete(e.sessionId);
        if (n > 0) {
          void store.get(e.sessionId).then(
            (r) => metrics.digits.inc({ transport: r?.dtmfTransport ?? 'unknown' }, n),
            () => metrics.digits.inc({ transport: 'unknown' }, n),
          );
        }
      }
    },
    { localOnly: true },
  );
}

import { Router } from 'express';
import { bearer, sameSecret } from '../api/auth.js';
import type { SessionEvent } from '../capture/events.js';
import type { Payments } from '../calls/payment/setup.js';
import type { MediaStats } from '../media/plane.js';
import type { Metrics } from '../observability/metrics.js';
import type { EventBus, SessionStore } from '../store/index.js';

/**
 * `GET /metrics` in the Prometheus text format. With `token`, only for `Authorization: Bearer
 * <token>` (401 otherwise); `served: false` answers 404 (production without a token serves it on
 * the internal listener only, docs/security.md).
 */
export function metricsRouter(metrics: Metrics, opts: { token?: string; served?: boolean } = {}): Router {
  const r = Router();
  r.get('/metrics', async (req, res, next) => {
    if (opts.served === false) return void res.status(404).json({ error: 'not-found', message: 'metrics are served on the internal listener (METRICS_HOST:METRICS_PORT) or with METRICS_TOKEN' });
    if (opts.token !== undefined) {
      const t = bearer(req);
      if (t === undefined || !sameSecret(t, opts.token)) return void res.status(401).set('WWW-Authenticate', 'Bearer').json({ error: 'unauthorized', message: 'metrics need Authorization: Bearer <METRICS_TOKEN>' });
    }
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

/** One breaker gauge per named provider (`payment` for the single provider `default`: calls/payment/providers-setup.ts), and the SMS routes'. */
export function providerBreakers(p: Payments): Record<string, string> {
  const named = Object.fromEntries([...p.providers.values()].map((n) => [n.name === 'default' ? 'payment' : n.name, n.client.breaker.state]));
  return { ...named, payment: p.payment.breaker.state, ...p.sms.breakerStates() };
}

/**
 * `read` shared by the callers of one moment: a call while an answer is pending gets that answer,
 * and the next call after it settled asks again. One `/metrics` scrape reads both the RTP totals and
 * the workers' memory from the media workers' `stats`: one round trip to every worker, not two.
 */
export function onePerScrape<T>(read: () => Promise<T>): () => Promise<T> {
  let pending: Promise<T> | undefined;
  return () => (pending ??= read().finally(() => setImmediate(() => (pending = undefined))));
}

/** The media workers' RTP totals, summed over the workers (`/metrics` re-reads them on each scrape). */
export function rtpTotals(st: MediaStats): { packetsIn: number; packetsOut: number; lost: number; wrongSource: number } {
  const out = { packetsIn: 0, packetsOut: 0, lost: 0, wrongSource: 0 };
  for (const w of st.workers) {
    out.packetsIn += w.rtp?.packetsIn ?? 0;
    out.packetsOut += w.rtp?.packetsOut ?? 0;
    out.lost += w.rtp?.lost ?? 0;
    out.wrongSource += w.rtp?.wrongSource ?? 0;
  }
  return out;
}

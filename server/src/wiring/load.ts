import { Counter, Gauge } from 'prom-client';
import type { LoadLimits } from '../calls/load/decide.js';
import { LoadMonitor, type LoadSources } from '../calls/load/monitor.js';
import type { Config } from '../config/schema.js';
import type { Logger } from '../observability/logger.js';
import type { Metrics } from '../observability/metrics.js';

/**
 * The limits of load admission from the settings (docs/operations.md, "Overload"). Derived from the
 * machine where unset: the RTP reserve is 5 % of the configured port pairs (at least 2), so it grows
 * with the range the operator gave the gateway; held calls and captures have no fixed count unless
 * MAX_CALLS / MAX_CAPTURES say so (the port, media-worker and event-loop measures stand for the
 * machine's capacity instead, whatever its core count).
 */
export function loadLimits(config: Pick<Config, 'MAX_CALLS' | 'MAX_CAPTURES' | 'ADMIT_RTP_RESERVE' | 'ADMIT_MEDIA_BUSY' | 'ADMIT_LOOP_LAG_MS' | 'ADMIT_RETRY_AFTER_S'>, portPairs: number): LoadLimits {
  return {
    maxCalls: config.MAX_CALLS,
    maxCaptures: config.MAX_CAPTURES,
    rtpReservePairs: config.ADMIT_RTP_RESERVE ?? Math.max(2, Math.ceil(portPairs * 0.05)),
    mediaBusy: config.ADMIT_MEDIA_BUSY,
    loopLagMs: config.ADMIT_LOOP_LAG_MS,
    retryAfterS: config.ADMIT_RETRY_AFTER_S,
  };
}

/**
 * The load monitor wired to `/metrics` (a gauge per measure and per limit, a counter of refusals by
 * reason) and to the logs. The gateway calls `start()` once every part its sources read exists,
 * and `stop()` on close.
 */
export function wireLoad(o: { config: Config; sources: LoadSources; portPairs: number; metrics: Metrics; logger: Logger }): LoadMonitor {
  const registers = [o.metrics.registry];
  const refusals = new Counter({ name: 'tonegate_load_refusals_total', help: 'New INVITEs and payment REFERs refused with 503 for load, by the limit reached', labelNames: ['reason'], registers });
  const monitor = new LoadMonitor({
    sources: o.sources,
    limits: loadLimits(o.config, o.portPairs),
    onRefused: (r, kind) => {
      refusals.inc({ reason: r.reason });
      o.logger.warn({ reason: r.reason, kind, why: r.text }, 'refused for load (503)');
    },
  });
  new Gauge({
    name: 'tonegate_load',
    help: 'Load measures admission decides on: calls, captures, rtp_free_pairs, media_busy (0-1, busiest worker), loop_lag_ms (p99 over the last second)',
    labelNames: ['measure'],
    registers,
    collect() {
      const m = monitor.measures();
      this.set({ measure: 'calls' }, m.calls);
      this.set({ measure: 'captures' }, m.captures);
      if (Number.isFinite(m.freePortPairs)) this.set({ measure: 'rtp_free_pairs' }, m.freePortPairs);
      this.set({ measure: 'media_busy' }, m.mediaBusy);
      this.set({ measure: 'loop_lag_ms' }, m.loopLagMs);
    },
  });
  new Gauge({
    name: 'tonegate_load_limit',
    help: 'The limit of each load measure (calls and captures only when MAX_CALLS / MAX_CAPTURES are set; rtp_free_pairs is the reserve kept)',
    labelNames: ['measure'],
    registers,
    collect() {
      const l = monitor.limits;
      if (l.maxCalls !== undefined) this.set({ measure: 'calls' }, l.maxCalls);
      if (l.maxCaptures !== undefined) this.set({ measure: 'captures' }, l.maxCaptures);
      this.set({ measure: 'rtp_free_pairs' }, l.rtpReservePairs);
      this.set({ measure: 'media_busy' }, l.mediaBusy);
      this.set({ measure: 'loop_lag_ms' }, l.loopLagMs);
    },
  });
  return monitor;
}
